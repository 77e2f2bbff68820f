using System.Threading.Channels;

namespace Calloop.Rx;

/// <summary>
/// The sending side of a bounded <see cref="EventLoop.BoundedChannel{T}(int)"/>: <see cref="Send"/> blocks while the
/// channel is full, <see cref="SendAsync"/> waits without blocking a thread, <see cref="TrySend"/> reports
/// <see cref="SendResult.Full"/>. Thread-safe; clone it for other producers.
/// </summary>
/// <remarks>
/// Every message not yet delivered to the subscribers counts against the capacity; delivering a batch makes room at
/// once. Once the loop's <see cref="EventLoop.Dispose"/> has returned, on any thread, sends are refused, and a
/// <see cref="Send"/> or <see cref="SendAsync"/> waiting for room is released by that <see cref="EventLoop.Dispose"/>
/// call itself. Room that comes back goes to the <see cref="SendAsync"/> calls waiting for it first, in the order
/// they started waiting, then to blocked <see cref="Send"/> calls.
/// </remarks>
public sealed class BoundedSender<T> : IDisposable
{
    private readonly ChannelCore<T> _core;
    private int _disposed;

    internal BoundedSender(ChannelCore<T> core) => _core = core;

    /// <summary>Queues a message if there is room. Never blocks.</summary>
    /// <returns><see cref="SendResult.Sent"/>; <see cref="SendResult.Full"/> at capacity; <see cref="SendResult.Closed"/> if this sender is disposed, the receiving side is gone or the loop is disposed.</returns>
    public SendResult TrySend(T item) => Volatile.Read(ref _disposed) != 0 ? SendResult.Closed : _core.TrySend(item);

    /// <summary>Queues a message, waiting while the channel is full.</summary>
    /// <exception cref="ChannelClosedException">This sender is disposed, the receiving side is gone or the loop is disposed, before or while waiting for room.</exception>
    /// <exception cref="InvalidOperationException">Called on the loop thread while the channel is full (it would never drain).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    public void Send(T item, CancellationToken cancellationToken = default)
    {
        SendResult result = Volatile.Read(ref _disposed) != 0 ? SendResult.Closed : _core.SendBlocking(item, cancellationToken);
        if (result != SendResult.Sent)
        {
            throw ThrowHelper.ChannelClosed();
        }
    }

    /// <summary>
    /// Queues a message, waiting without blocking a thread while the channel is full. With room, it queues at once
    /// and returns a completed task without allocating; a steady producer that has to wait reuses the same waiter,
    /// so waiting allocates nothing either. Waiting senders get the room in the order they started waiting.
    /// </summary>
    /// <remarks>
    /// <para>Completed means queued: the message is then delivered exactly once, in order with this sender's other
    /// messages (await each send before the next to keep that order). A failed or cancelled send queued nothing.</para>
    /// <para>The loop thread completes a waiting send, but its continuation never runs inline there: it runs on the
    /// thread pool, or on the awaiter's synchronization context. Awaiting on the loop thread itself is allowed (unlike
    /// <see cref="Send"/>, it cannot deadlock): the send completes once the loop, dispatching on, delivers messages
    /// and so makes room, and the continuation comes back to the loop's context.</para>
    /// <para>Await the returned task exactly once, as any <see cref="ValueTask"/>; the waiter behind it is reused afterwards.</para>
    /// </remarks>
    /// <param name="item">The message.</param>
    /// <param name="cancellationToken">Stops waiting for room; ignored when there is room at once.</param>
    /// <returns>A task that completes when the message is queued.</returns>
    /// <exception cref="ChannelClosedException">This sender is disposed, the receiving side is gone or the loop is disposed, before or while waiting for room (the task fails with it).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting (the task fails with it; the message was not queued).</exception>
    public ValueTask SendAsync(T item, CancellationToken cancellationToken = default) =>
        Volatile.Read(ref _disposed) != 0
            ? ValueTask.FromException(ThrowHelper.ChannelClosed())
            : _core.SendAsync(item, cancellationToken);

    /// <summary>Another sender for the same channel; the channel closes when every sender is disposed.</summary>
    /// <exception cref="ObjectDisposedException">This sender is disposed.</exception>
    public BoundedSender<T> Clone()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _core.AddSender();
        return new BoundedSender<T>(_core);
    }

    /// <summary>Releases this sender; after the last one, the source completes once it has delivered what was queued.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _core.ReleaseSender();
        }
    }
}
