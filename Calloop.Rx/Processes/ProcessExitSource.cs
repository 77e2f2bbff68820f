using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// The exit of one process, over a pidfd registered with the loop's epoll (Linux 5.3 or later): no SIGCHLD handler,
/// so nothing else in the process (<see cref="System.Diagnostics.Process"/> included) is disturbed. Made by
/// <see cref="EventLoop.WatchProcess"/>, which opens the pidfd; it delivers one <see cref="ProcessExit"/> on the loop
/// thread once the process has ended (at once if it already had), then completes.
/// </summary>
/// <remarks>
/// <para>The status is read with <c>waitid(P_PIDFD, …, WNOWAIT)</c>: looked at, never collected. A child stays a
/// zombie until whoever started it reaps it; for a child started with <see cref="System.Diagnostics.Process.Start()"/>
/// that is the runtime, on SIGCHLD, and reaping it here would make the runtime end the process
/// (<c>Environment.FailFast</c>). So the runtime may reap such a child before the loop looks, and the status of
/// that exit is then unknown (null); <see cref="System.Diagnostics.Process.ExitCode"/> always has it. A process that
/// is not a child of this one is reported with an unknown status.</para>
/// <para>The pidfd refers to the process itself, not to its number, so a number reused after the watch was made is
/// never mistaken for it. It is held from <see cref="EventLoop.WatchProcess"/> until the source ends (the exit was
/// delivered, <see cref="LoopSource{T}.Remove"/>, or the loop is disposed, all of which close it); unsubscribing
/// alone keeps it, so a later subscriber still gets the exit.</para>
/// </remarks>
public sealed class ProcessExitSource : LoopSource<ProcessExit>
{
    private readonly FdHandle _pidfd;

    internal ProcessExitSource(EventLoop loop, int pid, FdHandle pidfd)
        : base(loop)
    {
        Pid = pid;
        _pidfd = pidfd;
    }

    /// <summary>The process id being watched.</summary>
    public int Pid { get; }

    internal override string Name => $"Process {Pid}";

    private protected override bool OwnsResources => true;

    private protected override void Arm()
    {
        int errno = Loop.Epoll.Add(_pidfd.Fd, Sys.EpollIn, RegistrationToken.Value);
        if (errno != 0)
        {
            throw new LoopException("epoll_ctl(ADD)", errno, _pidfd.Fd, Name);
        }
    }

    private protected override void Disarm() => Loop.Epoll.Delete(_pidfd.Fd);

    private protected override void OnEvent(Readiness readiness, Token token)
    {
        int errno = Pidfd.PeekExit(_pidfd.Fd, out int? exitCode, out int? signal, out bool coreDumped);
        if (errno != 0)
        {
            Complete(new LoopException("waitid(P_PIDFD)", errno, _pidfd.Fd, Name));
            return;
        }

        Emit(new ProcessExit(Pid, exitCode, signal, coreDumped));
        Complete();
    }

    private protected override void ReleaseResources() => _pidfd.Dispose();
}
