using System.Text;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>The ZeroMQ messaging patterns over real sockets, with the loop on one side, over inproc, ipc and tcp.</summary>
public class ZmqPatternTests
{
    private const int RoundTrips = 1000;

    /// <summary>
    /// The chapter's REQ race: the reply can arrive while the source is still handling the send, with no new edge
    /// on ZMQ_FD. Re-reading ZMQ_EVENTS after every operation is what keeps 1,000 round trips going.
    /// </summary>
    [Theory]
    [MemberData(nameof(ZmqTestBed.Transports), MemberType = typeof(ZmqTestBed))]
    public void ReqRep_LoopAsReq_RoundTrips(string transport)
    {
        using var bed = new ZmqTestBed();
        var rep = PeerSocket(bed, ZmqSocketType.Rep);
        string endpoint = bed.Bind(rep, transport);
        var peer = PeerThread.Start("rep peer", () =>
        {
            for (int i = 0; i < RoundTrips; i++)
            {
                byte[][] request = rep.ReceiveMultipart();
                rep.SendMultipart([request[0], Encoding.UTF8.GetBytes("reply")]);
            }
        });

        var req = bed.Socket(ZmqSocketType.Req);
        req.Connect(endpoint);
        ZmqSender? ask = null;
        var (sender, _, observer) = bed.Start(req, reply =>
        {
            int n = reply.Int(0);
            if (n + 1 < RoundTrips)
            {
                ask!.Send(Frames.Int(n + 1));
            }
        });
        ask = sender;
        ask.Send(Frames.Int(0));

        bed.Loop.DispatchUntil(() => observer.Values.Count == RoundTrips || peer.Failed, "1,000 replies");
        peer.Join();
        Assert.Equal(Enumerable.Range(0, RoundTrips), observer.Values.Select(m => m.Int(0)));
        Assert.All(observer.Values, m => Assert.Equal("reply", m.Text(1)));
        observer.AssertClean();
    }

    /// <summary>The chapter's REP stall: after receiving, a REP is not writable until it replies, and then readable again without an edge.</summary>
    [Theory]
    [MemberData(nameof(ZmqTestBed.Transports), MemberType = typeof(ZmqTestBed))]
    public void ReqRep_LoopAsRep_RoundTrips(string transport)
    {
        using var bed = new ZmqTestBed();
        var rep = bed.Socket(ZmqSocketType.Rep);
        string endpoint = bed.Bind(rep, transport);
        ZmqSender? answer = null;
        var (sender, _, observer) = bed.Start(rep, request => answer!.Send(request[0], Encoding.UTF8.GetBytes("echo")));
        answer = sender;

        var req = PeerSocket(bed, ZmqSocketType.Req);
        req.Connect(endpoint);
        var replies = new List<int>();
        var peer = PeerThread.Start("req peer", () =>
        {
            for (int i = 0; i < RoundTrips; i++)
            {
                req.SendMultipart([Frames.Int(i)]);
                byte[][] reply = req.ReceiveMultipart();
                Assert.Equal("echo", reply.Text(1));
                replies.Add(reply.Int(0));
            }
        });

        bed.Loop.DispatchUntil(() => peer.IsFinished, "1,000 requests answered");
        peer.Join();
        Assert.Equal(Enumerable.Range(0, RoundTrips), replies);
        Assert.Equal(RoundTrips, observer.Values.Count);
        observer.AssertClean();
    }

    [Theory]
    [MemberData(nameof(ZmqTestBed.Transports), MemberType = typeof(ZmqTestBed))]
    public void PubSub_Subscribed_DeliversTheSubscribedTopicsOnly(string transport)
    {
        using var bed = new ZmqTestBed();
        var xpub = bed.Socket(ZmqSocketType.XPub);
        string endpoint = bed.Bind(xpub, transport);
        var sub = bed.Socket(ZmqSocketType.Sub);
        sub.Subscribe("weather");
        sub.Subscribe("news");
        sub.Connect(endpoint);

        // The XPUB sees each subscription as a message (0x01 + topic): publish once both arrived, so nothing is
        // lost to the "slow joiner" and no sleep is needed.
        var (publish, _, subscriptions) = bed.Start(xpub);
        var (_, _, received) = bed.Start(sub);
        bed.Loop.DispatchUntil(() => subscriptions.Values.Count == 2, "two subscriptions at the publisher");
        Assert.Equal(["news", "weather"], subscriptions.Values.Select(m => Encoding.UTF8.GetString(m[0], 1, m[0].Length - 1)).Order());
        Assert.All(subscriptions.Values, m => Assert.Equal(1, m[0][0]));

        for (int i = 0; i < 30; i++)
        {
            string topic = (i % 3) switch { 0 => "weather", 1 => "sports", _ => "news-local" };
            publish.Send(Encoding.UTF8.GetBytes(topic), Frames.Int(i));
        }

        bed.Loop.DispatchUntil(() => received.Values.Count == 20, "the 20 subscribed messages");
        Assert.Equal(Enumerable.Range(0, 30).Where(i => i % 3 != 1), received.Values.Select(m => m.Int(1)));
        Assert.DoesNotContain(received.Values, m => m.Text(0) == "sports");
        Assert.All(received.Values, m => Assert.Equal(2, m.Length));
        subscriptions.AssertClean();
        received.AssertClean();
    }

