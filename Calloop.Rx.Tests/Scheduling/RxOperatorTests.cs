using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using Calloop.Rx.Testing;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Scheduling;

/// <summary>
/// Rx's own time operators running on <see cref="EventLoop.Scheduler"/> with the loop's virtual clock: the
/// recorded times are exact, which is the point of the virtual clock (Microsoft.Reactive.Testing is not available).
/// </summary>
public class RxOperatorTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(double ms) => T0 + TimeSpan.FromMilliseconds(ms);

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>A hot source: each value is pushed at its virtual time (ms after T0), then it completes at <paramref name="completeAt"/>.</summary>
    private static IObservable<T> Hot<T>(EventLoop loop, double completeAt, params (double Ms, T Value)[] values)
    {
        var subject = new Subject<T>();
        foreach (var (ms, value) in values)
        {
            loop.Scheduler.Schedule(At(ms), () => subject.OnNext(value));
        }

        loop.Scheduler.Schedule(At(completeAt), subject.OnCompleted);
        return subject;
    }

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
        using var loop = new EventLoop(LoopClock.Virtual(T0));
        var subject = new Subject<int>();
        loop.Scheduler.Schedule(At(1000), () =>
        {
            subject.OnNext(1);
            subject.OnNext(2);
            subject.OnNext(3);
        });
        loop.Scheduler.Schedule(At(10_000), () => { });
        Recorder<int> recorder = subject.ObserveOn(loop.Scheduler).Record(loop);
        loop.AdvanceBy(TimeSpan.FromSeconds(20));
        Assert.Equal([Recorded.OnNext(At(1000), 1), Recorded.OnNext(At(1000), 2), Recorded.OnNext(At(1000), 3)], recorder.Messages);
    }

    [Fact]
    public void Timer()
    {
        using var loop = new EventLoop(LoopClock.Virtual(T0));
        Recorder<long> once = Observable.Timer(TimeSpan.FromSeconds(2), loop.Scheduler).Record(loop);
        Recorder<long> absolute = Observable.Timer(At(1500), loop.Scheduler).Record(loop);
        Recorder<long> periodic = Observable.Timer(Ms(1000), Ms(500), loop.Scheduler).Take(3).Record(loop);
        loop.AdvanceBy(TimeSpan.FromSeconds(5));
        Assert.Equal([Recorded.OnNext(At(2000), 0L), Recorded.OnCompleted<long>(At(2000))], once.Messages);
        Assert.Equal([Recorded.OnNext(At(1500), 0L), Recorded.OnCompleted<long>(At(1500))], absolute.Messages);
        Assert.Equal(
            [Recorded.OnNext(At(1000), 0L), Recorded.OnNext(At(1500), 1L), Recorded.OnNext(At(2000), 2L), Recorded.OnCompleted<long>(At(2000))],
            periodic.Messages);
    }

    [Fact]
    public void Interval()
    {
        using var loop = new EventLoop(LoopClock.Virtual(T0));
        Recorder<long> recorder = Observable.Interval(TimeSpan.FromSeconds(1), loop.Scheduler).Take(3).Record(loop);
        loop.AdvanceBy(Ms(2500));
        Assert.Equal([Recorded.OnNext(At(1000), 0L), Recorded.OnNext(At(2000), 1L)], recorder.Messages);
        loop.AdvanceBy(TimeSpan.FromSeconds(10));
        Assert.Equal(
            [Recorded.OnNext(At(1000), 0L), Recorded.OnNext(At(2000), 1L), Recorded.OnNext(At(3000), 2L), Recorded.OnCompleted<long>(At(3000))],
            recorder.Messages);
    }

    [Fact]
    public void Interval_StopsWhenUnsubscribed()
    {
        using var loop = new EventLoop(LoopClock.Virtual(T0));
        Recorder<long> recorder = Observable.Interval(TimeSpan.FromSeconds(1), loop.Scheduler).Record(loop, out IDisposable subscription);
        loop.AdvanceBy(Ms(2500));
        subscription.Dispose();
        loop.AdvanceBy(TimeSpan.FromSeconds(10));
        Assert.Equal([Recorded.OnNext(At(1000), 0L), Recorded.OnNext(At(2000), 1L)], recorder.Messages);
    }

    [Fact]
    public void Throttle()
    {
        using var loop = new EventLoop(LoopClock.Virtual(T0));
        IObservable<int> source = Hot(loop, 3000, (100, 1), (200, 2), (1000, 3), (1100, 4));
        Recorder<int> recorder = source.Throttle(Ms(500), loop.Scheduler).Record(loop);
        loop.AdvanceBy(TimeSpan.FromSeconds(5));
        Assert.Equal([Recorded.OnNext(At(700), 2), Recorded.OnNext(At(1600), 4), Recorded.OnCompleted<int>(At(3000))], recorder.Messages);
    }

    [Fact]
    public void Buffer_TimeSpan()
    {
        using var loop = new EventLoop(LoopClock.Virtual(T0));
        IObservable<int> source = Hot(loop, 2500, (100, 1), (500, 2), (1500, 3));
        Recorder<string> recorder = source.Buffer(Ms(1000), loop.Scheduler).Select(b => string.Join(",", b)).Record(loop);
        loop.AdvanceBy(TimeSpan.FromSeconds(5));
        Assert.Equal(
            [Recorded.OnNext(At(1000), "1,2"), Recorded.OnNext(At(2000), "3"), Recorded.OnNext(At(2500), ""), Recorded.OnCompleted<string>(At(2500))],
            recorder.Messages);
    }

    [Fact]
    public void Timeout()
    {
        using var loop = new EventLoop(LoopClock.Virtual(T0));
        var never = new Subject<int>();
        loop.Scheduler.Schedule(At(1000), () => never.OnNext(1));
        Recorder<int> recorder = never.Timeout(Ms(3000), loop.Scheduler).Record(loop);
        loop.AdvanceBy(Ms(3999));
        Assert.Equal([Recorded.OnNext(At(1000), 1)], recorder.Messages);
        loop.AdvanceBy(Ms(1));
        Assert.Equal(2, recorder.Messages.Count);
        Assert.Equal(At(4000), recorder.Messages[1].Time);
        Assert.IsType<TimeoutException>(recorder.Error);
    }

    [Fact]
    public void Timeout_NotReachedWhenTheSourceCompletesInTime()
    {
        using var loop = new EventLoop(LoopClock.Virtual(T0));
        IObservable<int> source = Hot(loop, 2500, (1000, 1), (2000, 2));
        Recorder<int> recorder = source.Timeout(Ms(1500), loop.Scheduler).Record(loop);
        loop.AdvanceBy(TimeSpan.FromSeconds(10));
        Assert.Equal([Recorded.OnNext(At(1000), 1), Recorded.OnNext(At(2000), 2), Recorded.OnCompleted<int>(At(2500))], recorder.Messages);
    }

    [Fact]
    public void Sample()
    {
        using var loop = new EventLoop(LoopClock.Virtual(T0));
        IObservable<int> source = Hot(loop, 3500, (300, 1), (700, 2), (1500, 3));
        Recorder<int> recorder = source.Sample(Ms(1000), loop.Scheduler).Record(loop);
        loop.AdvanceBy(TimeSpan.FromSeconds(10));

        // Rx's Sample emits the latest new value on each tick and completes on the first tick after the source did.
        Assert.Equal([Recorded.OnNext(At(1000), 2), Recorded.OnNext(At(2000), 3), Recorded.OnCompleted<int>(At(4000))], recorder.Messages);
    }

    [Fact]
    public void Delay()
    {
        using var loop = new EventLoop(LoopClock.Virtual(T0));
        IObservable<int> source = Hot(loop, 1000, (100, 1), (500, 2));
        Recorder<int> recorder = source.Delay(Ms(2000), loop.Scheduler).Record(loop);
        loop.AdvanceBy(TimeSpan.FromSeconds(10));
        Assert.Equal([Recorded.OnNext(At(2100), 1), Recorded.OnNext(At(2500), 2), Recorded.OnCompleted<int>(At(3000))], recorder.Messages);
    }

    [Fact]
    public void Timestamp_And_TimeInterval_ReadTheVirtualClock()
    {
        using var loop = new EventLoop(LoopClock.Virtual(T0));
        IObservable<int> source = Hot(loop, 2000, (250, 1), (1250, 2));
        Recorder<DateTimeOffset> stamps = source.Timestamp(loop.Scheduler).Select(t => t.Timestamp).Record(loop);
        Recorder<TimeSpan> intervals = source.TimeInterval(loop.Scheduler).Select(t => t.Interval).Record(loop);
        loop.AdvanceBy(TimeSpan.FromSeconds(5));
        Assert.Equal([At(250), At(1250)], stamps.Values);
        Assert.Equal([Ms(250), Ms(1000)], intervals.Values);
    }
}
