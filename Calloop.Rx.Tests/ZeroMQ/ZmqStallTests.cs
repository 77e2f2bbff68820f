using System.Diagnostics;
using System.Text;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// Sockets that report POLLOUT yet refuse the send with EAGAIN: a ROUTER with ROUTER_MANDATORY whose message is for
/// a stalled peer while another peer has room, and an XPUB with XPUB_NODROP (always POLLOUT) at a subscriber's
/// high-water mark. The source must wait for the peer (an edge or its retry timer), not spin the loop, and must
/// deliver everything in order once the peer drains. The stalled peers are plain libzmq sockets the test never reads
/// until it chooses to. Serial: the dispatch count is measured over a wall-clock window.
/// </summary>
[Collection("Serial")]
public class ZmqStallTests
{
    private const int Messages = 50;

    // Without the back-off each dispatch returned at once (the source pinged itself): over a million in 2 s.
    // With it, a window sees its retry timer (1 ms doubling to 100 ms) and the 50 ms dispatch timeouts.
    private const int MostDispatchesInWindow = 100;
    private static readonly TimeSpan s_window = TimeSpan.FromMilliseconds(500);

    [Fact]
    public void RouterMandatory_WithAStalledPeer_DoesNotSpinTheLoop()
    {
        using var bed = new ZmqTestBed();
        var (sender, observer, stalled, free) = bed.MandatoryRouterWithPeers("stalled", "free");
        for (int i = 0; i < Messages; i++)
        {
            sender.Send(Encoding.UTF8.GetBytes("stalled"), Frames.Int(i));
        }

        // POLLOUT (the free peer has room), EAGAIN for every message to the stalled one.
        int dispatches = CountDispatches(bed.Loop);
        Assert.InRange(dispatches, 1, MostDispatchesInWindow);
        Assert.InRange(sender.Pending, 1, Messages - 1);

        // The peer drains: an edge (libzmq tells the ROUTER its pipe has room again) brings the rest, in order.
        var received = new List<int>();
        bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(stalled, received) == Messages, "the stalled peer's messages");
        Assert.Equal(Enumerable.Range(0, Messages), received);
        Assert.False(free.TryReceiveMultipart(out _));
        observer.AssertClean();
    }

    [Fact]
    public void XPubNoDrop_AtTheHighWaterMark_DoesNotSpinTheLoop()
    {
        using var bed = new ZmqTestBed();
        var xpub = bed.Socket(ZmqSocketType.XPub);
        xpub.SetOption(ZmqSocketOption.XPubNoDrop, 1);
        xpub.SendHighWaterMark = 1;
        string endpoint = bed.Bind(xpub, ZmqTestBed.Inproc);
        var sub = bed.Socket(ZmqSocketType.Sub);
        sub.ReceiveHighWaterMark = 1;
        sub.Subscribe(string.Empty);
        sub.Connect(endpoint);
        var (sender, _, observer) = bed.Start(xpub);

        // Publish only once the subscription arrived, or the XPUB drops the messages for want of a subscriber.
        bed.Loop.DispatchUntil(() => observer.Values.Count == 1, "the subscription");
        for (int i = 0; i < Messages; i++)
        {
            sender.Send(Frames.Int(i));
        }

        int dispatches = CountDispatches(bed.Loop);
        Assert.InRange(dispatches, 1, MostDispatchesInWindow);
        Assert.InRange(sender.Pending, 1, Messages - 1);

        var received = new List<int>();
        bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(sub, received) == Messages, "the subscriber's messages");
        Assert.Equal(Enumerable.Range(0, Messages), received);
        observer.AssertClean();
    }

    private static int CountDispatches(EventLoop loop)
    {
        int dispatches = 0;
        var window = Stopwatch.StartNew();
        while (window.Elapsed < s_window)
        {
            loop.Dispatch(TimeSpan.FromMilliseconds(50));
            dispatches++;
        }

        return dispatches;
    }
}
