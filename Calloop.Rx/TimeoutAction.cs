namespace Calloop.Rx;

/// <summary>What a timer does after it fired (the value returned by the callback given to <see cref="EventLoop.Timer(TimeSpan, Func{DateTimeOffset, TimeoutAction})"/>).</summary>
public readonly record struct TimeoutAction
{
    private TimeoutAction(TimeoutActionKind kind, DateTimeOffset instant, TimeSpan duration)
    {
        Kind = kind;
        Instant = instant;
        Duration = duration;
    }

    /// <summary>Which action this is.</summary>
    public TimeoutActionKind Kind { get; }

    /// <summary>The next deadline, for <see cref="TimeoutActionKind.ToInstant"/>.</summary>
    public DateTimeOffset Instant { get; }

    /// <summary>The delay from now, for <see cref="TimeoutActionKind.ToDuration"/>.</summary>
    public TimeSpan Duration { get; }

    /// <summary>The timer completes.</summary>
    public static TimeoutAction Drop => default;

    /// <summary>Fire again at an absolute instant (drift-free periodic timers).</summary>
    public static TimeoutAction ToInstant(DateTimeOffset instant) => new(TimeoutActionKind.ToInstant, instant, default);

    /// <summary>Fire again after <paramref name="duration"/>, measured from now.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="duration"/> is negative.</exception>
    public static TimeoutAction ToDuration(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        return new(TimeoutActionKind.ToDuration, default, duration);
    }
}
