using System.Diagnostics;

namespace Calloop.Rx.Loop;

/// <summary>
/// The loop's clock: ticks since the loop was made (from <see cref="Stopwatch"/>, or the virtual clock's value), the
/// conversions between those ticks and <see cref="DateTimeOffset"/>, and the virtual clock's stepping rules.
/// Deadlines everywhere in the loop (timer heap, timers, scheduled work) are in these ticks, so that comparing them
/// costs an integer comparison and the wall clock moving does not move them.
/// </summary>
/// <remarks>Reading the time is safe from any thread; only the thread that holds the dispatch role moves the virtual clock.</remarks>
internal sealed class LoopTime
{
    private readonly long _originTimestamp;
    private long _virtualNow;

    public LoopTime(LoopClock clock)
    {
        IsVirtual = clock.IsVirtual;
        _originTimestamp = Stopwatch.GetTimestamp();
        Anchor = clock.IsVirtual ? clock.Start : DateTimeOffset.UtcNow;
    }

    /// <summary>Whether time moves only when the loop is advanced.</summary>
    public bool IsVirtual { get; }

    /// <summary>The instant tick 0 stands for: the virtual clock's start, or the wall-clock time the loop was made.</summary>
    public DateTimeOffset Anchor { get; }

    /// <summary>Loop time in ticks since <see cref="Anchor"/>.</summary>
    public long NowTicks => IsVirtual ? Volatile.Read(ref _virtualNow) : Stopwatch.GetElapsedTime(_originTimestamp).Ticks;

    /// <summary>Virtual clock only: how many dispatches one instant may take before the clock declares it stuck.</summary>
    public int MaxStepsPerInstant { get; set; } = 100_000;

    /// <summary>Virtual clock only: whether work due when scheduled runs one tick later (Rx's <c>TestScheduler</c> rule).</summary>
    public bool DueWorkWaitsOneTick { get; set; }

    /// <summary>Moves the virtual clock to <paramref name="ticks"/>. The caller holds the dispatch role.</summary>
    public void SetVirtualNow(long ticks) => Volatile.Write(ref _virtualNow, ticks);

    /// <summary>The instant of <paramref name="ticks"/>; deadlines that mean "never" map to <see cref="DateTimeOffset.MaxValue"/>.</summary>
    public DateTimeOffset ToDateTimeOffset(long ticks) =>
        ticks >= long.MaxValue / 2 ? DateTimeOffset.MaxValue : Anchor.AddTicks(Math.Min(ticks, DateTimeOffset.MaxValue.Ticks - Anchor.Ticks));

    /// <summary>The ticks of <paramref name="instant"/>; <see cref="DateTimeOffset.MaxValue"/> is "never".</summary>
    public long ToTicks(DateTimeOffset instant) =>
        instant == DateTimeOffset.MaxValue ? long.MaxValue : (instant - Anchor).Ticks;

    /// <summary>Deadline for "now + <paramref name="due"/>", saturating at "never" on overflow (as calloop's <c>Duration::MAX</c>).</summary>
    public long DeadlineAfter(TimeSpan due)
    {
        long now = NowTicks;
        long ticks = Math.Max(0, due.Ticks);
        return ticks >= long.MaxValue - now ? long.MaxValue : now + ticks;
    }
}
