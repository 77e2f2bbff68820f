using Calloop.Rx.Interop;

namespace Calloop.Rx;

public sealed partial class EventLoop
{
    /// <summary>
    /// Watches process <paramref name="pid"/> for its exit, over a pidfd opened now; see <see cref="ProcessExitSource"/>.
    /// Make the watch while the process cannot have been reaped yet (for a child, before it can have exited, or while
    /// the status is still uncollected): a process number is only unique until then.
    /// </summary>
    /// <param name="pid">The process id, greater than 0.</param>
    /// <returns>The source; it delivers one <see cref="ProcessExit"/> on the loop thread, then completes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pid"/> is 0 or negative.</exception>
    /// <exception cref="LoopException">pidfd_open refused: <see cref="LoopException.Errno"/> is ESRCH (3) when no such
    /// process exists (it never did, or it exited and was reaped); ENOSYS before Linux 5.3; EMFILE when out of fds.
    /// The message names the pid.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public ProcessExitSource WatchProcess(int pid)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        ThrowIfDisposed();
        int fd = Pidfd.Open(pid);
        if (fd < 0)
        {
            throw new LoopException("pidfd_open", Sys.Errno, -1, $"Process {pid}");
        }

        return Track(new ProcessExitSource(this, pid, new FdHandle(fd)));
    }
}
