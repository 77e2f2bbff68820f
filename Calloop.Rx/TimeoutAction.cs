namespace Calloop.Rx;

/// <summary>What a timer does after it fired (the value returned by the callback given to <see cref="EventLoop.Timer(TimeSpan, Func{DateTimeOffset, TimeoutAction})"/>).</summary>
public readonly record struct TimeoutAction
{
    private TimeoutAction(Kind kind, DateTimeOffset instant, TimeSpan duration)
    {
        What = kind;
        Instant = instant;
        Duration = duration;
    }

    /// <summary>The kinds of action.</summary>
    public enum Kind
    {
        /// <summary>Stop: the timer completes.</summary>
        Drop,

        /// <summary>Fire again at <see cref="Instant"/>. A past instant fires on the next dispatch (one catch-up per dispatch, no burst).</summary>
        ToInstant,

        /// <summary>Fire again <see cref="Duration"/> after the callback returned (drifts; no catch-up).</summary>
        ToDuration,
    }

    /// <summary>Which action this is.</summary>
    public Kind What { get; }

    /// <summary>The next deadline, for <see cref="Kind.ToInstant"/>.</summary>
    public DateTimeOffset Instant { get; }

    /// <summary>The delay from now, for <see cref="Kind.ToDuration"/>.</summary>
    public TimeSpan Duration { get; }

    /// <summary>The timer completes.</summary>
    public static TimeoutAction Drop => default;

    /// <summary>Fire again at an absolute instant (drift-free periodic timers).</summary>
    public static TimeoutAction ToInstant(DateTimeOffset instant) => new(Kind.ToInstant, instant, default);

    /// <summary>Fire again after <paramref name="duration"/>, measured from now.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="duration"/> is negative.</exception>
    public static TimeoutAction ToDuration(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        return new(Kind.ToDuration, default, duration);
    }
}
