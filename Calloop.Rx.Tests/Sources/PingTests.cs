using System.Diagnostics;
using System.Reactive;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Sources;

/// <summary>
/// The counterparts of calloop's <c>src/sources/ping.rs</c> tests. <c>docs/calloop-test-map.md</c> names the calloop
/// test behind each one. calloop's <c>TransientSource</c> wrapper ("the inner source is gone") becomes the source's own
/// end: <c>OnCompleted</c> and <see cref="LoopSource{T}.IsTerminated"/>.
/// </summary>
public class PingTests
{
    [Fact]
    public void Ping_SeveralSends_CoalesceIntoOneEvent()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);

        ping.Send();
        ping.Send();
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        // Drained by that event: nothing more.
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void Ping_DisposedBeforeSubscribe_CompletesAndTheLoopSleeps()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        ping.Dispose();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);
        Assert.True(observer.Completed);
        Assert.False(pings.IsActive);

        // The closed source is gone from epoll, so the loop really sleeps: an eventfd left registered after its last
        // sender closed would keep it spinning.
        var stopwatch = Stopwatch.StartNew();
        loop.Dispatch(TimeSpan.FromMilliseconds(100));
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(95), $"Dispatch(100ms) returned after {stopwatch.Elapsed.TotalMilliseconds} ms");
        observer.AssertClean();
    }

    [Fact]
    public void Ping_LastSenderDisposed_CompletesTheSource()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);

        ping.Dispose();
        loop.Dispatch(TimeSpan.Zero);

        Assert.Empty(observer.Values);
        Assert.True(observer.Completed);
        Assert.True(pings.IsTerminated);

        // calloop then removes the wrapper by hand; here Remove on an ended source is harmless.
        pings.Remove();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void Ping_SentThenDisposed_DeliversThenCompletes()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);

        ping.Send();
        ping.Dispose();
        loop.Dispatch(TimeSpan.Zero);

        // The pending ping is delivered first, then the source ends, in the same dispatch.
        Assert.Single(observer.Values);
        Assert.Equal(NotificationKind.OnCompleted, observer.Notifications[^1].Kind);
        Assert.True(pings.IsTerminated);
        observer.AssertClean();
    }

    [Fact]
    public void Ping_SeveralSenders_CompletesWhenTheLastIsDisposed()
    {
        using var loop = new EventLoop();
        var (first, pings) = loop.Ping();
        Ping second = first.Clone();
        Ping third = first.Clone();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);

        first.Send();
        first.Dispose();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);
        Assert.False(observer.Completed);

        second.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);
        Assert.False(observer.Completed);

        // The last two go without pinging: no event, and the source ends.
        second.Dispose();
        third.Dispose();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);
        Assert.True(observer.Completed);
        Assert.True(pings.IsTerminated);
        observer.AssertClean();
    }
}
