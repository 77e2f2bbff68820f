using System.Collections;

namespace Calloop.Rx;

/// <summary>What <see cref="EventLoop.StartProcess(ProcessStartOptions)"/> starts: the program, its arguments, environment, working directory and standard fds.</summary>
/// <remarks>Read once, when the process is started; changing the options afterwards affects only later starts.</remarks>
public sealed class ProcessStartOptions
{
    /// <summary>Options to start <paramref name="fileName"/> with <paramref name="arguments"/> and this process's environment.</summary>
    /// <param name="fileName">A path (containing a slash; a relative one is taken from <see cref="WorkingDirectory"/> when set), or a bare name looked up in this process's <c>PATH</c>.</param>
    /// <param name="arguments">The arguments after the program's name (the child's <c>argv[0]</c> is <paramref name="fileName"/>); passed as they are, without a shell.</param>
    /// <exception cref="ArgumentException"><paramref name="fileName"/> is empty.</exception>
    public ProcessStartOptions(string fileName, params IEnumerable<string> arguments)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        FileName = fileName;
        Arguments = [.. arguments];
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            Environment[(string)entry.Key] = (string?)entry.Value ?? string.Empty;
        }
    }

    /// <summary>The program to run.</summary>
    public string FileName { get; }

    /// <summary>The arguments after the program's name; may be changed before the start.</summary>
    public IList<string> Arguments { get; }

    /// <summary>The child's environment, a copy of this process's to begin with; add, change or remove entries before the start.</summary>
    public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The directory the child starts in; null (the default) for this process's current directory.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>The child's stdin; <see cref="ProcessStdio.Null"/> by default, so a child that reads it sees end of file instead of waiting for input nobody sends.</summary>
    public ProcessStdio StandardInput { get; set; } = ProcessStdio.Null;

    /// <summary>The child's stdout; <see cref="ProcessStdio.Pipe"/> by default.</summary>
    public ProcessStdio StandardOutput { get; set; } = ProcessStdio.Pipe;

    /// <summary>The child's stderr; <see cref="ProcessStdio.Pipe"/> by default.</summary>
    public ProcessStdio StandardError { get; set; } = ProcessStdio.Pipe;

    /// <summary>
    /// How many chunks sent to <see cref="ChildProcess.StandardInput"/> may wait on top of what the kernel's pipe
    /// holds (64 KiB) before senders meet back pressure; 16 by default. Must be at least 1.
    /// </summary>
    public int InputCapacity
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 16;
}
