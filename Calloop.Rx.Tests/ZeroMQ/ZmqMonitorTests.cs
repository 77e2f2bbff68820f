using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// <see cref="ZmqSource.Monitor"/>: libzmq's socket monitor as a source of connection events, over tcp (inproc has
/// no connections to report). The peers are plain sockets of the test.
/// </summary>
public class ZmqMonitorTests
{
    [Fact]
    public void Monitor_OnABoundSocket_ReportsAcceptedHandshakeAndDisconnectedWithTheEndpoint()
    {
        using var bed = new ZmqTestBed();
        var router = bed.Socket(ZmqSocketType.Router);
        string endpoint = bed.Bind(router, ZmqTestBed.Tcp);
        var (_, source, messages) = bed.Start(router);
        var events = new ContractObserver<ZmqMonitorEvent>(bed.Loop);
        using var subscription = source.Monitor().Subscribe(events);

        var peer = bed.Socket(ZmqSocketType.Dealer);
        peer.Connect(endpoint);
        bed.Loop.DispatchUntil(() => Has(events, ZmqMonitorEvents.HandshakeSucceeded), "the handshake");
        ZmqMonitorEvent accepted = Assert.Single(events.Values, e => e.Kind == ZmqMonitorEvents.Accepted);
        Assert.Equal(endpoint, accepted.Endpoint);
        Assert.True(accepted.Value >= 0, "the accepted connection's fd");

        peer.Dispose();
        bed.Loop.DispatchUntil(() => Has(events, ZmqMonitorEvents.Disconnected), "the disconnection");
        Assert.Equal(endpoint, events.Values.Single(e => e.Kind == ZmqMonitorEvents.Disconnected).Endpoint);
        events.AssertClean();
        messages.AssertClean();
    }

    [Fact]
    public void Monitor_OnAConnectingSocket_ReportsConnectedAndTheLossOfThePeer()
    {
        using var bed = new ZmqTestBed();
        var server = bed.Socket(ZmqSocketType.Router);
        string endpoint = bed.Bind(server, ZmqTestBed.Tcp);
        var dealer = bed.Socket(ZmqSocketType.Dealer);
        var (_, source, messages) = bed.Start(dealer);

        // Monitor first, then connect (on the loop's socket, between dispatches): every event is seen.
        var events = new ContractObserver<ZmqMonitorEvent>(bed.Loop);
        using var subscription = source.Monitor(ZmqMonitorEvents.Connected | ZmqMonitorEvents.Disconnected).Subscribe(events);
        dealer.Connect(endpoint);
        bed.Loop.DispatchUntil(() => Has(events, ZmqMonitorEvents.Connected), "the connection");
        Assert.Equal(endpoint, events.Values[0].Endpoint);

        server.Dispose();
        bed.Loop.DispatchUntil(() => Has(events, ZmqMonitorEvents.Disconnected), "the loss of the server");
        Assert.All(events.Values, e => Assert.True(e.Kind is ZmqMonitorEvents.Connected or ZmqMonitorEvents.Disconnected, $"{e.Kind} was not asked for"));
        events.AssertClean();
        messages.AssertClean();
    }

    [Fact]
    public void Monitor_WhenItsSourceIsRemoved_Completes()
    {
        using var bed = new ZmqTestBed();
        var router = bed.Socket(ZmqSocketType.Router);
        bed.Bind(router, ZmqTestBed.Tcp);
        var (_, source, messages) = bed.Start(router);
        var events = new ContractObserver<ZmqMonitorEvent>(bed.Loop);
        ZmqMonitor monitor = source.Monitor();
        using var subscription = monitor.Subscribe(events);

        source.Remove();
        bed.Loop.DispatchUntil(() => events.Completed && messages.Completed, "both sources to complete");
        Assert.True(router.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => source.Monitor());

        // A late subscriber learns the end too.
        var late = new ContractObserver<ZmqMonitorEvent>(bed.Loop);
        using var lateSubscription = monitor.Subscribe(late);
        bed.Loop.DispatchUntil(() => late.Completed, "OnCompleted for a late subscriber");
        events.AssertClean();
    }

    [Fact]
    public void Monitor_WithTheLoopDisposed_EndsWithoutHangingTheContext()
    {
        var context = new ZmqContext();
        var loop = new EventLoop();
        var router = new ZmqSocket(context, ZmqSocketType.Router);
        router.Bind("tcp://127.0.0.1:*");
        var (_, source) = ZmqSource.Create(loop, router);
        var events = new ContractObserver<ZmqMonitorEvent>(loop);
        source.Monitor().Subscribe(events);

        // Connected once the monitor watches, so that the handshake cannot happen unseen before it.
        var peer = new ZmqSocket(context, ZmqSocketType.Dealer);
        peer.Connect(router.LastEndpoint);
        loop.DispatchUntil(() => Has(events, ZmqMonitorEvents.HandshakeSucceeded), "the handshake");

        // Every socket closes and the context terminates: nothing may wait on the monitor's PAIR.
        var closing = PeerThread.Start("closing", () =>
        {
            loop.Dispose();
            peer.Dispose();
            context.Dispose();
        });

        closing.Join();
        Assert.True(events.Completed);
        Assert.True(context.IsClosed);
        events.AssertClean();
    }

    [Fact]
    public void Monitor_Twice_Throws()
    {
        using var bed = new ZmqTestBed();
        var (_, source, _) = bed.Start(bed.Socket(ZmqSocketType.Router));
        source.Monitor();
        Assert.Throws<InvalidOperationException>(() => source.Monitor());
    }

    private static bool Has(ContractObserver<ZmqMonitorEvent> events, ZmqMonitorEvents kind) =>
        events.Values.Any(e => e.Kind == kind);
}
