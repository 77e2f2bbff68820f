using System.Text;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// A ROUTER's outbox has one lane per peer: messages for a stalled peer (ROUTER_MANDATORY, its high-water mark
/// reached) wait in their own lane while the other peers' messages go out, and each peer gets its own in order.
/// </summary>
public class ZmqRouterLaneTests
{
    private const int Messages = 100;

    [Fact]
    public void Router_WithAStalledPeer_DoesNotHoldUpTheOtherPeers()
    {
        using var bed = new ZmqTestBed();
        var (sender, observer, stalled, idle) = bed.MandatoryRouterWithPeers("stalled", "idle");

        // The stalled peer's messages are queued first: with a single outbox they blocked everything behind them.
        for (int i = 0; i < Messages; i++)
        {
            sender.Send(Encoding.UTF8.GetBytes("stalled"), Frames.Int(i));
        }

        for (int i = 0; i < Messages; i++)
        {
            sender.Send(Encoding.UTF8.GetBytes("idle"), Frames.Int(i));
        }

        var toIdle = new List<int>();
        bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(idle, toIdle) == Messages, "the idle peer's messages, while the other peer stalls");
        Assert.Equal(Enumerable.Range(0, Messages), toIdle);
        Assert.InRange(sender.Pending, 1, Messages - 1);

        var toStalled = new List<int>();
        bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(stalled, toStalled) == Messages, "the stalled peer's messages once it reads");
        Assert.Equal(Enumerable.Range(0, Messages), toStalled);
        Assert.Equal(0, sender.Pending);
        observer.AssertClean();
    }
}
