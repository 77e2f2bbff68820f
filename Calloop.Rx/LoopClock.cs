namespace Calloop.Rx;

/// <summary>
/// The clock an <see cref="EventLoop"/> reads all its time from: the real monotonic clock, or a virtual clock that
/// only moves when the test says so (<see cref="EventLoop.AdvanceBy(TimeSpan)"/>), for deterministic tests of
/// timer and scheduler pipelines. Fds, pings, channels and signals stay real in both.
/// </summary>
public sealed class LoopClock
{
    private LoopClock(bool isVirtual, DateTimeOffset start)
    {
        IsVirtual = isVirtual;
        Start = start;
    }

    /// <summary>The real clock: monotonic (<see cref="System.Diagnostics.Stopwatch"/>) and anchored to the wall clock when the loop is created.</summary>
    public static LoopClock Real { get; } = new(false, default);

    /// <summary>Whether this is a virtual clock.</summary>
    public bool IsVirtual { get; }

    /// <summary>The virtual clock's starting time.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>A virtual clock starting at <paramref name="start"/>; each loop made with it has its own time.</summary>
    public static LoopClock Virtual(DateTimeOffset start) => new(true, start);

    /// <summary>A virtual clock starting at the Unix epoch.</summary>
    public static LoopClock Virtual() => Virtual(DateTimeOffset.UnixEpoch);
}
