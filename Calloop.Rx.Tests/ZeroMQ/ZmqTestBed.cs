using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// A loop, a ZeroMQ context and the sockets of one test, with endpoints for each transport; disposing it closes
/// everything (loop first, so sources release their sockets, then the sockets, then the context) and removes the
/// ipc directory.
/// </summary>
public sealed class ZmqTestBed : IDisposable
{
    public const string Inproc = "inproc";
    public const string Ipc = "ipc";
    public const string Tcp = "tcp";

    private readonly List<ZmqSocket> _sockets = [];
    private readonly List<IDisposable> _subscriptions = [];
    private string? _ipcDirectory;
    private int _endpoints;

    public ZmqTestBed(LoopClock? clock = null)
    {
        Context = new ZmqContext();
        Loop = clock is null ? new EventLoop() : new EventLoop(clock);
    }

    /// <summary>The transports every pattern test runs over.</summary>
    public static TheoryData<string> Transports => [Inproc, Ipc, Tcp];

    public ZmqContext Context { get; }

    public EventLoop Loop { get; }

    /// <summary>A socket closed with the test bed (unless something closed it before).</summary>
    public ZmqSocket Socket(ZmqSocketType type)
    {
        var socket = new ZmqSocket(Context, type);
        lock (_sockets)
        {
            _sockets.Add(socket);
        }

        return socket;
    }

    /// <summary>Binds to a fresh endpoint of <paramref name="transport"/>; returns the endpoint to connect to (the real port for tcp).</summary>
    public string Bind(ZmqSocket socket, string transport)
    {
        int n = Interlocked.Increment(ref _endpoints);
        string endpoint = transport switch
        {
            Inproc => $"inproc://test-{Guid.NewGuid():N}-{n}",
            Ipc => $"ipc://{IpcDirectory}/{n}.sock",
            Tcp => "tcp://127.0.0.1:*",
            _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, "inproc, ipc or tcp"),
        };
        socket.Bind(endpoint);
        return transport == Tcp ? socket.LastEndpoint : endpoint;
    }

    /// <summary>A source for <paramref name="socket"/> with a contract observer subscribed (disposed with the test bed).</summary>
    public (ZmqSender Sender, ZmqSource Source, ContractObserver<byte[][]> Observer) Start(
        ZmqSocket socket, Action<byte[][]>? onNext = null, ZmqSourceOptions? options = null)
    {
        var (sender, source) = ZmqSource.Create(Loop, socket, options);
        var observer = new ContractObserver<byte[][]>(Loop, onNext);
        _subscriptions.Add(source.Subscribe(observer));
        return (sender, source, observer);
    }

    /// <summary>
    /// A DEALER peer of a ROUTER at <paramref name="endpoint"/> that has greeted it (a ROUTER can address a peer only
    /// once it read the peer's first message) and holds at most one message it has not read: the test stalls it by
    /// not reading.
    /// </summary>
    public ZmqSocket StalledPeer(string endpoint, string routingId)
    {
        var peer = Socket(ZmqSocketType.Dealer);
        peer.RoutingId = System.Text.Encoding.UTF8.GetBytes(routingId);
        peer.ReceiveHighWaterMark = 1;
        peer.Connect(endpoint);
        Assert.True(peer.TrySendMultipart(Frames.Of("hello")));
        return peer;
    }

    /// <summary>
    /// A ROUTER with <c>RouterMandatory</c> and a send high-water mark of 1, started, with two <see cref="StalledPeer"/>s
    /// that it has heard from (so it can address both).
    /// </summary>
    public (ZmqSender Sender, ContractObserver<byte[][]> Observer, ZmqSocket First, ZmqSocket Second) MandatoryRouterWithPeers(string first, string second)
    {
        var router = Socket(ZmqSocketType.Router);
        router.SetOption(ZmqSocketOption.RouterMandatory, 1);
        router.SendHighWaterMark = 1;
        string endpoint = Bind(router, Inproc);
        ZmqSocket firstPeer = StalledPeer(endpoint, first);
        ZmqSocket secondPeer = StalledPeer(endpoint, second);
        var (sender, _, observer) = Start(router);
        Loop.DispatchUntil(() => observer.Values.Count == 2, "both peers' greetings");
        return (sender, observer, firstPeer, secondPeer);
    }

    /// <summary>Receives what is waiting on <paramref name="socket"/>, adding each message's last frame (an int) to <paramref name="into"/>; returns the count so far.</summary>
    public static int ReceiveInts(ZmqSocket socket, List<int> into)
    {
        while (socket.TryReceiveMultipart(out byte[][] message))
        {
            into.Add(message.Int(message.Length - 1));
        }

        return into.Count;
    }

    public void Dispose()
    {
        foreach (IDisposable subscription in _subscriptions)
        {
            subscription.Dispose();
        }

        Loop.Dispose();
        lock (_sockets)
        {
            foreach (ZmqSocket socket in _sockets)
            {
                socket.Dispose();
            }
        }

        Context.Dispose();
        if (_ipcDirectory is not null)
        {
            Directory.Delete(_ipcDirectory, recursive: true);
        }
    }

    private string IpcDirectory => _ipcDirectory ??= Directory.CreateTempSubdirectory("calloop-zmq-").FullName;
}
