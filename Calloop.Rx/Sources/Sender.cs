using System.Threading.Channels;

namespace Calloop.Rx;

/// <summary>
/// The sending side of an unbounded <see cref="EventLoop.Channel{T}"/>. Thread-safe; clone it for other
/// producers. Every message sent before the sender is disposed is delivered exactly once, in order.
/// </summary>
public sealed class Sender<T> : IDisposable
{
    private readonly ChannelCore<T> _core;
    private int _disposed;

    internal Sender(ChannelCore<T> core) => _core = core;

    /// <summary>Queues a message. Never blocks.</summary>
    /// <returns><see cref="SendResult.Sent"/>, or <see cref="SendResult.Closed"/> if this sender is disposed, the receiving side is gone or the loop is disposed (from the moment <see cref="EventLoop.Dispose"/> returns, on any thread).</returns>
    public SendResult TrySend(T item) => Volatile.Read(ref _disposed) != 0 ? SendResult.Closed : _core.TrySend(item);

    /// <summary>Queues a message. Never blocks.</summary>
    /// <exception cref="ChannelClosedException">This sender is disposed, the receiving side is gone or the loop is disposed.</exception>
    public void Send(T item)
    {
        if (TrySend(item) != SendResult.Sent)
        {
            throw ThrowHelper.ChannelClosed();
        }
    }

    /// <summary>Another sender for the same channel; the channel closes when every sender is disposed.</summary>
    /// <exception cref="ObjectDisposedException">This sender is disposed.</exception>
    public Sender<T> Clone()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _core.AddSender();
        return new Sender<T>(_core);
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
