using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using Calloop.Rx.Testing;
using Calloop.Rx.Tests.Infrastructure;
using Microsoft.Reactive.Testing;
using static Microsoft.Reactive.Testing.ReactiveTest;

namespace Calloop.Rx.Tests.Scheduling;

/// <summary>
/// Rx's own time operators running on <see cref="EventLoop.Scheduler"/> with the loop's virtual clock, recorded with
/// Microsoft.Reactive.Testing through <see cref="LoopTestScheduler"/>: the recorded ticks are exact.
/// </summary>
public class RxOperatorTests
{
    private static readonly DateTimeOffset s_start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Ticks of <paramref name="ms"/> milliseconds: the test scheduler's clock counts ticks.</summary>
    private static long At(double ms) => TimeSpan.FromMilliseconds(ms).Ticks;

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void ObserveOn_FromAForeignThread_DeliversOnTheLoopThreadInOrder()
    {
        using var loop = new EventLoop();
        var subject = new Subject<int>();
        var observer = new ContractObserver<int>(loop);
        using var subscription = subject.ObserveOn(loop.Scheduler).Subscribe(observer);
        var producer = new Thread(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                subject.OnNext(i);
            }

            subject.OnCompleted();
        });
        producer.Start();
        loop.DispatchUntil(() => observer.Completed);
        producer.Join();
        Assert.Equal(Enumerable.Range(0, 1000), observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void ObserveOn_InVirtualTime_DeliversAtTheTimeOfEmission()
    {
        // ObserveOn re-schedules its drain once per element; those immediate items must run before the clock moves
        // on to a later deadline (here a far timer), or every element after the first would arrive late.
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var subject = new Subject<int>();
        loop.Scheduler.Schedule(s_start + Ms(1000), () =>
        {
            subject.OnNext(1);
            subject.OnNext(2);
            subject.OnNext(3);
        });
        loop.Scheduler.Schedule(s_start + Ms(10_000), () => { });
        var seen = new List<(int, DateTimeOffset)>();
        subject.ObserveOn(loop.Scheduler).Subscribe(value => seen.Add((value, loop.Now)));
        loop.AdvanceBy(TimeSpan.FromSeconds(20));
        Assert.Equal([(1, s_start + Ms(1000)), (2, s_start + Ms(1000)), (3, s_start + Ms(1000))], seen);
    }

    [Fact]
    public void Timer_OnTheLoopScheduler_FiresAtVirtualTimes()
    {
        using var scheduler = new LoopTestScheduler();
        EventLoop loop = scheduler.Loop;
        ITestableObserver<long> once = Observable.Timer(TimeSpan.FromSeconds(2), loop.Scheduler).Record(scheduler);
        ITestableObserver<long> absolute = Observable.Timer(loop.Now + Ms(1500), loop.Scheduler).Record(scheduler);
        ITestableObserver<long> periodic = Observable.Timer(Ms(1000), Ms(500), loop.Scheduler).Take(3).Record(scheduler);
        scheduler.AdvanceBy(At(5000));
        Assert.Equal([OnNext(At(2000), 0L), OnCompleted<long>(At(2000))], once.Messages);
        Assert.Equal([OnNext(At(1500), 0L), OnCompleted<long>(At(1500))], absolute.Messages);
        Assert.Equal([OnNext(At(1000), 0L), OnNext(At(1500), 1L), OnNext(At(2000), 2L), OnCompleted<long>(At(2000))], periodic.Messages);
    }

    [Fact]
    public void Interval_OnTheLoopScheduler_TicksAtVirtualTimes()
    {
        using var scheduler = new LoopTestScheduler();
        ITestableObserver<long> observer = Observable.Interval(TimeSpan.FromSeconds(1), scheduler.Loop.Scheduler).Take(3).Record(scheduler);
        scheduler.AdvanceBy(At(2500));
        Assert.Equal([OnNext(At(1000), 0L), OnNext(At(2000), 1L)], observer.Messages);
        scheduler.AdvanceBy(At(10_000));
        Assert.Equal([OnNext(At(1000), 0L), OnNext(At(2000), 1L), OnNext(At(3000), 2L), OnCompleted<long>(At(3000))], observer.Messages);
    }

    [Fact]
    public void Interval_StopsWhenUnsubscribed()
    {
        using var scheduler = new LoopTestScheduler();
        ITestableObserver<long> observer = Observable.Interval(TimeSpan.FromSeconds(1), scheduler.Loop.Scheduler).Record(scheduler, out IDisposable subscription);
        scheduler.AdvanceBy(At(2500));
        subscription.Dispose();
        scheduler.AdvanceBy(At(10_000));
        Assert.Equal([OnNext(At(1000), 0L), OnNext(At(2000), 1L)], observer.Messages);
    }

    [Fact]
    public void Throttle_OnTheLoopScheduler_KeepsTheLastOfEachBurst()
    {
        using var scheduler = new LoopTestScheduler();
        var source = scheduler.CreateHotObservable(OnNext(At(100), 1), OnNext(At(200), 2), OnNext(At(1000), 3), OnNext(At(1100), 4), OnCompleted<int>(At(3000)));
        ITestableObserver<int> observer = source.Throttle(Ms(500), scheduler.Loop.Scheduler).Record(scheduler);
        scheduler.AdvanceBy(At(5000));
        Assert.Equal([OnNext(At(700), 2), OnNext(At(1600), 4), OnCompleted<int>(At(3000))], observer.Messages);
    }

    [Fact]
    public void Buffer_TimeSpan()
    {
        using var scheduler = new LoopTestScheduler();
        var source = scheduler.CreateHotObservable(OnNext(At(100), 1), OnNext(At(500), 2), OnNext(At(1500), 3), OnCompleted<int>(At(2500)));
        ITestableObserver<string> observer = source.Buffer(Ms(1000), scheduler.Loop.Scheduler).Select(b => string.Join(",", b)).Record(scheduler);
        scheduler.AdvanceBy(At(5000));
        Assert.Equal([OnNext(At(1000), "1,2"), OnNext(At(2000), "3"), OnNext(At(2500), ""), OnCompleted<string>(At(2500))], observer.Messages);
    }

    [Fact]
    public void Timeout_OnTheLoopScheduler_FailsAtTheDeadline()
    {
        using var scheduler = new LoopTestScheduler();
        var source = scheduler.CreateHotObservable(OnNext(At(1000), 1));
        ITestableObserver<int> observer = source.Timeout(Ms(3000), scheduler.Loop.Scheduler).Record(scheduler);
        scheduler.AdvanceBy(At(3999));
        Assert.Equal([OnNext(At(1000), 1)], observer.Messages);
        scheduler.AdvanceBy(At(1));
        Assert.Equal(2, observer.Messages.Count);
        Assert.Equal(At(4000), observer.Messages[1].Time);
        Assert.IsType<TimeoutException>(observer.Messages[1].Value.Exception);
    }

    [Fact]
    public void Timeout_NotReachedWhenTheSourceCompletesInTime()
    {
        using var scheduler = new LoopTestScheduler();
        var source = scheduler.CreateHotObservable(OnNext(At(1000), 1), OnNext(At(2000), 2), OnCompleted<int>(At(2500)));
        ITestableObserver<int> observer = source.Timeout(Ms(1500), scheduler.Loop.Scheduler).Record(scheduler);
        scheduler.AdvanceBy(At(10_000));
        Assert.Equal([OnNext(At(1000), 1), OnNext(At(2000), 2), OnCompleted<int>(At(2500))], observer.Messages);
    }

    [Fact]
    public void Sample_OnTheLoopScheduler_EmitsTheLatestOnEachTick()
    {
        using var scheduler = new LoopTestScheduler();
        var source = scheduler.CreateHotObservable(OnNext(At(300), 1), OnNext(At(700), 2), OnNext(At(1500), 3), OnCompleted<int>(At(3500)));
        ITestableObserver<int> observer = source.Sample(Ms(1000), scheduler.Loop.Scheduler).Record(scheduler);
        scheduler.AdvanceBy(At(10_000));

        // Rx's Sample emits the latest new value on each tick and completes on the first tick after the source did.
        Assert.Equal([OnNext(At(1000), 2), OnNext(At(2000), 3), OnCompleted<int>(At(4000))], observer.Messages);
    }

    [Fact]
    public void Delay_OnTheLoopScheduler_ShiftsEveryNotification()
    {
        using var scheduler = new LoopTestScheduler();
        var source = scheduler.CreateHotObservable(OnNext(At(100), 1), OnNext(At(500), 2), OnCompleted<int>(At(1000)));
        ITestableObserver<int> observer = source.Delay(Ms(2000), scheduler.Loop.Scheduler).Record(scheduler);
        scheduler.AdvanceBy(At(10_000));
        Assert.Equal([OnNext(At(2100), 1), OnNext(At(2500), 2), OnCompleted<int>(At(3000))], observer.Messages);
    }

    [Fact]
    public void TimestampAndTimeInterval_OnTheLoopScheduler_ReadTheVirtualClock()
    {
        using var scheduler = new LoopTestScheduler();
        EventLoop loop = scheduler.Loop;
        DateTimeOffset start = loop.Now;
        var source = scheduler.CreateHotObservable(OnNext(At(250), 1), OnNext(At(1250), 2), OnCompleted<int>(At(2000)));
        ITestableObserver<DateTimeOffset> stamps = source.Timestamp(loop.Scheduler).Select(t => t.Timestamp).Record(scheduler);
        ITestableObserver<TimeSpan> intervals = source.TimeInterval(loop.Scheduler).Select(t => t.Interval).Record(scheduler);
        scheduler.AdvanceBy(At(5000));
        Assert.Equal([start + Ms(250), start + Ms(1250)], stamps.Values());
        Assert.Equal([Ms(250), Ms(1000)], intervals.Values());
    }
}