    /// <summary>
    /// Both ends on the loop: the PUSH's outbox fills far beyond the high-water mark, so the source must stop
    /// sending when the socket is not writable and resume on the next edge, while the PULL drains in batches.
    /// </summary>
    [Theory]
    [MemberData(nameof(ZmqTestBed.Transports), MemberType = typeof(ZmqTestBed))]
    public void PushPull_100000Messages_ArriveAllAndInOrder(string transport)
    {
        const int Count = 100_000;
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect(bed.Bind(pull, transport));
        int expected = 0;
        bool inOrder = true;
        var (_, _, observer) = bed.Start(pull, message =>
        {
            inOrder &= message.Int(0) == expected;
            expected++;
        });
        var (sender, _, _) = bed.Start(push);

        var producer = PeerThread.Start("producer", () =>
        {
            for (int i = 0; i < Count; i++)
            {
                sender.Send(Frames.Int(i));
            }
        });

        bed.Loop.DispatchUntil(() => expected == Count || producer.Failed, "100,000 messages");
        producer.Join();
        Assert.True(inOrder, "messages out of order");
        Assert.Equal(Count, observer.Values.Count);
        observer.AssertClean();
    }

    [Theory]
    [MemberData(nameof(ZmqTestBed.Transports), MemberType = typeof(ZmqTestBed))]
    public void DealerRouter_SeveralPeers_ServesEach(string transport)
    {
        const int Peers = 4;
        const int Requests = 50;
        using var bed = new ZmqTestBed();
        var router = bed.Socket(ZmqSocketType.Router);
        string endpoint = bed.Bind(router, transport);
        ZmqSender? reply = null;
        var (routerSender, _, requests) = bed.Start(router, message =>
            reply!.Send(message[0], Encoding.UTF8.GetBytes(message.Text(1) + "!")));
        reply = routerSender;

        var dealers = new List<(ZmqSender Sender, ContractObserver<byte[][]> Replies)>();
        for (int p = 0; p < Peers; p++)
        {
            var dealer = bed.Socket(ZmqSocketType.Dealer);
            dealer.RoutingId = Encoding.UTF8.GetBytes($"peer-{p}");
            dealer.Connect(endpoint);
            var (sender, _, replies) = bed.Start(dealer);
            for (int i = 0; i < Requests; i++)
            {
                sender.Send(Frames.Of($"peer-{p} request {i}"));
            }

            dealers.Add((sender, replies));
        }

        bed.Loop.DispatchUntil(() => dealers.All(d => d.Replies.Values.Count == Requests), "every peer's replies");
        for (int p = 0; p < Peers; p++)
        {
            Assert.Equal(Enumerable.Range(0, Requests).Select(i => $"peer-{p} request {i}!"), dealers[p].Replies.Values.Select(m => m.Text()));
            dealers[p].Replies.AssertClean();
        }

        Assert.Equal(Enumerable.Range(0, Peers).Select(p => $"peer-{p}"), requests.Values.Select(m => m.Text(0)).Distinct().Order());
        requests.AssertClean();
    }

