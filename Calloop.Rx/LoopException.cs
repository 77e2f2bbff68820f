using System.Runtime.InteropServices;
using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// A system call the loop depends on failed. Carries the errno, its text, and the fd and source involved, so the
/// message alone says what went wrong, in words first (for example <c>fd 7 is already registered with this loop
/// (Fd 7): epoll_ctl(ADD) failed, errno 17, File exists</c>).
/// </summary>
public sealed class LoopException : IOException
{
    internal LoopException(string operation, int errno, int fd = -1, string? source = null)
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
        string who = source is null ? string.Empty : $" ({source})";
        string call = $"{operation} failed, errno {errno}, {Marshal.GetPInvokeErrorMessage(errno)}";
        return Describe(operation, errno, fd) is { } words
            ? $"{words}{who}: {call}"
            : $"{call}{(fd >= 0 ? $" for fd {fd}" : string.Empty)}{who}";
    }

    /// <summary>What the common refusals of an fd registration mean for the caller, or null for the others.</summary>
    private static string? Describe(string operation, int errno, int fd)
    {
        if (operation == "inotify_add_watch" && errno == Inotify.ENOSPC)
        {
            return "the per-user inotify watch limit (fs.inotify.max_user_watches; user.max_inotify_watches in a user namespace) is reached";
        }

        if (operation == "inotify_init1" && errno == Inotify.EMFILE)
        {
            return "the per-user inotify instance limit (fs.inotify.max_user_instances) is reached";
        }

        if (operation == "pidfd_open" && errno == Pidfd.ESRCH)
        {
            return "no such process (it never existed, or it exited and was reaped)";
        }

        if (operation == "waitid(P_PIDFD)" && errno == Pidfd.ECHILD)
        {
            return "not a child of this process (only a parent can read a process's exit status)";
        }

        if (fd < 0 || !operation.StartsWith("epoll_ctl", StringComparison.Ordinal))
        {
            return null;
        }

        if (errno == Sys.EEXIST)
        {
            return $"fd {fd} is already registered with this loop";
        }

        if (errno == Sys.EPERM)
        {
            return $"fd {fd} cannot be polled (regular files and directories are always ready, so epoll refuses them)";
        }

        if (errno == Sys.EBADF)
        {
            return $"fd {fd} is not open";
        }

        return errno == Sys.ENOENT ? $"fd {fd} is not registered with this loop (it was closed while registered)" : null;
    }
}
