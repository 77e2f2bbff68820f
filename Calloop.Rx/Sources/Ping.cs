namespace Calloop.Rx;

/// <summary>
/// The sending side of <see cref="EventLoop.Ping"/>: wakes its <see cref="PingSource"/> from any thread.
/// Clone it for other producers; when every clone is disposed the source completes.
/// </summary>
public sealed class Ping : IDisposable
{
    private readonly PingSource _source;
    private readonly Shared _shared;
    private int _disposed;

    internal Ping(PingSource source)
        : this(source, new Shared())
    {
    }

    private Ping(PingSource source, Shared shared)
    {
        _source = source;
        _shared = shared;
    }

    /// <summary>Wakes the source; pings before a dispatch coalesce into one event. Never blocks.</summary>
    /// <returns>
    /// <see cref="SendResult.Sent"/>; <see cref="SendResult.Closed"/> if this sender is disposed or the source is gone
    /// (removed, or the loop disposed: from the moment <see cref="EventLoop.Dispose"/> returns, on any thread). A ping
    /// is never <see cref="SendResult.Full"/>.
    /// </returns>
    public SendResult Send() => Volatile.Read(ref _disposed) == 0 && _source.Send() ? SendResult.Sent : SendResult.Closed;

    /// <summary>Another sender for the same source; the source completes only when all are disposed.</summary>
    /// <exception cref="ObjectDisposedException">This sender is disposed.</exception>
    public Ping Clone()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Interlocked.Increment(ref _shared.Senders);
        return new Ping(_source, _shared);
    }

    /// <summary>Releases this sender; the last one tells the source to complete.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && Interlocked.Decrement(ref _shared.Senders) == 0)
        {
            _source.SendersGone();
        }
    }

    private sealed class Shared
    {
        public int Senders = 1;
    }
}