    /// <summary>A peer goes away and a new one takes its place (same routing id): the loop's ROUTER serves it.</summary>
    [Theory]
    [InlineData(ZmqTestBed.Ipc)]
    [InlineData(ZmqTestBed.Tcp)]
    public void Router_PeerRestarted_ServesItAgain(string transport)
    {
        using var bed = new ZmqTestBed();
        var router = bed.Socket(ZmqSocketType.Router);
        router.SetOption(ZmqSocketOption.RouterHandover, 1);
        string endpoint = bed.Bind(router, transport);
        ZmqSender? reply = null;
        var (routerSender, _, requests) = bed.Start(router, message => reply!.Send(message[0], message[1]));
        reply = routerSender;

        for (int generation = 0; generation < 3; generation++)
        {
            var dealer = PeerSocket(bed, ZmqSocketType.Dealer);
            dealer.RoutingId = "the-peer"u8.ToArray();
            dealer.Connect(endpoint);
            dealer.SendMultipart($"hello from generation {generation}");
            int before = requests.Values.Count;
            bed.Loop.DispatchUntil(() => requests.Values.Count > before, $"generation {generation}'s request");

            // The reply goes out from the loop, then the peer (a plain socket on this thread) reads it.
            byte[][]? echoed = null;
            bed.Loop.DispatchUntil(() => dealer.TryReceiveMultipart(out echoed), $"generation {generation}'s reply");
            Assert.Equal($"hello from generation {generation}", echoed!.Text());
            dealer.Dispose();
        }

        Assert.All(requests.Values, m => Assert.Equal("the-peer", m.Text(0)));
        requests.AssertClean();
    }

    /// <summary>The other way round: the loop connects, the server it talks to restarts at the same address, and the loop's socket reconnects.</summary>
    [Fact]
    public void Dealer_ServerRestarted_ReachesItAgainAfterReconnection()
    {
        using var bed = new ZmqTestBed();
        var server = bed.Socket(ZmqSocketType.Router);
        string endpoint = bed.Bind(server, ZmqTestBed.Tcp);
        ZmqSource serverSource = StartEchoServer(bed, server);

        var dealer = bed.Socket(ZmqSocketType.Dealer);
        dealer.SetOption(ZmqSocketOption.ReconnectInterval, 10);
        dealer.Connect(endpoint);
        var (ask, _, replies) = bed.Start(dealer);

        for (int generation = 0; generation < 2; generation++)
        {
            // Probe until an answer comes back: a message written into the dying connection may be lost, which is
            // ZeroMQ's contract, not the source's. A loop timer paces the probes.
            int before = replies.Values.Count;
            using var probes = bed.Loop
                .Timer(TimeSpan.Zero, _ => TimeoutAction.ToDuration(TimeSpan.FromMilliseconds(20)))
                .Subscribe(_ => ask.Send(Frames.Of($"probe {generation}")));
            // Answers to earlier probes may still be on their way (the previous generation's server echoed several):
            // wait for one to this generation's probes.
            string probe = $"probe {generation}";
            bed.Loop.DispatchUntil(() => replies.Values.Skip(before).Any(reply => reply.Text() == probe), $"an answer from server generation {generation}");
            if (generation == 1)
            {
                break;
            }

            // Restart: close the server, then bind a new one at the same port. libzmq closes the old listener from
            // its reaper thread, so the port may still be taken for a moment: retry the bind on the loop's timer.
            serverSource.Remove();
            server = bed.Socket(ZmqSocketType.Router);
            bool bound = false;
            using var binder = bed.Loop
                .Timer(TimeSpan.Zero, _ => bound ? TimeoutAction.Drop : TimeoutAction.ToDuration(TimeSpan.FromMilliseconds(5)))
                .Subscribe(_ => bound = TryBind(server, endpoint));
            bed.Loop.DispatchUntil(() => bound, "binding the restarted server");
            serverSource = StartEchoServer(bed, server);
        }

        replies.AssertClean();

        static ZmqSource StartEchoServer(ZmqTestBed bed, ZmqSocket socket)
        {
            ZmqSender? echo = null;
            var (sender, source, _) = bed.Start(socket, message => echo!.Send(message));
            echo = sender;
            return source;
        }

        static bool TryBind(ZmqSocket socket, string endpoint)
        {
            try
            {
                socket.Bind(endpoint);
                return true;
            }
            catch (ZmqException e) when (e.Errno == 98)
            {
                return false;
            }
        }
    }

    /// <summary>A socket for a peer on another thread: its blocking calls give up rather than hang a failed test.</summary>
    private static ZmqSocket PeerSocket(ZmqTestBed bed, ZmqSocketType type)
    {
        var socket = bed.Socket(type);
        socket.ReceiveTimeout = LoopExtensions.Patience;
        socket.SendTimeout = LoopExtensions.Patience;
        return socket;
    }
}
