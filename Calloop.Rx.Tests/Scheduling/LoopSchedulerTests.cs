using System.Diagnostics;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using Calloop.Rx.Collections;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Scheduling;

/// <summary>
/// Rx.NET's <c>EventLoopSchedulerTest</c> ported to <see cref="LoopScheduler"/> (test names kept), then the
/// behaviours worth porting from Rx's other scheduler suites, then the loop's own scheduler rules. Where the Rx
/// test used wall-clock time, the loop's virtual clock makes the assertion exact; real-clock tests assert only
/// "not early".
/// </summary>
public class LoopSchedulerTests
{
    private static readonly DateTimeOffset s_start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static EventLoop VirtualLoop() => new(LoopClock.Virtual(s_start));

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    // ---- EventLoopSchedulerTest ----

    [Fact]
    public void EventLoop_ArgumentChecking()
    {
        using var loop = VirtualLoop();
        LoopScheduler s = loop.Scheduler;
        Assert.Throws<ArgumentNullException>(() => s.Schedule(42, (Func<IScheduler, int, IDisposable>)null!));
        Assert.Throws<ArgumentNullException>(() => s.Schedule(42, Ms(1), (Func<IScheduler, int, IDisposable>)null!));
        Assert.Throws<ArgumentNullException>(() => s.Schedule(42, s_start, (Func<IScheduler, int, IDisposable>)null!));
        Assert.Throws<ArgumentNullException>(() => s.SchedulePeriodic(42, Ms(1), (Func<int, int>)null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.SchedulePeriodic(42, Ms(-1), x => x));
    }

    [Fact]
    public void EventLoop_Now()
    {
        using (var real = new EventLoop())
        {
            Assert.InRange((real.Scheduler.Now - DateTimeOffset.UtcNow).Duration(), TimeSpan.Zero, TimeSpan.FromSeconds(1));
        }

        using var loop = VirtualLoop();
        Assert.Equal(s_start, loop.Scheduler.Now);
        loop.AdvanceBy(TimeSpan.FromMinutes(3));
        Assert.Equal(s_start.AddMinutes(3), loop.Scheduler.Now);
        Assert.Equal(loop.Now, loop.Scheduler.Now);
    }

    [Fact]
    public void EventLoop_DisposeWithInFlightActions()
    {
        // ObserveOn queues one drain item per element; the loop is disposed with most of them pending.
        var loop = new EventLoop();
        var values = new List<int>();
        var subject = new Subject<int>();
        using var subscription = subject.ObserveOn(loop.Scheduler).Subscribe(values.Add);
        for (int i = 0; i < 10; i++)
        {
            subject.OnNext(i);
        }

        loop.Dispatch(TimeSpan.Zero);
        loop.Dispatch(TimeSpan.Zero);
        loop.Dispose();
        Assert.Equal([0, 1], values);

        // The producer goes on from its own thread: no exception there, and nothing is delivered any more.
        Exception? producerError = null;
        var producer = new Thread(() => producerError = Record.Exception(() => subject.OnNext(99)));
        producer.Start();
        producer.Join();
        Assert.Null(producerError);
        Assert.Equal([0, 1], values);
        Assert.Throws<ObjectDisposedException>(() => loop.Dispatch(TimeSpan.Zero));
    }

    [Fact]
    public void EventLoop_DisposeWithInFlightActions_FromInsideTheDrain()
    {
        // ObserveOn's drain re-schedules itself after each element; here the loop is disposed inside that drain, so
        // the re-schedule meets a disposed loop. As in Rx's EventLoopScheduler, that is the
        // end of the pending work, not an error coming out of Dispatch.
        var loop = new EventLoop();
        var values = new List<int>();
        using var subscription = Observable.Range(0, 10).ObserveOn(loop.Scheduler).Subscribe(v =>
        {
            values.Add(v);
            if (v == 2)
            {
                loop.Dispose();
            }
        });

        Exception? error = Record.Exception(() => loop.DispatchUntil(() => loop.IsDisposed));
        Assert.Null(error);
        Assert.Equal([0, 1, 2], values);
    }

    [Fact]
    public void EventLoop_ScheduleAction()
    {
        using var loop = new EventLoop();
        bool ran = false;
        loop.Scheduler.Schedule(() => ran = true);
        loop.Dispatch(LoopExtensions.Patience);
        Assert.True(ran);
    }

    [Fact]
    public void EventLoop_DifferentThread()
    {
        // Inverted: the loop has no thread of its own; work runs on whichever thread dispatches, including work
        // scheduled from another thread.
        using var loop = new EventLoop();
        int ranOn = 0;
        var foreign = new Thread(() => loop.Scheduler.Schedule(() => ranOn = Environment.CurrentManagedThreadId));
        foreign.Start();
        foreign.Join();
        loop.DispatchUntil(() => ranOn != 0);
        Assert.Equal(Environment.CurrentManagedThreadId, ranOn);
    }

    [Fact]
    public void EventLoop_DifferentThread_ForeignScheduleWakesBlockedDispatch()
    {
        using var loop = new EventLoop();
        int ranOn = 0;
        using var blocked = BlockedDispatch.Start(loop);
        loop.Scheduler.Schedule(() => ranOn = Environment.CurrentManagedThreadId);
        blocked.AssertReturns();
        Assert.Null(blocked.Error);
        Assert.Equal(blocked.ThreadId, ranOn);
    }

    [Fact]
    public void EventLoop_ScheduleOrderedActions()
    {
        using var loop = new EventLoop();
        var results = new List<int>();
        loop.Scheduler.Schedule(() => results.Add(0));
        loop.Scheduler.Schedule(() => results.Add(1));
        loop.DispatchUntil(() => results.Count == 2);
        Assert.Equal([0, 1], results);
    }

    [Fact]
    public void EventLoop_SchedulerDisposed()
    {
        var loop = new EventLoop();
        var results = new List<int>();
        int disposedExceptions = 0;
        loop.Scheduler.Schedule(() =>
        {
            results.Add(0);
            loop.Dispose();
            try
            {
                loop.Scheduler.Schedule(() => results.Add(-1));
            }
            catch (ObjectDisposedException)
            {
                disposedExceptions++;
            }

            // The rest of the action still runs.
            results.Add(1);
        });
        loop.Scheduler.Schedule(() => results.Add(2));

        loop.Dispatch(TimeSpan.Zero);

        var foreign = new Thread(() =>
        {
            try
            {
                loop.Scheduler.Schedule(() => results.Add(-2));
            }
            catch (ObjectDisposedException)
            {
                Interlocked.Increment(ref disposedExceptions);
            }
        });
        foreign.Start();
        foreign.Join();

        Assert.Equal([0, 1], results);
        Assert.Equal(2, disposedExceptions);
        Assert.Throws<ObjectDisposedException>(() => loop.Scheduler.Schedule(TimeSpan.FromSeconds(1), () => { }));
        Assert.Throws<ObjectDisposedException>(() => loop.Scheduler.Schedule(s_start, () => { }));
        Assert.Throws<ObjectDisposedException>(() => loop.Scheduler.SchedulePeriodic(TimeSpan.FromSeconds(1), () => { }));
    }

    [Fact]
    public void EventLoop_ScheduleTimeOrderedActions()
    {
        using var loop = VirtualLoop();
        var results = new List<(int, DateTimeOffset)>();
        loop.Scheduler.Schedule(Ms(100), () => results.Add((2, loop.Now)));
        loop.Scheduler.Schedule(Ms(50), () => results.Add((1, loop.Now)));
        loop.AdvanceBy(Ms(200));
        Assert.Equal([(1, s_start + Ms(50)), (2, s_start + Ms(100))], results);
    }

    [Fact]
    public void EventLoop_ScheduleOrderedAndTimedActions()
    {
        using var loop = VirtualLoop();
        var results = new List<int>();
        loop.Scheduler.Schedule(Ms(100), () => results.Add(1));
        loop.Scheduler.Schedule(() => results.Add(0));
        loop.AdvanceBy(Ms(200));
        Assert.Equal([0, 1], results);
    }

    [Fact]
    public void EventLoop_ScheduleTimeOrderedInFlightActions()
    {
        using var loop = VirtualLoop();
        var results = new List<int>();
        loop.Scheduler.Schedule(Ms(10), () =>
        {
            results.Add(0);
            loop.Scheduler.Schedule(Ms(100), () => results.Add(2));
            loop.Scheduler.Schedule(Ms(50), () => results.Add(1));
        });
        loop.AdvanceBy(Ms(500));
        Assert.Equal([0, 1, 2], results);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EventLoop_ScheduleTimeAndOrderedInFlightActions(bool outerIsTimed)
    {
        using var loop = VirtualLoop();
        var results = new List<(int, DateTimeOffset)>();
        Action outer = () =>
        {
            results.Add((0, loop.Now));
            loop.Scheduler.Schedule(Ms(100), () => results.Add((2, loop.Now)));
            loop.Scheduler.Schedule(Ms(50), () => results.Add((1, loop.Now)));
            loop.Scheduler.Schedule(() => results.Add((4, loop.Now)));
        };
        TimeSpan start = outerIsTimed ? Ms(10) : TimeSpan.Zero;
        if (outerIsTimed)
        {
            loop.Scheduler.Schedule(start, outer);
        }
        else
        {
            loop.Scheduler.Schedule(outer);
        }

        loop.AdvanceBy(Ms(500));

        // The immediate item runs at the time it was scheduled, before the clock moves to the next deadline.
        Assert.Equal([(0, s_start + start), (4, s_start + start), (1, s_start + start + Ms(50)), (2, s_start + start + Ms(100))], results);
    }

    [Fact]
    public void EventLoop_ScheduleActionNested()
    {
        using var loop = new EventLoop();
        var results = new List<string>();
        loop.Scheduler.Schedule(() =>
        {
            results.Add("outer start");
            loop.Scheduler.Schedule(() => results.Add("inner"));
            results.Add("outer end");
        });

        loop.Dispatch(TimeSpan.Zero);

        // Never inline, and not in the same batch: the inner item waits for the next dispatch (which does not wait).
        Assert.Equal(["outer start", "outer end"], results);
        loop.Dispatch(LoopExtensions.Patience);
        Assert.Equal(["outer start", "outer end", "inner"], results);
    }

    [Fact]
    public void EventLoop_ScheduleActionDue()
    {
        using var loop = VirtualLoop();
        DateTimeOffset? ranAt = null;
        loop.Scheduler.Schedule(Ms(200), () => ranAt = loop.Now);
        loop.AdvanceBy(Ms(199.9999));
        Assert.Null(ranAt);
        loop.AdvanceBy(Ms(1));
        Assert.Equal(s_start + Ms(200), ranAt);
    }

    [Fact]
    public void EventLoop_ScheduleActionDue_RealClockNeverEarly()
    {
        using var loop = new EventLoop();
        TimeSpan due = Ms(40);
        var stopwatch = Stopwatch.StartNew();
        DateTimeOffset scheduledAt = loop.Now;
        TimeSpan? elapsed = null;
        DateTimeOffset ranAt = default;
        loop.Scheduler.Schedule(due, () =>
        {
            elapsed = stopwatch.Elapsed;
            ranAt = loop.Now;
        });
        loop.DispatchUntil(() => elapsed.HasValue);
        Assert.True(elapsed >= due, $"ran after {elapsed}, before its due time {due}");
        Assert.True(ranAt >= scheduledAt + due, $"loop clock {ranAt - scheduledAt} after scheduling, due {due}");
    }

    [Fact]
    public void EventLoop_ScheduleActionDueNested()
    {
        using var loop = VirtualLoop();
        DateTimeOffset? innerAt = null;
        loop.Scheduler.Schedule(Ms(200), () => loop.Scheduler.Schedule(Ms(200), () => innerAt = loop.Now));
        loop.AdvanceBy(Ms(399));
        Assert.Null(innerAt);
        loop.AdvanceBy(Ms(1));
        Assert.Equal(s_start + Ms(400), innerAt);
    }

    [Fact]
    public void Stopwatch_FollowsTheVirtualClock()
    {
        using var loop = VirtualLoop();
        IStopwatch stopwatch = loop.Scheduler.StartStopwatch();
        Assert.Equal(TimeSpan.Zero, stopwatch.Elapsed);
        TimeSpan? inside = null;
        loop.Scheduler.Schedule(TimeSpan.FromSeconds(3), () => inside = stopwatch.Elapsed);
        loop.AdvanceBy(TimeSpan.FromSeconds(1.5));
        Assert.Equal(TimeSpan.FromSeconds(1.5), stopwatch.Elapsed);
        loop.AdvanceBy(TimeSpan.FromSeconds(10));
        Assert.Equal(TimeSpan.FromSeconds(3), inside);
        Assert.Equal(TimeSpan.FromSeconds(11.5), stopwatch.Elapsed);
    }

    [Fact]
    public void Stopwatch_IsMonotonicOnTheRealClock()
    {
        using var loop = new EventLoop();
        IStopwatch stopwatch = loop.Scheduler.StartStopwatch();
        TimeSpan previous = TimeSpan.Zero;
        for (int i = 0; i < 10_000; i++)
        {
            TimeSpan now = stopwatch.Elapsed;
            Assert.True(now >= previous, $"stopwatch went back from {previous} to {now}");
            previous = now;
        }

        // It reads the loop's clock, so work due 20 ms after it started never sees it below 20 ms.
        TimeSpan? inside = null;
        loop.Scheduler.Schedule(Ms(20), () => inside = stopwatch.Elapsed);
        loop.DispatchUntil(() => inside.HasValue);
        Assert.True(inside >= Ms(20), $"stopwatch read {inside} in work due after 20 ms");
    }

    [Fact]
    public void EventLoop_Immediate()
    {
        foreach (int count in new[] { 1, 10, 100, 1000 })
        {
            using var loop = new EventLoop();
            int ran = 0;
            for (int i = 0; i < count; i++)
            {
                loop.Scheduler.Schedule(() => ran++);
            }

            loop.DispatchUntil(() => ran == count);
            Assert.Equal(count, ran);
        }
    }

    [Fact]
    public void EventLoop_TimeCollisions()
    {
        using var loop = VirtualLoop();
        var order = new List<int>();
        for (int i = 0; i < 1000; i++)
        {
            int n = i;
            loop.Scheduler.Schedule(Ms(100), () =>
            {
                Assert.Equal(s_start + Ms(100), loop.Now);
                order.Add(n);
            });
        }

        loop.AdvanceBy(Ms(200));
        Assert.Equal(Enumerable.Range(0, 1000), order);
    }

    [Fact]
    public void EventLoop_TimeCollisions_RealClock()
    {
        using var loop = new EventLoop();
        var order = new List<int>();
        DateTimeOffset due = loop.Now + Ms(10);
        for (int i = 0; i < 1000; i++)
        {
            int n = i;
            loop.Scheduler.Schedule(due, () => order.Add(n));
        }

        loop.DispatchUntil(() => order.Count == 1000);
        Assert.Equal(Enumerable.Range(0, 1000), order);
    }

    [Fact]
    public void EventLoop_Spread()
    {
        using var loop = VirtualLoop();
        var ran = new List<(int, DateTimeOffset)>();

        // Scheduled in a scrambled order so that only the heap can put them right.
        foreach (int i in Enumerable.Range(0, 1000).Select(i => i * 7919 % 1000))
        {
            loop.Scheduler.Schedule(Ms(i), () => ran.Add((i, loop.Now)));
        }

        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (i, s_start + Ms(i))), ran);
    }

