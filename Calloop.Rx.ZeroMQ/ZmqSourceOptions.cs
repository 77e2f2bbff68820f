namespace Calloop.Rx.ZeroMQ;

/// <summary>Settings of <see cref="ZmqSource.Create"/>.</summary>
public sealed record ZmqSourceOptions
{
    /// <summary>The defaults: a batch limit of <see cref="DefaultBatchLimit"/>, an unbounded outbox, the source owns the socket.</summary>
    public static ZmqSourceOptions Default { get; } = new();

    /// <summary>The default <see cref="BatchLimit"/>.</summary>
    public static int DefaultBatchLimit => 256;

    /// <summary>
    /// Fairness: the most messages the source receives, and the most it sends, before it yields to the rest of the
    /// loop. When it reaches the limit with more to do, it pings itself and carries on in the next dispatch, so
    /// timers, channels and other fds run in between. At least 1; default <see cref="DefaultBatchLimit"/>.
    /// </summary>
    public int BatchLimit { get; init; } = DefaultBatchLimit;

    /// <summary>
    /// Back pressure: the most messages the <see cref="ZmqSender"/>s may have handed over that the socket has not yet
    /// accepted. At the limit <see cref="ZmqSender.TrySend(IReadOnlyList{byte[]})"/> answers <see cref="SendResult.Full"/>
    /// and <see cref="ZmqSender.Send(IReadOnlyList{byte[]}, CancellationToken)"/> blocks until the loop hands one to
    /// the socket. Null (the default) for no limit. The socket's own high-water marks apply on top of this. On a
    /// ROUTER the bound is shared by all peers' lanes: messages for a stalled peer count against it too, so a
    /// bounded outbox can fill up with them.
    /// </summary>
    public int? OutboxCapacity { get; init; }

    /// <summary>
    /// Whether the socket stays open when the source ends (removed, failed, or its loop disposed). By default the
    /// source owns the socket and closes it (with linger 0).
    /// </summary>
    public bool LeaveSocketOpen { get; init; }
}
