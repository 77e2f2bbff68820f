using System.Threading.Channels;

namespace Calloop.Rx;

/// <summary>
/// The sending side of a bounded <see cref="EventLoop.SyncChannel{T}(int)"/>: <see cref="Send"/> blocks while the
/// channel is full, <see cref="TrySend"/> reports <see cref="SendResult.Full"/>. Thread-safe; clone it for other producers.
/// </summary>
/// <remarks>
/// Every message not yet delivered to the subscribers counts against the capacity; delivering a batch makes room at
/// once. Once the loop's <see cref="EventLoop.Dispose"/> has returned, on any thread, sends are refused, and a
/// <see cref="Send"/> waiting for room is released by that <see cref="EventLoop.Dispose"/> call itself.
/// </remarks>
public sealed class SyncSender<T> : IDisposable
{
    private readonly ChannelCore<T> _core;
    private int _disposed;

    internal SyncSender(ChannelCore<T> core) => _core = core;

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
            throw new ChannelClosedException("The channel is closed: the sender was disposed, the receiving source is gone or the loop is disposed.");
        }
    }

    /// <summary>Another sender for the same channel; the channel closes when every sender is disposed.</summary>
    /// <exception cref="ObjectDisposedException">This sender is disposed.</exception>
    public SyncSender<T> Clone()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _core.AddSender();
        return new SyncSender<T>(_core);
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
