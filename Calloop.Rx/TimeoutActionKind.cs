namespace Calloop.Rx;

/// <summary>The kinds of <see cref="TimeoutAction"/>.</summary>
public enum TimeoutActionKind
{
    /// <summary>Stop: the timer completes.</summary>
    Drop,

    /// <summary>Fire again at <see cref="TimeoutAction.Instant"/>. A past instant fires on the next dispatch (one catch-up per dispatch, no burst).</summary>
    ToInstant,

    /// <summary>Fire again <see cref="TimeoutAction.Duration"/> after the callback returned (drifts; no catch-up).</summary>
    ToDuration,
}
