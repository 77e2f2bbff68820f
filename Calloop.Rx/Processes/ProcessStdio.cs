namespace Calloop.Rx;

/// <summary>What one of a started child's standard fds (stdin, stdout, stderr) is connected to.</summary>
public enum ProcessStdio
{
    /// <summary>A pipe to the loop: <see cref="ChildProcess.StandardInput"/>, <see cref="ChildProcess.StandardOutput"/> or <see cref="ChildProcess.StandardError"/>.</summary>
    Pipe,

    /// <summary>This process's own fd of the same number (the terminal, say).</summary>
    Inherit,

    /// <summary><c>/dev/null</c>: the child reads end of file, and what it writes is discarded.</summary>
    Null,
}
