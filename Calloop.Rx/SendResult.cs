namespace Calloop.Rx;

/// <summary>The outcome of <see cref="Sender{T}.TrySend(T)"/> and <see cref="BoundedSender{T}.TrySend(T)"/>.</summary>
public enum SendResult
{
    /// <summary>The message is queued and will be delivered exactly once, in order.</summary>
    Sent,

    /// <summary>A bounded channel is at capacity; nothing was queued.</summary>
    Full,

    /// <summary>The receiving side is gone (source removed or loop disposed) or this sender was disposed; nothing was queued.</summary>
    Closed,
}
