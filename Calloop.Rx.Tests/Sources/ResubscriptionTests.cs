using System.Reactive;
using System.Reactive.Linq;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Sources;

/// <summary>
/// A hot loop source ends once. Rx's re-subscribing operators applied to it get a clear error instead of the same
/// end replayed forever (which kept the loop from ever blocking); <c>Observable.Defer</c> makes a new source per
/// subscription, which is how to repeat a timer.
/// </summary>
public class ResubscriptionTests
{
    private static readonly DateTimeOffset s_start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Repeat_OfATimer_FailsNamingDeferAndTheLoopGoesIdle()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var observer = new ContractObserver<DateTimeOffset>(loop);
        using IDisposable subscription = loop.Timer(TimeSpan.FromSeconds(1)).Repeat().Subscribe(observer);

        loop.AdvanceBy(TimeSpan.FromSeconds(1));

        Assert.Equal([s_start.AddSeconds(1)], observer.Values);
        var error = Assert.IsType<InvalidOperationException>(observer.Error);
        Assert.Contains("Observable.Defer", error.Message);
        Assert.Null(loop.NextDeadline);
        observer.AssertClean();
    }

    [Fact]
    public void Repeat_OfAnEndedSource_FailsTheSameWay()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        pings.Subscribe(_ => { });
        ping.Dispose();
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(pings.IsTerminated);
        var observer = new ContractObserver<Unit>(loop);

        using IDisposable subscription = pings.Repeat().Subscribe(observer);
        loop.DispatchUntil(() => observer.Error is not null, "the error");

        Assert.IsType<InvalidOperationException>(observer.Error);
        Assert.Empty(observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void Retry_OfAFailedSource_StopsWithAnExplainingError()
    {
        using var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        var observer = new ContractObserver<int>(loop);
        using IDisposable subscription = loop.Insert(new FdEventSource(pipe.Second) { Failure = new InvalidDataException("the source cannot go on") }).Retry(3).Subscribe(observer);

        // The source fails on its first event; Retry subscribes again from inside that OnError and is told why not.
        // (An unbounded Retry keeps asking, as it does of any observable that fails every time.)
        TestSys.Write(pipe.First, [1]);
        loop.DispatchUntil(() => observer.Error is not null, "the error");

        var error = Assert.IsType<InvalidOperationException>(observer.Error);
        Assert.Contains("Retry", error.Message);
        observer.AssertClean();
    }

    [Fact]
    public void Retry_OfARefusedRegistration_TriesAgainAndEndsWithTheRefusal()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        using IDisposable first = loop.Fd(pair.Second).Subscribe(_ => { });
        var observer = new ContractObserver<Readiness>(loop);

        // A refusal leaves the source unregistered, not ended: each retry asks the kernel again.
        using IDisposable subscription = loop.Fd(pair.Second).Retry(3).Subscribe(observer);
        loop.DispatchUntil(() => observer.Error is not null, "the error");

        Assert.IsType<LoopException>(observer.Error);
        observer.AssertClean();
    }

    [Fact]
    public void Subscribe_LateOutsideTheEnd_StillHearsHowTheSourceEnded()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        pings.Subscribe(_ => { });
        ping.Dispose();
        loop.Dispatch(TimeSpan.Zero);
        var late = new ContractObserver<Unit>(loop);

        pings.Subscribe(late);
        loop.Dispatch(TimeSpan.Zero);

        Assert.True(late.Completed);
        late.AssertClean();
    }

    [Fact]
    public void Defer_NewTimerPerSubscription_LetsRepeatTick()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var ticks = new List<DateTimeOffset>();
        bool completed = false;
        using IDisposable subscription = Observable.Defer(() => loop.Timer(TimeSpan.FromSeconds(1)))
            .Repeat()
            .Take(3)
            .Subscribe(ticks.Add, () => completed = true);

        loop.AdvanceBy(TimeSpan.FromSeconds(5));

        Assert.Equal([s_start.AddSeconds(1), s_start.AddSeconds(2), s_start.AddSeconds(3)], ticks);
        Assert.True(completed);
    }
}
