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
    /// Or the process is not a child of this one (ECHILD, 10, from <c>waitid</c>), whose exit status this process can
    /// never read. The message names the pid.</exception>
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

        var pidfd = new FdHandle(fd);
        if (Pidfd.IsNotOurChild(fd))
        {
            pidfd.Dispose();
            throw new LoopException("waitid(P_PIDFD)", Pidfd.ECHILD, -1, $"Process {pid}");
        }

        return Track(new ProcessExitSource(this, pid, pidfd));
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/> as a child of this process, with its
    /// stdout and stderr piped to the loop and its stdin on /dev/null; see
    /// <see cref="StartProcess(ProcessStartOptions)"/>.
    /// </summary>
    /// <param name="fileName">A path, or a bare name looked up in this process's <c>PATH</c>.</param>
    /// <param name="arguments">The arguments after the program's name, passed without a shell.</param>
    /// <returns>The child.</returns>
    /// <exception cref="LoopException">The child could not be started; see <see cref="StartProcess(ProcessStartOptions)"/>.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public ChildProcess StartProcess(string fileName, params IEnumerable<string> arguments) =>
        StartProcess(new ProcessStartOptions(fileName, arguments));

    /// <summary>
    /// Starts a child process (posix_spawn) and opens its pidfd, so the loop can deliver its exit and reap it; its
    /// piped standard fds become loop sources. Callable from any thread; the sources deliver on the loop thread.
    /// </summary>
    /// <param name="options">What to start.</param>
    /// <returns>The child; dispose it to close its pipes and end it (see <see cref="ChildProcess"/>).</returns>
    /// <exception cref="LoopException">
    /// Nothing was started and no fd is left open; the loop is unaffected. <see cref="LoopException.Operation"/> is
    /// <c>open</c> when <see cref="ProcessStartOptions.WorkingDirectory"/> cannot be entered (ENOENT, ENOTDIR, EACCES;
    /// the message names the directory); <c>posix_spawn</c> when the program cannot be run (ENOENT: no such file, or
    /// not found in PATH; EACCES: not executable; ENOEXEC: not a program; the message names it); <c>pipe2</c> or
    /// <c>pidfd_open</c> when out of fds (EMFILE), and then a child already started is killed and reaped first.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public ChildProcess StartProcess(ProcessStartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfDisposed();
        if (options.WorkingDirectory is { } directory && ProcessSpawn.CheckDirectory(directory) is var errno && errno != 0)
        {
            throw new LoopException("open", errno, -1, $"working directory {directory}");
        }

        using var fds = new ChildFds(options);
        int error = ProcessSpawn.Start(
            options.FileName,
            [options.FileName, .. options.Arguments],
            [.. options.Environment.Select(pair => $"{pair.Key}={pair.Value}")],
            options.WorkingDirectory,
            fds.ChildEnds,
            out int pid);
        if (error != 0)
        {
            throw new LoopException("posix_spawn", error, -1, $"executable {options.FileName}");
        }

        fds.CloseChildEnds();
        int pidfd = Pidfd.Open(pid);
        if (pidfd < 0)
        {
            error = Sys.Errno;
            ProcessSpawn.KillAndReap(pid);
            throw new LoopException("pidfd_open", error, -1, $"Process {pid}");
        }

        var exited = Track(new ProcessExitSource(this, pid, new FdHandle(pidfd), reaps: true));
        return new ChildProcess(
            exited,
            fds.TakeParentEnd(0) is { } stdin ? new ProcessInputPump(this, stdin, options.InputCapacity) : null,
            fds.TakeParentEnd(1) is { } stdout ? Track(new ProcessOutputSource(this, stdout, $"Process {pid} stdout")) : null,
            fds.TakeParentEnd(2) is { } stderr ? Track(new ProcessOutputSource(this, stderr, $"Process {pid} stderr")) : null);
    }
}
