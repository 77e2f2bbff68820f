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
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Repeat_of_a_timer_fails_with_an_error_that_names_Defer_and_the_loop_goes_idle()
    {
        using var loop = new EventLoop(LoopClock.Virtual(Start));
        var observer = new ContractObserver<DateTimeOffset>(loop);
        using IDisposable subscription = loop.Timer(TimeSpan.FromSeconds(1)).Repeat().Subscribe(observer);

        loop.AdvanceBy(TimeSpan.FromSeconds(1));

        Assert.Equal([Start.AddSeconds(1)], observer.Values);
        var error = Assert.IsType<InvalidOperationException>(observer.Error);
        Assert.Contains("Observable.Defer", error.Message);
        Assert.Null(loop.NextDeadline);
        observer.AssertClean();
    }

    [Fact]
    public void Repeat_of_an_already_ended_source_fails_the_same_way()
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
    public void Retry_of_a_failed_source_stops_with_the_error_that_explains_it()
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
    public void Retry_of_a_refused_registration_tries_again_and_ends_with_the_refusal()
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
    public void A_late_subscriber_outside_the_end_still_hears_how_the_source_ended()
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
    public void Defer_makes_a_new_timer_per_subscription_so_Repeat_ticks()
    {
        using var loop = new EventLoop(LoopClock.Virtual(Start));
        var ticks = new List<DateTimeOffset>();
        bool completed = false;
        using IDisposable subscription = Observable.Defer(() => loop.Timer(TimeSpan.FromSeconds(1)))
            .Repeat()
            .Take(3)
            .Subscribe(ticks.Add, () => completed = true);

        loop.AdvanceBy(TimeSpan.FromSeconds(5));

        Assert.Equal([Start.AddSeconds(1), Start.AddSeconds(2), Start.AddSeconds(3)], ticks);
        Assert.True(completed);
    }
}
