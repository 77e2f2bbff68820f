using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// The exit of one process, over a pidfd registered with the loop's epoll (Linux 5.3 or later): no SIGCHLD handler,
/// so nothing else in the process (<see cref="System.Diagnostics.Process"/> included) is disturbed. Made by
/// <see cref="EventLoop.WatchProcess"/>, which opens the pidfd, or as <see cref="ChildProcess.Exited"/> by
/// <see cref="EventLoop.StartProcess(ProcessStartOptions)"/>; it delivers one <see cref="ProcessExit"/> on the loop
/// thread once the process has ended (at once if it already had), then completes.
/// </summary>
/// <remarks>
/// <para>A child the loop started itself is reaped by this source (<c>waitid(P_PIDFD)</c>), so its status is always
/// known; if the source ends before the exit (<see cref="LoopSource{T}.Remove"/>, the loop disposed), the child is
/// killed with SIGKILL and reaped then, waiting only for the kernel to end it. The rest of these remarks are about
/// <see cref="EventLoop.WatchProcess"/>.</para>
/// <para>The status is read with <c>waitid(P_PIDFD, …, WNOWAIT)</c>: looked at, never collected. A child stays a
/// zombie until whoever started it reaps it; for a child started with <see cref="System.Diagnostics.Process.Start()"/>
/// that is the runtime, on SIGCHLD, and reaping it here would make the runtime end the process
/// (<c>Environment.FailFast</c>). So the runtime may reap such a child before the loop looks, and the status of
/// that exit is then unknown (null); <see cref="System.Diagnostics.Process.ExitCode"/> always has it. A process that
/// is not a child of this one cannot be watched (<see cref="EventLoop.WatchProcess"/> throws).</para>
/// <para>The pidfd refers to the process itself, not to its number, so a number reused after the watch was made is
/// never mistaken for it. It is held from <see cref="EventLoop.WatchProcess"/> until the source ends (the exit was
/// delivered, <see cref="LoopSource{T}.Remove"/>, or the loop is disposed, all of which close it); unsubscribing
/// alone keeps it, so a later subscriber still gets the exit.</para>
/// </remarks>
public sealed class ProcessExitSource : LoopSource<ProcessExit>
{
    private readonly FdHandle _pidfd;

    // A child the loop started (EventLoop.StartProcess) is reaped here; a watched process only looked at.
    private readonly bool _reaps;
    private bool _reaped;

    internal ProcessExitSource(EventLoop loop, int pid, FdHandle pidfd, bool reaps = false)
        : base(loop)
    {
        Pid = pid;
        _pidfd = pidfd;
        _reaps = reaps;
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
        int? exitCode;
        int? signal;
        bool coreDumped;
        bool ended = true;
        int errno = Reap(block: false, out ended, out exitCode, out signal, out coreDumped);
        if (!ended)
        {
            // Readable before the exit can be collected (a leader whose other threads are still ending): level-triggered, so asked again.
            return;
        }

        if (errno != 0)
        {
            Complete(new LoopException("waitid(P_PIDFD)", errno, _pidfd.Fd, Name));
            return;
        }

        Emit(new ProcessExit(Pid, exitCode, signal, coreDumped));
        Complete();
    }

    /// <summary>
    /// Sends <paramref name="signal"/> through the pidfd, so it can only reach this process, never one that took
    /// its number later. False once the process has been reaped (or the source ended).
    /// </summary>
    internal bool TrySignal(int signal)
    {
        lock (Loop.Gate)
        {
            if (_reaped || _pidfd.IsClosed)
            {
                return false;
            }

            int errno = Pidfd.SendSignal(_pidfd.Fd, signal);
            if (errno == Pidfd.ESRCH)
            {
                return false;
            }

            if (errno != 0)
            {
                throw new LoopException("pidfd_send_signal", errno, _pidfd.Fd, Name);
            }

            return true;
        }
    }

    /// <summary>
    /// Reaps the child, or for a watched process only reads its status; under the gate, so never after another thread
    /// closed the pidfd (whose number could then belong to another file). <paramref name="done"/>: there is nothing
    /// more to wait for (reaped or read now, gone already, or waitid failed with the errno returned).
    /// </summary>
    private int Reap(bool block, out bool done, out int? exitCode, out int? signal, out bool coreDumped)
    {
        lock (Loop.Gate)
        {
            if (_pidfd.IsClosed)
            {
                // Ended from another thread meanwhile (which reaped a child of ours): nothing to report.
                done = true;
                exitCode = null;
                signal = null;
                coreDumped = false;
                return 0;
            }

            if (!_reaps)
            {
                done = true;
                return Pidfd.PeekExit(_pidfd.Fd, out exitCode, out signal, out coreDumped);
            }

            int errno = Pidfd.Reap(_pidfd.Fd, block, out bool reaped, out exitCode, out signal, out coreDumped);
            _reaped |= reaped;
            done = reaped || errno != 0;
            return errno;
        }
    }

    // A started child that has not been reaped when its source ends (Remove, the loop disposed) is killed and reaped
    // now, so it never stays a zombie: the wait is only for the kernel to finish a SIGKILLed process.
    private protected override void ReleaseResources()
    {
        if (_reaps && !_reaped)
        {
            Pidfd.SendSignal(_pidfd.Fd, ProcessSpawn.SIGKILL);
            Reap(block: true, out _, out _, out _, out _);
        }

        _pidfd.Dispose();
    }
}
