using System.Diagnostics;
using System.Reactive;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Loop;

public class SpinBeforeWaitTests
{
    [Fact]
    public void SpinBeforeWait_Negative_IsRejectedAndTheLoopStaysUsable()
    {
        using var loop = new EventLoop();
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.SpinBeforeWait = TimeSpan.FromTicks(-1));
        Assert.Equal(TimeSpan.FromMicroseconds(20), loop.SpinBeforeWait);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(5000)]
    public void SpinBeforeWait_SpinningOrNot_HonoursTimeoutsAndWakesOnACrossThreadPing(int spinMicroseconds)
    {
        using var loop = new EventLoop { SpinBeforeWait = TimeSpan.FromMicroseconds(spinMicroseconds) };
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);

        // Nothing happens: the dispatch returns after its timeout, not before (the spin never outlasts the timeout).
        long start = Stopwatch.GetTimestamp();
        loop.Dispatch(TimeSpan.FromMilliseconds(2));
        Assert.True(Stopwatch.GetElapsedTime(start) >= TimeSpan.FromMilliseconds(2));
        Assert.Empty(observer.Values);

        // A ping from another thread ends a dispatch that would otherwise wait forever, spinning or blocked.
        var sender = new Thread(() => ping.Send());
        sender.Start();
        loop.DispatchUntil(() => observer.Values.Count == 1, "the cross-thread ping");
        sender.Join();
        observer.AssertClean();
    }
}
