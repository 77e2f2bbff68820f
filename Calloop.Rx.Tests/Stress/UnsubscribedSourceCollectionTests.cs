using System.Runtime.InteropServices;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// A source nobody is subscribed to, whose senders are gone (disposed or just dropped), is garbage: a long-lived
/// loop must not keep it. Serial because it measures the heap (parallel tests would allocate meanwhile) and
/// takes over a signal.
/// </summary>
[Collection("Serial")]
public class UnsubscribedSourceCollectionTests
{
    private const int Cycles = 100_000;

    // A source kept alive after its last subscriber costs 150-850 B (14-81 MiB for 100,000); what stays must be noise.
    private const long Allowed = 4 << 20;

    public static TheoryData<string> Kinds =>
    [
        "channel, sender disposed",
        "channel, sender dropped",
        "channel, message queued, sender dropped",
        "sync channel, sender disposed",
        "sync channel, sender dropped",
        "ping, sender disposed",
        "ping, sender dropped",
        "ping, subscribed then unsubscribed",
        "signals",
        "signals, subscribed then unsubscribed",
    ];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void UnsubscribedSources_CreatedAndDropped100kTimes_AreCollectedWhileTheLoopLives(string kind)
    {
        using var loop = new EventLoop();
        for (int i = 0; i < 1000; i++)
        {
            CreateAndDrop(loop, kind);
        }

        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < Cycles; i++)
        {
            CreateAndDrop(loop, kind);
        }

        long kept = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(kept < Allowed, $"{kind}: {kept / Cycles} B per source kept ({kept >> 20} MiB for {Cycles})");

        // The loop itself still works.
        var (ping, pings) = loop.Ping();
        int pinged = 0;
        using IDisposable subscription = pings.Subscribe(_ => pinged++);
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(1, pinged);
    }

    private static void CreateAndDrop(EventLoop loop, string kind)
    {
        switch (kind)
        {
            case "channel, sender disposed":
                loop.Channel<int>().Sender.Dispose();
                break;
            case "channel, sender dropped":
                loop.Channel<int>();
                break;
            case "channel, message queued, sender dropped":
                Assert.Equal(SendResult.Sent, loop.Channel<int>().Sender.TrySend(1));
                break;
            case "sync channel, sender disposed":
                loop.BoundedChannel<int>(4).Sender.Dispose();
                break;
            case "sync channel, sender dropped":
                loop.BoundedChannel<int>(4);
                break;
            case "ping, sender disposed":
                loop.Ping().Ping.Dispose();
                break;
            case "ping, sender dropped":
                loop.Ping();
                break;
            case "ping, subscribed then unsubscribed":
                var (ping, pings) = loop.Ping();
                pings.Subscribe(_ => { }).Dispose();
                ping.Dispose();
                break;
            case "signals":
                loop.Signals((PosixSignal)TestSys.SIGUSR2);
                break;
            case "signals, subscribed then unsubscribed":
                loop.Signals((PosixSignal)TestSys.SIGUSR2).Subscribe(_ => { }).Dispose();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }
}
