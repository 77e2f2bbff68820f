using System.Reactive.Disposables;
using System.Runtime.InteropServices;

namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// The inner loop sources a <see cref="ZmqSource"/> is composed of, made before the source itself so that a failure
/// halfway releases what was made: the socket's <c>ZMQ_FD</c> readiness, the channel the senders fill, the ping the
/// source wakes itself with, and the outbox limit.
/// </summary>
internal sealed class ZmqSourceParts
{
    private ZmqSourceParts(SafeHandle fdHandle, FdSource readiness, ChannelSource<byte[][]> outgoing, Ping wake, PingSource wakes, OutboxLimit limit, ZmqSender sender)
    {
        FdHandle = fdHandle;
        Readiness = readiness;
        Outgoing = outgoing;
        Wake = wake;
        Wakes = wakes;
        Limit = limit;
        Sender = sender;
    }

    public SafeHandle FdHandle { get; }

    /// <summary><c>ZMQ_FD</c>, read, edge-triggered: <c>ZMQ_EVENTS</c> may have changed.</summary>
    public FdSource Readiness { get; }

    public ChannelSource<byte[][]> Outgoing { get; }

    public Ping Wake { get; }

    public PingSource Wakes { get; }

    public OutboxLimit Limit { get; }

    /// <summary>The first sender.</summary>
    public ZmqSender Sender { get; }

    /// <exception cref="ZmqException">libzmq refused to give the socket's fd.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public static ZmqSourceParts Make(EventLoop loop, ZmqSocket socket, ZmqSourceOptions options)
    {
        var made = new List<IDisposable>();
        try
        {
            SafeHandle fdHandle = socket.OpenFdHandle();
            made.Add(fdHandle);
            FdSource readiness = loop.Fd(fdHandle, Interest.Read, TriggerMode.Edge);
            made.Add(Disposable.Create(readiness.Remove));
            (Sender<byte[][]> channel, ChannelSource<byte[][]> outgoing) = loop.Channel<byte[][]>();
            made.Add(Disposable.Create(outgoing.Remove));
            (Ping wake, PingSource wakes) = loop.Ping();
            made.Add(Disposable.Create(wakes.Remove));
            made.Add(wake);
            var limit = new OutboxLimit(loop, options.OutboxCapacity);
            return new ZmqSourceParts(fdHandle, readiness, outgoing, wake, wakes, limit, new ZmqSender(channel, limit));
        }
        catch
        {
            made.ForEach(static d => d.Dispose());
            throw;
        }
    }

    /// <summary>Ends the inner sources (senders then report Closed, eventfds are freed) and lets go of the socket's fd.</summary>
    public void Release()
    {
        Limit.Close();
        Wake.Dispose();
        Readiness.Remove();
        Outgoing.Remove();
        Wakes.Remove();
        FdHandle.Dispose();
    }

}
