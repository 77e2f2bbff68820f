using System.Runtime.InteropServices;

namespace Calloop.Rx;

/// <summary>
/// A system call the loop depends on failed. Carries the errno, its text, and the fd and source involved, so
/// the message alone says what went wrong (for example <c>epoll_ctl(ADD) failed for fd 7 (Fd): EEXIST (17) File exists</c>).
/// </summary>
public sealed class LoopException : IOException
{
    /// <summary>Creates an exception for a failed call.</summary>
    /// <param name="operation">The call that failed, e.g. <c>epoll_ctl(ADD)</c>.</param>
    /// <param name="errno">The errno it reported.</param>
    /// <param name="fd">The fd involved, or -1.</param>
    /// <param name="source">A description of the event source involved, or null.</param>
    public LoopException(string operation, int errno, int fd = -1, string? source = null)
        : base(Format(operation, errno, fd, source))
    {
        Operation = operation;
        Errno = errno;
        Fd = fd;
        SourceName = source;
        HResult = errno;
    }

    /// <summary>The system call that failed.</summary>
    public string Operation { get; }

    /// <summary>The errno reported by the call.</summary>
    public int Errno { get; }

    /// <summary>The text of <see cref="Errno"/> (strerror).</summary>
    public string ErrorText => Marshal.GetPInvokeErrorMessage(Errno);

    /// <summary>The fd involved, or -1 when none was.</summary>
    public int Fd { get; }

    /// <summary>The event source involved (for example <c>Fd</c>, <c>Ping</c>), or null.</summary>
    public string? SourceName { get; }

    private static string Format(string operation, int errno, int fd, string? source)
    {
        string where = fd >= 0 ? $" for fd {fd}" : string.Empty;
        string who = source is null ? string.Empty : $" ({source})";
        return $"{operation} failed{where}{who}: errno {errno}, {Marshal.GetPInvokeErrorMessage(errno)}";
    }
}
