using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using Calloop.Rx.Testing;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;
using Microsoft.Reactive.Testing;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// The loop's virtual clock: time moves only through AdvanceBy/AdvanceTo, timers fire in deadline order with
/// the clock standing at each deadline, and everything that is not time (fds, pings, channels) stays real.
/// </summary>
public class VirtualClockTests
{
    private static readonly DateTimeOffset s_start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static EventLoop VirtualLoop() => new(LoopClock.Virtual(s_start));

    private static DateTimeOffset At(double ms) => s_start + TimeSpan.FromMilliseconds(ms);

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void AdvanceBy_FiresTimersInDeadlineOrder_WithTheClockAtEachDeadline()
    {
        using var loop = VirtualLoop();
        var fired = new List<(string, DateTimeOffset Deadline, DateTimeOffset Now)>();
        var observers = new List<ContractObserver<DateTimeOffset>>();
        foreach (var (name, ms) in new[] { ("c", 3000), ("a", 1000), ("b", 2000) })
        {
            var observer = new ContractObserver<DateTimeOffset>(loop, deadline => fired.Add((name, deadline, loop.Now)));
            loop.Timer(Ms(ms)).Subscribe(observer);
            observers.Add(observer);
        }

        loop.AdvanceBy(Ms(5000));

        Assert.Equal([("a", At(1000), At(1000)), ("b", At(2000), At(2000)), ("c", At(3000), At(3000))], fired);
        Assert.Equal(At(5000), loop.Now);
        Assert.All(observers, o => Assert.True(o.Completed));
        observers.ForEach(o => o.AssertClean());
    }

