using System.Net;
using System.Net.Sockets;

namespace Calloop.Rx.Samples.Monitor;

/// <summary>
/// What the monitor watches: an echo server (its listener and one fd source per connection), a client of it on the
/// same loop that a 100 ms timer makes talk, a 1 s timer, and a channel fed by a producer on another thread every
/// 50 ms. Their events run on the loop thread; what matters here is that they happen, for the monitor to show.
/// </summary>
internal sealed class MonitorWorkload : IDisposable
{
    private static readonly byte[] s_message = "hello, loop\n"u8.ToArray();

    private readonly EventLoop _loop;
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _client = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<EchoConnection> _connections = [];
    private readonly List<IDisposable> _subscriptions = [];
    private readonly byte[] _received = new byte[4096];
    private readonly Sender<long> _producer;
    private readonly Timer _producerClock;
    private long _produced;

    /// <summary>Starts the workload (any thread: sources may be subscribed from any thread).</summary>
    public MonitorWorkload(EventLoop loop)
    {
        _loop = loop;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        _listener.Blocking = false;
        _subscriptions.Add(loop.Fd(_listener, Interest.Read).Subscribe(_ => Accept()));

        // The client connects blocking (to the loopback, at once), then goes non-blocking for the loop.
        _client.Connect(_listener.LocalEndPoint!);
        _client.Blocking = false;
        _subscriptions.Add(loop.Fd(_client, Interest.Read).Subscribe(readiness => _client.Receive(_received, SocketFlags.None, out SocketError _)));

        _subscriptions.Add(loop.Timer(TimeSpan.FromMilliseconds(100), _ => TimeoutAction.ToDuration(TimeSpan.FromMilliseconds(100)))
            .Subscribe(tick => _client.Send(s_message, SocketFlags.None, out SocketError _)));
        _subscriptions.Add(loop.Timer(TimeSpan.FromSeconds(1), _ => TimeoutAction.ToDuration(TimeSpan.FromSeconds(1)))
            .Subscribe(_ => { }));

        // The producer sends from a thread-pool thread: the channel is the cross-thread way into the loop.
        var (sender, messages) = loop.Channel<long>();
        _producer = sender;
        _subscriptions.Add(messages.Subscribe(_ => { }));

        // TrySend: the clock may tick once more while the workload is disposed, or after the channel was removed.
        _producerClock = new Timer(_ => _producer.TrySend(Interlocked.Increment(ref _produced)), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));
    }

    /// <summary>Stops the producer, then ends every source and closes every socket; call once the loop has stopped.</summary>
    public void Dispose()
    {
        _producerClock.Dispose();
        _producer.Dispose();
        foreach (IDisposable subscription in _subscriptions)
        {
            subscription.Dispose();
        }

        foreach (EchoConnection connection in _connections.ToArray())
        {
            connection.Close("monitor stopping");
        }

        _client.Dispose();
        _listener.Dispose();
    }

    private void Accept()
    {
        while (EchoSample.TryAccept(_listener) is { } client)
        {
            _connections.Add(new EchoConnection(_connections.Count + 1, client, _loop, TextWriter.Null, closed => _connections.Remove(closed)));
        }
    }
}
