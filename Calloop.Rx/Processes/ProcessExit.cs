namespace Calloop.Rx;

/// <summary>
/// How a process watched with <see cref="EventLoop.WatchProcess"/> ended. The status is known only for a child of
/// this process that nobody has reaped yet; otherwise both <see cref="ExitCode"/> and <see cref="Signal"/> are null.
/// </summary>
/// <param name="Pid">The process id that was watched.</param>
/// <param name="ExitCode">The code it passed to <c>exit</c> (0 to 255), or null if a signal ended it or the status is unknown.</param>
/// <param name="Signal">The number of the signal that ended it (for example 15 for SIGTERM), or null if it exited or the status is unknown.</param>
/// <param name="CoreDumped">Whether the signal that ended it made a core dump.</param>
public readonly record struct ProcessExit(int Pid, int? ExitCode, int? Signal, bool CoreDumped)
{
    /// <summary>Whether the status was read (<see cref="ExitCode"/> or <see cref="Signal"/> is set).</summary>
    public bool IsStatusKnown => ExitCode is not null || Signal is not null;
}