    [Fact]
    public void AdvanceBy_StopsAtTheTarget()
    {
        using var loop = VirtualLoop();
        var observer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(Ms(1000)).Subscribe(observer);
        loop.AdvanceBy(Ms(999));
        Assert.Empty(observer.Values);
        Assert.Equal(At(999), loop.Now);
        loop.AdvanceTo(At(1000));
        Assert.Equal([At(1000)], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void AdvanceBy_FiresWhatIsScheduledInsideTheWindow()
    {
        using var loop = VirtualLoop();
        var log = new List<(string, DateTimeOffset)>();
        var nested = new ContractObserver<DateTimeOffset>(loop, _ => log.Add(("timer", loop.Now)));
        var outer = new ContractObserver<DateTimeOffset>(loop, _ =>
        {
            log.Add(("outer", loop.Now));
            loop.Timer(Ms(500)).Subscribe(nested);
            loop.Scheduler.Schedule(Ms(1000), () => log.Add(("action", loop.Now)));
        });
        loop.Timer(Ms(1000)).Subscribe(outer);

        loop.AdvanceBy(Ms(3000));

        Assert.Equal([("outer", At(1000)), ("timer", At(1500)), ("action", At(2000))], log);
        outer.AssertClean();
        nested.AssertClean();
    }

    [Fact]
    public void RepeatingTimer_FiresAtEachInstantInTheWindow()
    {
        using var loop = VirtualLoop();
        var observer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(Ms(100), deadline => TimeoutAction.ToInstant(deadline + Ms(100))).Subscribe(observer);
        loop.AdvanceBy(Ms(450));
        Assert.Equal([At(100), At(200), At(300), At(400)], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void EqualDeadlines_FireInSubscriptionAndSchedulingOrder()
    {
        using var loop = VirtualLoop();
        var order = new List<int>();

        // Timer sources take their place when subscribed (armed), actions when scheduled; all are due at 1 s.
        var first = new ContractObserver<DateTimeOffset>(loop, _ => order.Add(1));
        loop.Timer(Ms(1000)).Subscribe(first);
        loop.Scheduler.Schedule(Ms(1000), () => order.Add(2));
        var third = new ContractObserver<DateTimeOffset>(loop, _ => order.Add(3));
        loop.Timer(At(1000)).Subscribe(third);
        loop.Scheduler.Schedule(At(1000), () => order.Add(4));
        var fifth = new ContractObserver<DateTimeOffset>(loop, _ => order.Add(5));
        loop.Timer(Ms(1000)).Subscribe(fifth);

        loop.AdvanceBy(Ms(2000));

        Assert.Equal([1, 2, 3, 4, 5], order);
        first.AssertClean();
        third.AssertClean();
        fifth.AssertClean();
    }

    [Fact]
    public void VirtualClock_FdsPingsAndChannels_StayReal()
    {
        using var loop = VirtualLoop();
        var (ping, pings) = loop.Ping();
        var (sender, messages) = loop.Channel<string>();
        var pingObserver = new ContractObserver<Unit>(loop);
        var messageObserver = new ContractObserver<string>(loop);
        pings.Subscribe(pingObserver);
        messages.Subscribe(messageObserver);
        var (a, b) = TestSys.SocketPair();
        try
        {
            var fdObserver = new ContractObserver<Readiness>(loop, _ => TestSys.Drain(b));
            loop.Fd(b, Interest.Read).Subscribe(fdObserver);

            var producer = new Thread(() =>
            {
                ping.Send();
                sender.Send("hello");
                TestSys.Write(a, "x"u8);
            });
            producer.Start();
            producer.Join();

            // Real events arrive through ordinary (real-time) waits; the virtual clock does not move.
            loop.DispatchUntil(() => pingObserver.Values.Count == 1 && messageObserver.Values.Count == 1 && fdObserver.Values.Count == 1);
            Assert.Equal(s_start, loop.Now);
            Assert.Equal(["hello"], messageObserver.Values);
            Assert.True(fdObserver.Values[0].Readable);

            // And AdvanceBy delivers them too, at the current virtual time.
            var seenAt = new List<DateTimeOffset>();
            var second = new ContractObserver<string>(loop, _ => seenAt.Add(loop.Now));
            messages.Subscribe(second);
            sender.Send("again");
            loop.AdvanceBy(Ms(10));
            Assert.Equal([s_start], seenAt);

            fdObserver.AssertClean();
            second.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }

        pingObserver.AssertClean();
        messageObserver.AssertClean();
    }

    [Fact]
    public void AdvanceBy_DeliversRealEventsEvenWhenNoTimerIsDue()
    {
        using var loop = VirtualLoop();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop, _ => Assert.Equal(s_start, loop.Now));
        pings.Subscribe(observer);
        ping.Send();
        loop.AdvanceBy(Ms(5));
        Assert.Single(observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void AdvanceBy_DeliversWhatTimedWorkSendsAtTheTimeItWasSent()
    {
        using var loop = VirtualLoop();
        var (ping, pings) = loop.Ping();
        var (sender, messages) = loop.Channel<int>();
        var pingTimes = new List<DateTimeOffset>();
        var messageTimes = new List<(int, DateTimeOffset)>();
        var pingObserver = new ContractObserver<Unit>(loop, _ => pingTimes.Add(loop.Now));
        var messageObserver = new ContractObserver<int>(loop, m => messageTimes.Add((m, loop.Now)));
        pings.Subscribe(pingObserver);
        messages.Subscribe(messageObserver);
        var timer = new ContractObserver<DateTimeOffset>(loop, _ => ping.Send());
        loop.Timer(Ms(100)).Subscribe(timer);
        loop.Scheduler.Schedule(Ms(250), () => sender.Send(1));
        loop.Scheduler.Schedule(Ms(400), () => sender.Send(2));

        // The last send happens at the very end of the window; it is still delivered by this AdvanceBy.
        loop.AdvanceBy(Ms(400));

        Assert.Equal([At(100)], pingTimes);
        Assert.Equal([(1, At(250)), (2, At(400))], messageTimes);
        pingObserver.AssertClean();
        messageObserver.AssertClean();
        timer.AssertClean();
    }

    [Fact]
    public void AdvanceBy_IsNotHeldByAnFdThatStaysReady()
    {
        // A level-triggered fd nobody drains is reported on every poll; virtual time must still move.
        using var loop = VirtualLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            TestSys.Write(a, "never read"u8);
            var fd = new ContractObserver<Readiness>(loop);
            loop.Fd(b, Interest.Read).Subscribe(fd);
            var timer = new ContractObserver<DateTimeOffset>(loop);
            loop.Timer(Ms(1000)).Subscribe(timer);
            int idles = 0;
            Action? again = null;
            again = () =>
            {
                idles++;
                loop.InsertIdle(again!);
            };
            loop.InsertIdle(again);

            var advance = new Thread(() => loop.AdvanceBy(Ms(2000))) { IsBackground = true };
            advance.Start();
            Assert.True(advance.Join(LoopExtensions.Patience), "AdvanceBy never returned");

            Assert.Equal([At(1000)], timer.Values);
            Assert.NotEmpty(fd.Values);
            Assert.True(idles > 0);
            Assert.Equal(At(2000), loop.Now);
            timer.AssertClean();
            fd.AssertClean();
        }
        finally
        {
            loop.Dispose();
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void Dispatch_DoesNotAdvanceVirtualTime()
    {
        using var loop = VirtualLoop();
        var timer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(Ms(1)).Subscribe(timer);
        bool dueNow = false;
        loop.Scheduler.Schedule(TimeSpan.Zero, () => dueNow = true);

        loop.Dispatch(TimeSpan.Zero);
        Assert.True(dueNow);

        // Neither polling nor a real wait moves the virtual clock or fires the 1 ms timer.
        loop.Dispatch(TimeSpan.Zero);
        loop.Dispatch(Ms(20));
        Assert.Equal(s_start, loop.Now);
        Assert.Empty(timer.Values);

        loop.AdvanceBy(Ms(1));
        Assert.Equal([At(1)], timer.Values);
        timer.AssertClean();
    }

    [Fact]
    public void AdvanceBy_OnARealLoop_Throws()
    {
        using var loop = new EventLoop();
        Assert.False(loop.IsVirtual);
        Assert.Throws<InvalidOperationException>(() => loop.AdvanceBy(Ms(1)));
        Assert.Throws<InvalidOperationException>(() => loop.AdvanceTo(DateTimeOffset.MaxValue));

        // Still a working loop.
        bool ran = false;
        loop.Scheduler.Schedule(() => ran = true);
        loop.DispatchUntil(() => ran);
    }

    [Fact]
    public void AdvanceBy_AfterDispose_Throws()
    {
        var loop = VirtualLoop();
        loop.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loop.AdvanceBy(Ms(1)));
    }

    [Fact]
    public void LoopTestScheduler_OnALoopStartingAtT0_CountsTicksFromTheVirtualStart()
    {
        using var loop = VirtualLoop();
        var (sender, messages) = loop.Channel<int>();
        var scheduler = new LoopTestScheduler(loop);
        ITestableObserver<int> observer = messages.Record(scheduler, out IDisposable subscription);
        loop.Scheduler.Schedule(Ms(100), () => sender.Send(1));
        loop.Scheduler.Schedule(Ms(200), () => sender.Send(2));
        loop.Scheduler.Schedule(Ms(300), sender.Dispose);
        scheduler.AdvanceBy(Ms(1000).Ticks);

        Assert.Equal(
            [ReactiveTest.OnNext(Ms(100).Ticks, 1), ReactiveTest.OnNext(Ms(200).Ticks, 2), ReactiveTest.OnCompleted<int>(Ms(300).Ticks)],
            observer.Messages);
        Assert.Equal(At(1000), loop.Now);
        Assert.Equal(loop.Now, scheduler.Now);
        subscription.Dispose();
    }

    [Fact]
    public void LoopTestScheduler_OnAnAdvancedLoop_StartsWhereTheLoopIsAndLeavesItToItsOwner()
    {
        var loop = VirtualLoop();
        loop.AdvanceBy(Ms(5));
        var (ping, pings) = loop.Ping();
        var scheduler = new LoopTestScheduler(loop);
        Assert.Equal(Ms(5).Ticks, scheduler.Clock);
        ITestableObserver<Unit> observer = pings.Record(scheduler, out IDisposable subscription);
        ping.Send();
        scheduler.AdvanceBy(Ms(5).Ticks);
        subscription.Dispose();
        ping.Send();
        scheduler.AdvanceBy(Ms(5).Ticks);
        Assert.Equal([ReactiveTest.OnNext(Ms(5).Ticks, Unit.Default)], observer.Messages);

        scheduler.Dispose();
        Assert.False(loop.IsDisposed);
        loop.Dispose();
    }

    [Fact]
    public void AdvanceUntilIdle_RunsEverything_AndLeavesTheClockAtTheLastDeadline()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var log = new List<(string, DateTimeOffset)>();
        var (ping, pings) = loop.Ping();
        pings.Subscribe(_ => log.Add(("ping", loop.Now)));
        loop.Scheduler.Schedule(TimeSpan.FromSeconds(1), () => log.Add(("one second", loop.Now)));
        loop.Scheduler.Schedule(TimeSpan.FromMinutes(5), () =>
        {
            ping.Send();
            loop.Scheduler.Schedule(TimeSpan.FromHours(1), () => log.Add(("an hour later", loop.Now)));
        });
        Assert.Equal(s_start + TimeSpan.FromSeconds(1), loop.NextDeadline);

        loop.AdvanceUntilIdle();

        Assert.Equal(
            [("one second", s_start.AddSeconds(1)), ("ping", s_start.AddMinutes(5)), ("an hour later", s_start.AddMinutes(65))],
            log);
        Assert.Equal(s_start.AddMinutes(65), loop.Now);
        Assert.Null(loop.NextDeadline);
    }

    [Fact]
    public void AdvanceUntilIdle_IgnoresTimersThatNeverFire_AndReturnsAtOnceWhenIdle()
    {
        using var loop = VirtualLoop();
        bool ran = false;
        loop.Scheduler.Schedule(DateTimeOffset.MaxValue, () => ran = true);
        loop.Timer(TimeSpan.MaxValue).Subscribe(_ => ran = true);

        loop.AdvanceUntilIdle();
        loop.AdvanceUntilIdle();

        Assert.False(ran);
        Assert.Equal(s_start, loop.Now);
        Assert.Null(loop.NextDeadline);
    }

    [Fact]
    public void AdvanceUntilIdle_OnARealLoop_Throws()
    {
        using var loop = new EventLoop();
        Assert.Throws<InvalidOperationException>(loop.AdvanceUntilIdle);
        Assert.Throws<InvalidOperationException>(() => loop.Sleep(Ms(1)));
        Assert.Null(loop.VirtualStart);
    }

    [Fact]
    public void AdvanceUntilIdle_FromACallback_Throws()
    {
        using var loop = VirtualLoop();
        Exception? error = null;
        loop.Scheduler.Schedule(() => error = Record.Exception(loop.AdvanceUntilIdle));
        loop.AdvanceUntilIdle();
        Assert.IsType<InvalidOperationException>(error);
    }

    [Fact]
    public void VirtualStart_IsTheClocksStart_WhereverTheClockIs()
    {
        using var loop = VirtualLoop();
        loop.AdvanceBy(TimeSpan.FromDays(3));
        Assert.Equal(s_start, loop.VirtualStart);

        using var epoch = new EventLoop(LoopClock.Virtual());
        Assert.Equal(DateTimeOffset.UnixEpoch, epoch.VirtualStart);
    }

    [Fact]
    public void NextDeadline_ForEachState_IsNowTheEarliestTimerOrNull()
    {
        using var loop = VirtualLoop();
        Assert.Null(loop.NextDeadline);

        IDisposable late = loop.Scheduler.Schedule(Ms(300), () => { });
        loop.Timer(Ms(200)).Subscribe(_ => { });
        Assert.Equal(At(200), loop.NextDeadline);

        loop.Scheduler.Schedule(() => { });
        Assert.Equal(At(0), loop.NextDeadline);

        // Inside a callback, the rest of the dispatch in progress counts as immediate work.
        DateTimeOffset? insideTimer = null;
        loop.Scheduler.Schedule(Ms(200), () => insideTimer = loop.NextDeadline);
        loop.Scheduler.Schedule(Ms(200), () => { });
        loop.AdvanceBy(Ms(200));
        Assert.Equal(At(200), insideTimer);
        Assert.Equal(At(300), loop.NextDeadline);

        late.Dispose();
        Assert.Null(loop.NextDeadline);
    }

    [Fact]
    public void Sleep_InsideAnItem_MovesTheClockAndWhatFellDueRunsAfterItInDeadlineOrder()
    {
        using var loop = VirtualLoop();
        var log = new List<(string, DateTimeOffset)>();
        loop.Scheduler.Schedule(Ms(100), () =>
        {
            log.Add(("slow work starts", loop.Now));
            loop.Sleep(Ms(1000));
            log.Add(("slow work ends", loop.Now));
        });
        loop.Scheduler.Schedule(Ms(600), () => log.Add(("600", loop.Now)));
        loop.Scheduler.Schedule(Ms(300), () => log.Add(("300", loop.Now)));
        loop.Scheduler.Schedule(Ms(2000), () => log.Add(("2000", loop.Now)));

        // The target is passed by the sleep: what fell due meanwhile runs, and the clock does not go back.
        loop.AdvanceBy(Ms(500));

        Assert.Equal(
            [("slow work starts", At(100)), ("slow work ends", At(1100)), ("300", At(1100)), ("600", At(1100))],
            log);
        Assert.Equal(At(1100), loop.Now);

        loop.AdvanceBy(Ms(1000));
        Assert.Equal(("2000", At(2000)), log[^1]);
        Assert.Equal(At(2100), loop.Now);
    }

    [Fact]
    public void Sleep_OutsideADispatch_MovesTheClockAndTheNextAdvanceCatchesUp()
    {
        using var loop = VirtualLoop();
        var log = new List<(string, DateTimeOffset)>();
        loop.Scheduler.Schedule(Ms(200), () => log.Add(("200", loop.Now)));
        loop.Scheduler.Schedule(Ms(100), () => log.Add(("100", loop.Now)));

        loop.Sleep(Ms(500));

        Assert.Empty(log);
        Assert.Equal(At(500), loop.Now);
        Assert.Equal(At(100), loop.NextDeadline);
        loop.AdvanceBy(TimeSpan.Zero);
        Assert.Equal([("100", At(500)), ("200", At(500))], log);
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Sleep(Ms(-1)));
    }

    [Fact]
    public async Task Sleep_WhileAnotherThreadDispatches_ThrowsAndLeavesTheClock()
    {
        using var loop = VirtualLoop();
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        loop.Scheduler.Schedule(() =>
        {
            entered.Set();
            Assert.True(release.Wait(TimeSpan.FromSeconds(5)));
        });
        var dispatcher = Task.Run(() => loop.Dispatch(TimeSpan.Zero));
        try
        {
            Assert.True(entered.Wait(TimeSpan.FromSeconds(5)));
            Assert.Throws<InvalidOperationException>(() => loop.Sleep(Ms(10)));
            Assert.Equal(s_start, loop.Now);
        }
        finally
        {
            release.Set();
        }

        await dispatcher.WaitAsync(TimeSpan.FromSeconds(5));
        loop.Sleep(Ms(10));
        Assert.Equal(At(10), loop.Now);
    }

    [Fact]
    public void ZeroPeriodSchedulePeriodic_AdvanceBy_ThrowsNamingTheInstantAndTheLimit()
    {
        var loop = VirtualLoop();
        loop.AdvanceBy(Ms(10));
        int runs = 0;
        loop.Scheduler.SchedulePeriodic(TimeSpan.Zero, () => runs++);

        AssertStuckAt(loop, At(10), 100_000, () => loop.AdvanceBy(Ms(1)));

        Assert.InRange(runs, 100_000, 100_002);
        loop.Dispose();
    }

    [Fact]
    public void RepeatOfAnImmediateValue_AdvanceUntilIdle_ThrowsNamingTheInstantAndTheLimit()
    {
        var loop = VirtualLoop();
        int values = 0;
        IDisposable subscription = Observable.Return(1, loop.Scheduler).Repeat().Subscribe(_ => values++);

        AssertStuckAt(loop, s_start, 100_000, loop.AdvanceUntilIdle);

        Assert.True(values > 10_000, $"{values} values");
        subscription.Dispose();
        loop.Dispose();
    }

    [Fact]
    public void AdvanceTo_SelfReschedulingAction_ThrowsNamingTheInstantAndTheLimit()
    {
        using var loop = VirtualLoop();
        loop.MaxStepsPerInstant = 1_000;
        bool stop = false;
        loop.Scheduler.Schedule(Ms(50), self =>
        {
            if (!stop)
            {
                self(TimeSpan.Zero);
            }
        });

        AssertStuckAt(loop, At(50), 1_000, () => loop.AdvanceTo(At(100)));

        // The clock stayed at the stuck instant; once the work ends, advancing goes on from there.
        stop = true;
        bool later = false;
        loop.Scheduler.Schedule(Ms(10), () => later = true);
        loop.AdvanceTo(At(100));
        Assert.True(later);
        Assert.Equal(At(100), loop.Now);
    }

    [Fact]
    public void TimerReArmedAtItsOwnDeadline_AdvanceBy_ThrowsNamingTheInstant()
    {
        using var loop = VirtualLoop();
        loop.MaxStepsPerInstant = 1_000;
        int fired = 0;
        bool stop = false;
        loop.Timer(Ms(20), deadline => stop ? TimeoutAction.Drop : TimeoutAction.ToInstant(deadline)).Subscribe(_ => fired++);

        AssertStuckAt(loop, At(20), 1_000, () => loop.AdvanceBy(Ms(100)));

        stop = true;
        loop.AdvanceBy(Ms(100));
        Assert.Equal(At(120), loop.Now);
        Assert.InRange(fired, 999, 1_001);
    }

    [Fact]
    public void DueWorkWaitsOneTick_RunsWorkDueWhenScheduledOneTickLater_InSchedulingOrderWithTimedWork()
    {
        using var loop = VirtualLoop();
        loop.DueWorkWaitsOneTick = true;
        var log = new List<(string, DateTimeOffset)>();
        loop.Scheduler.Schedule(Ms(1), () =>
        {
            loop.Scheduler.Schedule(TimeSpan.FromTicks(1), () => log.Add(("one tick", loop.Now)));
            loop.Scheduler.Schedule(() => log.Add(("immediate", loop.Now)));
            loop.Scheduler.Schedule(s_start, () => log.Add(("past", loop.Now)));
        });

        loop.AdvanceBy(Ms(2));

        DateTimeOffset next = At(1).AddTicks(1);
        Assert.Equal([("one tick", next), ("immediate", next), ("past", next)], log);
        loop.DueWorkWaitsOneTick = false;
        Assert.False(loop.DueWorkWaitsOneTick);
    }

    [Fact]
    public void MaxStepsPerInstant_BelowOne_Throws()
    {
        using var loop = VirtualLoop();
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.MaxStepsPerInstant = 0);
        Assert.Equal(100_000, loop.MaxStepsPerInstant);
    }

    private static void AssertStuckAt(EventLoop loop, DateTimeOffset instant, int limit, Action advance)
    {
        var error = Assert.Throws<InvalidOperationException>(advance);
        Assert.Contains(instant.ToString("O"), error.Message);
        Assert.Contains(limit.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
        Assert.Equal(instant, loop.Now);
    }
}
