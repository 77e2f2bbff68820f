namespace Calloop.Rx.Diagnostics;

/// <summary>
/// One source's figures since it joined the live model (cumulative: a rate is the difference between two samples).
/// Keyed by <see cref="Id"/>, the same id as its <see cref="SourceInfo"/> row.
/// </summary>
/// <param name="Id">The source's id in the live model.</param>
/// <param name="Kind">What kind of source it is.</param>
/// <param name="Name">A short description, e.g. <c>Fd 7</c>.</param>
/// <param name="EventsDelivered">Values delivered to its subscribers (each channel message counts once, whatever the number of subscribers).</param>
/// <param name="PingsCoalesced">For a ping, sends that found a ping already pending and so produced no event of their own; otherwise 0.</param>
/// <param name="QueueDepth">For a channel, the messages waiting to be delivered when the sample was taken; otherwise 0.</param>
/// <param name="CallbackCount">How many times the loop ran the source's callbacks (one event: an fd's readiness, a batch of messages, a timer).</param>
/// <param name="CallbackMean">The mean time those callbacks took.</param>
/// <param name="CallbackMax">The longest one.</param>
/// <param name="LastEventAt">When the last event was delivered (loop time), or null if none was.</param>
public sealed record SourceStatistics(
    long Id,
    SourceKind Kind,
    string Name,
    long EventsDelivered,
    long PingsCoalesced,
    int QueueDepth,
    long CallbackCount,
    TimeSpan CallbackMean,
    TimeSpan CallbackMax,
    DateTimeOffset? LastEventAt);
