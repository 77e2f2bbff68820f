using System.Reactive;
using System.Runtime.InteropServices;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// Churn: many subscribe/dispose cycles on a long-lived source and create/drop cycles of new sources, of every
/// kind, after which the process's open fds and the managed heap are back at their baseline (small slack for the
/// heap). 100,000 cycles per kind in CI, a million and more with <c>CALLOOP_SOAK</c>. Serial because it counts
/// the process's fds and measures the heap.
/// </summary>
[Collection("Serial")]
public class ChurnTests
{
    /// <summary>Heap growth tolerated: far below what a leak of a few bytes per cycle adds up to over the run.</summary>
    private const long HeapSlack = 1 << 20;

    private static readonly int s_cycles = StressSettings.Scaled(100_000);

    private static readonly IObserver<Unit> s_unitSink = Observer.Create<Unit>(_ => { });

    private static readonly IObserver<int> s_intSink = Observer.Create<int>(_ => { });

    private static readonly IObserver<SignalEvent> s_signalSink = Observer.Create<SignalEvent>(_ => { });

    [Fact]
    public void TimerChurn_LeavesNoFdOrHeapGrowth()
    {
        using var loop = new EventLoop();
        TimerSource steady = loop.Timer(TimeSpan.FromHours(1));
        var sink = Observer.Create<DateTimeOffset>(_ => { });
        AssertNoGrowth(loop, i =>
        {
            steady.Subscribe(sink).Dispose();

            // Every other new timer is cancelled, the rest fire and complete on the next dispatch.
            IDisposable fresh = loop.Timer(i % 2 == 0 ? TimeSpan.FromHours(1) : TimeSpan.Zero).Subscribe(sink);
            if (i % 2 == 0)
            {
                fresh.Dispose();
            }
        });
    }

    [Fact]
    public void FdChurn_LeavesNoFdOrHeapGrowth()
    {
        using var pipe = FdPair.Pipe();
        using var loop = new EventLoop();
        FdSource steady = loop.Fd(pipe.Second);
        var sink = Observer.Create<Readiness>(_ => { });
        AssertNoGrowth(loop, _ =>
        {
            steady.Subscribe(sink).Dispose();
            loop.Fd(pipe.Second, Interest.Read, TriggerMode.Edge).Subscribe(sink).Dispose();
        });
    }

    [Fact]
    public void PingSubscribeDisposeChurn_LeavesNoFdOrHeapGrowth()
    {
        using var loop = new EventLoop();
        var (ping, source) = loop.Ping();
        AssertNoGrowth(loop, _ =>
        {
            ping.Send();
            source.Subscribe(s_unitSink).Dispose();
        });
        ping.Dispose();
    }

    [Fact]
    public void PingCreateDropChurn_LeavesNoFdOrHeapGrowth()
    {
        using var loop = new EventLoop();
        AssertNoGrowth(loop, i =>
        {
            var (ping, source) = loop.Ping();
            IDisposable subscription = source.Subscribe(s_unitSink);
            ping.Send();
            Drop(i, ping, subscription);
        });
    }

    [Fact]
    public void ChannelSubscribeDisposeChurn_LeavesNoFdOrHeapGrowth()
    {
        using var loop = new EventLoop();
        var (sender, source) = loop.Channel<int>();
        AssertNoGrowth(loop, i =>
        {
            // Delivered while subscribed: a queue nobody drains would grow with the cycles, by design.
            IDisposable subscription = source.Subscribe(s_intSink);
            sender.TrySend(i);
            loop.Dispatch(TimeSpan.Zero);
            subscription.Dispose();
        });
        sender.Dispose();
    }

    [Fact]
    public void ChannelCreateDropChurn_LeavesNoFdOrHeapGrowth()
    {
        using var loop = new EventLoop();
        AssertNoGrowth(loop, i =>
        {
            var (sender, source) = loop.Channel<int>();
            IDisposable subscription = source.Subscribe(s_intSink);
            sender.TrySend(i);
            Drop(i, sender, subscription);
        });
    }