    [Fact]
    public void EventLoop_Periodic()
    {
        using var loop = VirtualLoop();
        var ticks = new List<DateTimeOffset>();
        IDisposable periodic = loop.Scheduler.SchedulePeriodic(Ms(25), () => ticks.Add(loop.Now));
        loop.AdvanceBy(Ms(250));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => s_start + Ms(25 * i)), ticks);
        periodic.Dispose();
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal(10, ticks.Count);
    }

    [Fact]
    public void EventLoop_Periodic_RealClock_NoTickAfterDispose()
    {
        using var loop = new EventLoop();
        int ticks = 0;
        IDisposable periodic = loop.Scheduler.SchedulePeriodic(Ms(2), () => ticks++);
        loop.DispatchUntil(() => ticks >= 10);
        periodic.Dispose();
        int atDispose = ticks;

        // Several periods later, nothing more.
        bool later = false;
        loop.Scheduler.Schedule(Ms(20), () => later = true);
        loop.DispatchUntil(() => later);
        Assert.Equal(atDispose, ticks);
    }

    [Fact]
    public void EventLoop_Periodic_DisposedFromItsOwnTick()
    {
        using var loop = VirtualLoop();
        int ticks = 0;
        IDisposable? periodic = null;
        periodic = loop.Scheduler.SchedulePeriodic(Ms(10), () =>
        {
            if (++ticks == 3)
            {
                periodic!.Dispose();
            }
        });
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal(3, ticks);
    }

    [Fact]
    public void EventLoop_Stress()
    {
        // Rx's stress test guarded its wake-up semaphore; here, bursts of Schedule calls from several threads at
        // once while the loop dispatches: everything runs once, on the loop thread, each thread's items in order.
        const int Threads = 4;
        const int PerThread = 5000;
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        var seen = new List<int>[Threads];
        int offThread = 0;
        int total = 0;
        for (int t = 0; t < Threads; t++)
        {
            seen[t] = [];
        }

        using var start = new Barrier(Threads);
        var producers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < PerThread; i++)
            {
                int n = i;
                loop.Scheduler.Schedule(() =>
                {
                    if (Environment.CurrentManagedThreadId != loopThread)
                    {
                        offThread++;
                    }

                    seen[t].Add(n);
                    total++;
                });
            }
        })).ToList();
        producers.ForEach(p => p.Start());
        loop.DispatchUntil(() => total == Threads * PerThread);
        producers.ForEach(p => p.Join());
        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(0, offThread);
        Assert.Equal(Threads * PerThread, total);
        foreach (List<int> list in seen)
        {
            Assert.Equal(Enumerable.Range(0, PerThread), list);
        }
    }

    [Fact]
    public void EventLoop_CorrectWorkStealing()
    {
        // Absolute-time work scheduled from the loop thread runs on the loop thread, never early.
        using var loop = new EventLoop();
        int ranOn = 0;
        DateTimeOffset due = default;
        DateTimeOffset ranAt = default;
        loop.Scheduler.Schedule(() =>
        {
            due = loop.Now + Ms(15);
            loop.Scheduler.Schedule(due, () =>
            {
                ranOn = Environment.CurrentManagedThreadId;
                ranAt = loop.Now;
            });
        });
        loop.DispatchUntil(() => ranOn != 0);
        Assert.Equal(Environment.CurrentManagedThreadId, ranOn);
        Assert.True(ranAt >= due, $"ran at {ranAt:O}, due {due:O}");
    }

    // ---- SchedulerTest: recursive overloads, periodic, services ----

    [Fact]
    public void Scheduler_ScheduleRecursive()
    {
        using var loop = VirtualLoop();
        int i = 0;
        loop.Scheduler.Schedule(self =>
        {
            if (++i < 10)
            {
                self();
            }
        });
        loop.AdvanceBy(TimeSpan.Zero);
        Assert.Equal(10, i);
    }

    [Fact]
    public void Scheduler_ScheduleWithTimeSpanRecursive()
    {
        using var loop = VirtualLoop();
        var times = new List<DateTimeOffset>();
        loop.Scheduler.Schedule(Ms(10), self =>
        {
            times.Add(loop.Now);
            if (times.Count < 10)
            {
                self(Ms(10));
            }
        });
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => s_start + Ms(10 * i)), times);
    }

    [Fact]
    public void Scheduler_ScheduleWithDateTimeOffsetRecursive()
    {
        using var loop = VirtualLoop();
        var times = new List<DateTimeOffset>();
        loop.Scheduler.Schedule(s_start + Ms(5), self =>
        {
            times.Add(loop.Now);
            if (times.Count < 3)
            {
                self(loop.Now + Ms(5));
            }
        });
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal([s_start + Ms(5), s_start + Ms(10), s_start + Ms(15)], times);
    }

    [Fact]
    public void Scheduler_StateThreading()
    {
        using var loop = VirtualLoop();
        var states = new List<int>();
        loop.Scheduler.Schedule(0, (x, self) =>
        {
            states.Add(x);
            if (x < 9)
            {
                self(x + 1);
            }
        });
        loop.Scheduler.Schedule(100, Ms(1), (x, self) =>
        {
            states.Add(x);
            if (x < 102)
            {
                self(x + 1, Ms(1));
            }
        });
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal([.. Enumerable.Range(0, 10), 100, 101, 102], states);
    }

    [Fact]
    public void Scheduler_RecursiveChainCancelledThroughTheFirstHandle()
    {
        using var loop = VirtualLoop();
        int runs = 0;
        IDisposable chain = loop.Scheduler.Schedule(Ms(10), self =>
        {
            runs++;
            self(Ms(10));
        });
        loop.AdvanceBy(Ms(35));
        Assert.Equal(3, runs);
        chain.Dispose();
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal(3, runs);
    }

    [Fact]
    public void Schedule_CancelBeforeRunNeverRuns_CancelAfterRunDisposesTheResult()
    {
        using var loop = VirtualLoop();
        bool cancelledRan = false;
        bool resultDisposed = false;
        IDisposable cancelled = loop.Scheduler.Schedule(0, Ms(10), (_, _) =>
        {
            cancelledRan = true;
            return Disposable.Empty;
        });
        IDisposable done = loop.Scheduler.Schedule(0, (_, _) => Disposable.Create(() => resultDisposed = true));
        cancelled.Dispose();
        loop.AdvanceBy(Ms(100));
        Assert.False(cancelledRan);
        Assert.False(resultDisposed);
        done.Dispose();
        Assert.True(resultDisposed);
    }

    [Fact]
    public void Scheduler_Periodic1()
    {
        using var loop = VirtualLoop();
        int n = 0;
        IDisposable? periodic = null;
        periodic = loop.Scheduler.SchedulePeriodic(Ms(50), () =>
        {
            if (++n == 10)
            {
                periodic!.Dispose();
            }
        });
        loop.AdvanceBy(TimeSpan.FromSeconds(5));
        Assert.Equal(10, n);
    }

    [Fact]
    public void Scheduler_Periodic2()
    {
        using var loop = VirtualLoop();
        var states = new List<int>();
        IDisposable? periodic = null;
        periodic = loop.Scheduler.SchedulePeriodic(1, Ms(50), x =>
        {
            states.Add(x);
            if (states.Count == 10)
            {
                periodic!.Dispose();
            }

            return x + 1;
        });
        loop.AdvanceBy(TimeSpan.FromSeconds(5));
        Assert.Equal(Enumerable.Range(1, 10), states);
    }

    [Fact]
    public void Scheduler_Periodic_ArgumentChecking()
    {
        using var loop = VirtualLoop();
        IScheduler s = loop.Scheduler;
        Assert.Throws<ArgumentOutOfRangeException>(() => s.SchedulePeriodic(Ms(-1), () => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.SchedulePeriodic(42, Ms(-1), _ => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.SchedulePeriodic(42, Ms(-1), x => x));
        Assert.Throws<ArgumentNullException>(() => s.SchedulePeriodic(Ms(1), (Action)null!));
        Assert.Throws<ArgumentNullException>(() => s.SchedulePeriodic(42, Ms(1), (Action<int>)null!));
        Assert.Throws<ArgumentNullException>(() => s.SchedulePeriodic(42, Ms(1), (Func<int, int>)null!));
    }

    [Fact]
    public void DetectServices()
    {
        using var loop = new EventLoop();
        IScheduler s = loop.Scheduler;
        Assert.Same(loop.Scheduler, s.AsPeriodic());
        Assert.Same(loop.Scheduler, s.AsStopwatchProvider());

        // Offering long-running work would let ObserveOn park the loop thread.
        Assert.Null(s.AsLongRunning());
        Assert.Null(loop.Scheduler.GetService(typeof(ISchedulerLongRunning)));
        Assert.Null(loop.Scheduler.GetService(typeof(string)));
    }

    // ---- HistoricalSchedulerTest / VirtualSchedulerTest / CurrentThreadSchedulerTest ----

    [Fact]
    public void Order()
    {
        using var loop = VirtualLoop();
        var order = new List<int>();
        loop.Scheduler.Schedule(s_start + Ms(100), () => order.Add(1));
        loop.Scheduler.Schedule(Ms(100), () => order.Add(2));
        loop.Scheduler.Schedule(s_start + Ms(100), () => order.Add(3));
        loop.Scheduler.Schedule(s_start + Ms(50), () => order.Add(0));
        loop.AdvanceBy(Ms(100));
        Assert.Equal([0, 1, 2, 3], order);
    }

    [Fact]
    public void Cancellation()
    {
        using var loop = VirtualLoop();
        var ran = new List<(int, DateTimeOffset)>();
        IDisposable later = loop.Scheduler.Schedule(s_start + TimeSpan.FromSeconds(2), () => ran.Add((2, loop.Now)));
        loop.Scheduler.Schedule(s_start + TimeSpan.FromSeconds(1), () =>
        {
            ran.Add((1, loop.Now));
            later.Dispose();
        });
        loop.AdvanceBy(TimeSpan.FromSeconds(5));
        Assert.Equal([(1, s_start + TimeSpan.FromSeconds(1))], ran);
    }

    [Fact]
    public void No_Nested_AdvanceBy_AdvanceTo_Dispatch()
    {
        using var loop = VirtualLoop();
        Exception? advanceBy = null;
        Exception? advanceTo = null;
        Exception? dispatch = null;
        loop.Scheduler.Schedule(Ms(10), () =>
        {
            advanceBy = Record.Exception(() => loop.AdvanceBy(Ms(1)));
            advanceTo = Record.Exception(() => loop.AdvanceTo(loop.Now + Ms(1)));
            dispatch = Record.Exception(() => loop.Dispatch(TimeSpan.Zero));
        });
        loop.AdvanceBy(Ms(100));
        Assert.IsType<InvalidOperationException>(advanceBy);
        Assert.IsType<InvalidOperationException>(advanceTo);
        Assert.IsType<InvalidOperationException>(dispatch);

        // The refused calls changed nothing.
        Assert.Equal(s_start + Ms(100), loop.Now);
    }

    [Fact]
    public void AdvanceTo_ArgumentChecking()
    {
        using var loop = VirtualLoop();
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.AdvanceTo(s_start - TimeSpan.FromTicks(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.AdvanceBy(TimeSpan.FromTicks(-1)));
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.AdvanceTo(s_start));
        loop.AdvanceTo(s_start + TimeSpan.FromSeconds(1));
        Assert.Equal(s_start + TimeSpan.FromSeconds(1), loop.Now);
    }

    [Fact]
    public void Virtual_ScheduleActionError()
    {
        using var loop = VirtualLoop();
        var timed = new InvalidOperationException("timed");
        var immediate = new InvalidOperationException("immediate");
        bool afterRan = false;
        loop.Scheduler.Schedule(Ms(10), () => throw timed);
        loop.Scheduler.Schedule(Ms(20), () => afterRan = true);

        Assert.Same(timed, Record.Exception(() => loop.AdvanceBy(Ms(100))));

        // The clock stopped at the failing item; the loop goes on from there.
        Assert.Equal(s_start + Ms(10), loop.Now);
        Assert.False(afterRan);
        loop.AdvanceBy(Ms(100));
        Assert.True(afterRan);

        loop.Scheduler.Schedule(() => throw immediate);
        Assert.Same(immediate, Record.Exception(() => loop.Dispatch(TimeSpan.Zero)));
        bool next = false;
        loop.Scheduler.Schedule(() => next = true);
        loop.DispatchUntil(() => next);
    }

    [Fact]
    public void Virtual_ThreadSafety()
    {
        // Another thread schedules while the test thread advances time.
        const int Count = 2000;
        using var loop = VirtualLoop();
        var ranAt = new DateTimeOffset?[Count];
        int loopThread = Environment.CurrentManagedThreadId;
        int violations = 0;
        var producer = new Thread(() =>
        {
            for (int i = 0; i < Count; i++)
            {
                int n = i;
                loop.Scheduler.Schedule(s_start + Ms(n), () =>
                {
                    // Off the loop thread, or run twice.
                    if (Environment.CurrentManagedThreadId != loopThread || ranAt[n] is not null)
                    {
                        violations++;
                    }

                    ranAt[n] = loop.Now;
                });
            }
        });
        producer.Start();
        while (producer.IsAlive)
        {
            loop.AdvanceBy(Ms(0.5));
        }

        producer.Join();
        loop.AdvanceBy(Ms(Count) + TimeSpan.FromSeconds(1));
        Assert.Equal(0, violations);
        for (int i = 0; i < Count; i++)
        {
            // Scheduled for a time the clock had already passed, it runs at once; never early.
            Assert.True(ranAt[i] >= s_start + Ms(i), $"item {i} ran at {ranAt[i]:O}");
        }
    }

    [Fact]
    public void EnsureTrampolineAndCancel()
    {
        using var loop = VirtualLoop();
        bool ran = false;
        bool outer = false;
        loop.Scheduler.Schedule(() =>
        {
            outer = true;
            IDisposable inner = loop.Scheduler.Schedule(() => ran = true);
            inner.Dispose();
        });
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.True(outer);
        Assert.False(ran);
    }

    [Fact]
    public void EnsureTrampolineAndCancelTimed()
    {
        using var loop = VirtualLoop();
        bool ran = false;
        bool outer = false;
        loop.Scheduler.Schedule(Ms(10), () =>
        {
            outer = true;
            IDisposable inner = loop.Scheduler.Schedule(Ms(10), () => ran = true);
            inner.Dispose();
        });
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.True(outer);
        Assert.False(ran);
    }

    // ---- The loop's own scheduler rules ----

    [Fact]
    public void Schedule_NegativeRelativeDueTimeIsClampedToZero()
    {
        using var loop = VirtualLoop();
        DateTimeOffset? relative = null;
        DateTimeOffset? absolute = null;
        loop.Scheduler.Schedule(TimeSpan.FromSeconds(-5), () => relative = loop.Now);
        loop.Scheduler.Schedule(s_start - TimeSpan.FromHours(1), () => absolute = loop.Now);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(s_start, relative);
        Assert.Equal(s_start, absolute);

        using var real = new EventLoop();
        bool ran = false;
        real.Scheduler.Schedule(TimeSpan.FromDays(-1), () => ran = true);
        real.DispatchUntil(() => ran);
    }

    [Fact]
    public void Schedule_CancelledTimedWorkLeavesTheHeapEagerly()
    {
        using var loop = new EventLoop();
        var far = new List<IDisposable>(100_000);
        for (int i = 0; i < 100_000; i++)
        {
            far.Add(loop.Scheduler.Schedule(TimeSpan.FromHours(1 + (i % 97)), () => Assert.Fail("a cancelled timer ran")));
        }

        Assert.Equal(100_000, TimerCount(loop));
        far.ForEach(d => d.Dispose());
        Assert.Equal(0, TimerCount(loop));

        var stopwatch = Stopwatch.StartNew();
        bool near = false;
        loop.Scheduler.Schedule(Ms(1), () => near = true);
        loop.DispatchUntil(() => near);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"a near timer took {stopwatch.Elapsed}");
    }

    [Fact]
    public void Schedule_ChattyThrottleDoesNotGrowTheHeap()
    {
        // Throttle schedules a timer per element and cancels the previous one.
        using var loop = VirtualLoop();
        var subject = new Subject<int>();
        var values = new List<int>();
        using var subscription = subject.Throttle(TimeSpan.FromMinutes(10), loop.Scheduler).Subscribe(values.Add);
        for (int i = 0; i < 10_000; i++)
        {
            subject.OnNext(i);
            Assert.True(TimerCount(loop) <= 1, $"{TimerCount(loop)} timers after {i + 1} elements");
        }

        loop.AdvanceBy(TimeSpan.FromMinutes(10));
        Assert.Equal([9999], values);
        Assert.Equal(0, TimerCount(loop));
    }

    [Fact]
    public void Schedule_CancelledFarTimers_NeverFireNorOutnumberLiveOnes()
    {
        const int Live = 1_000;
        using var loop = VirtualLoop();
        var fired = new List<int>();
        for (int i = 0; i < Live; i++)
        {
            int index = i;
            loop.Scheduler.Schedule(TimeSpan.FromMinutes(1) + Ms(i), () => fired.Add(index));
        }

        TimerHeap heap = Heap(loop);
        int cancelledFired = 0;
        for (int i = 0; i < 200_000; i++)
        {
            // Both kinds of heap entry: a scheduled action and a timer source, each cancelled before it is due.
            IDisposable cancelled = i % 2 == 0
                ? loop.Scheduler.Schedule(TimeSpan.FromHours(1) + Ms(i), () => cancelledFired++)
                : loop.Timer(TimeSpan.FromHours(1) + Ms(i)).Subscribe(_ => cancelledFired++);
            cancelled.Dispose();
            lock (loop.Gate)
            {
                if (heap.Count > 2 * Live)
                {
                    Assert.Fail($"after {i + 1} cancellations: {heap.Count} entries for {Live} live timers");
                }
            }
        }

        loop.AdvanceBy(TimeSpan.FromHours(3));
        Assert.Equal(Enumerable.Range(0, Live), fired);
        Assert.Equal(0, cancelledFired);
        Assert.Equal(0, TimerCount(loop));
    }

    /// <summary>Live entries in the loop's timer heap.</summary>
    private static int TimerCount(EventLoop loop)
    {
        TimerHeap heap = Heap(loop);
        lock (loop.Gate)
        {
            return heap.Count;
        }
    }

    /// <summary>The loop's timer heap (internal state: nothing public exposes it, by design). Read it under the gate.</summary>
    private static TimerHeap Heap(EventLoop loop) => loop.Work.Timers;
}