    [Fact]
    public void BoundedChannelSubscribeDisposeChurn_LeavesNoFdOrHeapGrowth()
    {
        using var loop = new EventLoop();
        var (sender, source) = loop.BoundedChannel<int>(4);
        AssertNoGrowth(loop, i =>
        {
            sender.TrySend(i);
            source.Subscribe(s_intSink).Dispose();
        });
        sender.Dispose();
    }

    [Fact]
    public void BoundedChannelCreateDropChurn_LeavesNoFdOrHeapGrowth()
    {
        using var loop = new EventLoop();
        AssertNoGrowth(loop, i =>
        {
            var (sender, source) = loop.BoundedChannel<int>(1 + (i % 8));
            IDisposable subscription = source.Subscribe(s_intSink);
            sender.TrySend(i);
            Drop(i, sender, subscription);
        });
    }

    [Fact]
    public void SignalSubscribeDisposeChurn_LeavesNoFdOrHeapGrowth()
    {
        using var loop = new EventLoop();
        SignalSource source = loop.Signals(PosixSignal.SIGWINCH);
        AssertNoGrowth(loop, _ => source.Subscribe(s_signalSink).Dispose(), cycles: s_cycles / 10);
    }

    [Fact]
    public void SignalCreateDropChurn_LeavesNoFdOrHeapGrowth()
    {
        using var loop = new EventLoop();
        AssertNoGrowth(loop, _ => loop.Signals(PosixSignal.SIGWINCH).Subscribe(s_signalSink).Dispose(), cycles: s_cycles / 10);
    }

    [Fact]
    public void LoopChurn_WithEverySourceKind_LeavesNoFdOrHeapGrowth()
    {
        using var pipe = FdPair.Pipe();
        AssertNoGrowth(null, i =>
        {
            using var loop = new EventLoop(i % 2 == 0 ? LoopClock.Real : LoopClock.Virtual());
            var (sender, channel) = loop.Channel<int>();
            var (syncSender, bounded) = loop.BoundedChannel<int>(2);
            var (ping, pings) = loop.Ping();
            channel.Subscribe(s_intSink);
            bounded.Subscribe(s_intSink);
            pings.Subscribe(s_unitSink);
            loop.Timer(TimeSpan.FromHours(1)).Subscribe(_ => { });
            loop.Fd(pipe.Second).Subscribe(_ => { });
            sender.TrySend(i);
            syncSender.TrySend(i);
            ping.Send();
            loop.Dispatch(TimeSpan.Zero);
        }, cycles: s_cycles / 10);
    }

    /// <summary>Drops a sender and a subscription, in either order, so both orders of the source's end are churned.</summary>
    private static void Drop(int cycle, IDisposable sender, IDisposable subscription)
    {
        if (cycle % 2 == 0)
        {
            sender.Dispose();
            subscription.Dispose();
        }
        else
        {
            subscription.Dispose();
            sender.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="cycle"/> a few thousand times to warm up, takes the baseline, runs it
    /// <paramref name="cycles"/> times (dispatching <paramref name="loop"/> now and then, so what ended is finished),
    /// then asserts that the open fds and the heap are back at the baseline.
    /// </summary>
    private static void AssertNoGrowth(EventLoop? loop, Action<int> cycle, int? cycles = null)
    {
        int count = cycles ?? s_cycles;
        int warmUp = Math.Min(count / 10, 2_000);
        for (int i = 0; i < warmUp; i++)
        {
            cycle(i);
        }

        loop?.Dispatch(TimeSpan.Zero);
        loop?.Dispatch(TimeSpan.Zero);
        HashSet<int> fds = TestSys.OpenFds();
        long heap = Heap();
        for (int i = 0; i < count; i++)
        {
            cycle(i);
            if (i % 1_000 == 999)
            {
                loop?.Dispatch(TimeSpan.Zero);
            }
        }

        loop?.Dispatch(TimeSpan.Zero);
        loop?.Dispatch(TimeSpan.Zero);
        List<string> leaked = TestSys.FdsOpenedSince(fds);
        Assert.True(leaked.Count == 0, $"open after {count} cycles: {string.Join(", ", leaked)}");
        long growth = Heap() - heap;
        Assert.True(growth < HeapSlack, $"the heap grew by {growth:N0} bytes over {count} cycles ({growth / count} per cycle)");
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
