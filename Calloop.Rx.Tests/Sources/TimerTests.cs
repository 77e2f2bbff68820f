using System.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Sources;

/// <summary>
/// The counterparts of calloop's <c>src/sources/timer.rs</c> tests, the historical <c>multi_timout_order</c> and
/// <c>timeout_cancel_early</c>, and the rescheduling cases calloop leaves untested. <c>docs/calloop-test-map.md</c>
/// names the calloop test behind each one.
/// </summary>
/// <remarks>
/// Where calloop's test only compares counts against durations it runs here on the virtual clock, which makes it exact;
/// <c>simple_timer_instant</c> and <c>high_precision_timer</c> stay on the real clock and assert only that nothing
/// fires or returns early. calloop's <c>timeout_future</c> (the executor's <c>TimeoutFuture</c>) has its counterpart
/// in <c>Task.Delay</c> on <see cref="EventLoop.TimeProvider"/>; its <c>Duration::MAX</c> case is covered by
/// <see cref="Timer_MaxValueBesideAnOrdinaryTimer_NeverFiresNorDelaysIt"/> and
/// <see cref="Timer_TimeSpanMaxValue_NeverFires"/>.
/// </remarks>
public class TimerTests
{
    private static readonly TimeSpan s_100ms = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void Timer_VirtualClock_FiresOnceAtItsDeadline()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        var observer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(s_100ms).Subscribe(observer);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);

        loop.AdvanceBy(TimeSpan.FromMilliseconds(150));
        Assert.Equal([loop.Now - TimeSpan.FromMilliseconds(50)], observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Timer_AtAnInstantOnTheRealClock_WakesTheDispatchAndNeverFiresEarly()
    {
        // Real clock: one Dispatch(150ms) is bounded by the timer's deadline, wakes for it and fires it.
        using var loop = new EventLoop();
        DateTimeOffset firedAt = default;
        var observer = new ContractObserver<DateTimeOffset>(loop, _ => firedAt = loop.Now);
        DateTimeOffset deadline = loop.Now + s_100ms;
        loop.Timer(deadline).Subscribe(observer);

        loop.Dispatch(TimeSpan.FromMilliseconds(150));

        Assert.Equal([deadline], observer.Values);
        Assert.True(firedAt >= deadline, $"fired {(deadline - firedAt).TotalMilliseconds} ms early");
        observer.AssertClean();
    }

    [Fact]
    public void Timer_ZeroDelay_FiresInTheNextDispatch()
    {
        using var loop = new EventLoop();
        var observer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(TimeSpan.Zero).Subscribe(observer);

        loop.Dispatch(TimeSpan.Zero);

        Assert.Single(observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Timer_SubMillisecondTimeouts_AreHonouredNotRoundedDown()
    {
        using var loop = new EventLoop();
        DateTimeOffset firedAt = default;
        var observer = new ContractObserver<DateTimeOffset>(loop, _ => firedAt = loop.Now);
        TimerSource timer = loop.Timer(s_100ms);
        timer.Subscribe(observer);
        var sinceStart = Stopwatch.StartNew();

        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);

        // A sub-millisecond timeout is honoured, never rounded down.
        var wait = Stopwatch.StartNew();
        loop.Dispatch(TimeSpan.FromMilliseconds(10.2));
        TimeSpan waited = wait.Elapsed;
        Assert.True(waited >= TimeSpan.FromMilliseconds(10.2), $"Dispatch(10.2ms) returned after {waited.TotalMilliseconds} ms");
        if (sinceStart.Elapsed < s_100ms)
        {
            Assert.Empty(observer.Values);
        }

        loop.DispatchUntil(() => observer.Completed, "the 100 ms timer");
        Assert.True(sinceStart.Elapsed >= TimeSpan.FromMilliseconds(95));
        Assert.True(firedAt >= timer.Deadline, $"fired {(timer.Deadline - firedAt).TotalMilliseconds} ms early");
        observer.AssertClean();
    }

    [Fact]
    public void Timer_RemovedBeforeItsDeadline_NeverFires()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        var observer = new ContractObserver<DateTimeOffset>(loop);
        TimerSource timer = loop.Timer(s_100ms);
        timer.Subscribe(observer);

        loop.Dispatch(TimeSpan.Zero);
        timer.Remove();
        loop.AdvanceBy(TimeSpan.FromMilliseconds(150));

        Assert.Empty(observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Timer_ToDuration_RepeatsAtEachPeriod()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        var observer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(TimeSpan.FromMilliseconds(500), _ => TimeoutAction.ToDuration(TimeSpan.FromMilliseconds(500))).Subscribe(observer);

        loop.AdvanceBy(TimeSpan.FromMilliseconds(250));
        Assert.Empty(observer.Values);
        for (int expected = 1; expected <= 3; expected++)
        {
            loop.AdvanceBy(TimeSpan.FromMilliseconds(510));
            Assert.Equal(expected, observer.Values.Count);
        }

        observer.AssertClean();
    }

    [Fact]
    public void Timer_MaxValueBesideAnOrdinaryTimer_NeverFiresNorDelaysIt()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        var observer = new ContractObserver<DateTimeOffset>(loop);
        var never = new ContractObserver<DateTimeOffset>(loop, _ => throw new InvalidOperationException("a TimeSpan.MaxValue timer fired"));
        loop.Timer(TimeSpan.FromMilliseconds(500)).Subscribe(observer);
        loop.Timer(TimeSpan.MaxValue).Subscribe(never);

        int[] counts = new int[3];
        TimeSpan[] steps = [TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(510), TimeSpan.FromMilliseconds(510)];
        for (int i = 0; i < steps.Length; i++)
        {
            loop.AdvanceBy(steps[i]);
            counts[i] = observer.Values.Count;
        }

        Assert.Equal([0, 1, 1], counts);
        Assert.Empty(never.Values);
        observer.AssertClean();
        never.AssertClean();
    }

    [Fact]
    public void Timer_TimeSpanMaxValue_NeverFires()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        var observer = new ContractObserver<DateTimeOffset>(loop);
        TimerSource timer = loop.Timer(TimeSpan.MaxValue);
        timer.Subscribe(observer);

        Assert.Equal(DateTimeOffset.MaxValue, timer.Deadline);
        loop.Dispatch(TimeSpan.Zero);
        loop.AdvanceBy(TimeSpan.FromDays(365 * 1000));

        Assert.Empty(observer.Values);
        Assert.True(timer.IsActive);
        observer.AssertClean();
    }

    [Fact]
    public void ToDuration_Overflowing_EndsTheTimer()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        var observer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(TimeSpan.FromSeconds(1), _ => TimeoutAction.ToDuration(TimeSpan.MaxValue)).Subscribe(observer);

        loop.AdvanceBy(TimeSpan.FromSeconds(2));

        Assert.Single(observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void ToInstant_InThePast_CatchesUpOneEventPerDispatch()
    {
        // A drift-free periodic timer that starts five periods late: the missed deadlines come one per dispatch, in
        // order, never as a burst inside one dispatch.
        using var loop = new EventLoop(LoopClock.Virtual());
        loop.AdvanceBy(TimeSpan.FromSeconds(100));
        DateTimeOffset start = loop.Now;
        var observer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(start - TimeSpan.FromSeconds(5), deadline => TimeoutAction.ToInstant(deadline + TimeSpan.FromSeconds(1))).Subscribe(observer);

        for (int i = 1; i <= 6; i++)
        {
            loop.Dispatch(TimeSpan.Zero);
            Assert.Equal(i, observer.Values.Count);
        }

        Assert.Equal(Enumerable.Range(0, 6).Select(k => start - TimeSpan.FromSeconds(5 - k)), observer.Values);

        // Caught up: the next deadline is in the future.
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(6, observer.Values.Count);
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal(start + TimeSpan.FromSeconds(1), observer.Values[^1]);
        observer.AssertClean();
    }

    [Fact]
    public void ToDuration_Late_RearmsFromWhenTheCallbackRan()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        DateTimeOffset origin = loop.Now;
        var observer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(TimeSpan.FromSeconds(1), _ => TimeoutAction.ToDuration(TimeSpan.FromSeconds(2))).Subscribe(observer);

        loop.AdvanceBy(TimeSpan.FromSeconds(5.5));

        Assert.Equal([origin.AddSeconds(1), origin.AddSeconds(3), origin.AddSeconds(5)], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void ToDuration_SeveralPeriodsLate_DoesNotCatchUp()
    {
        // Unlike ToInstant, a late ToDuration timer is re-armed from "now": the missed periods are gone.
        using var loop = new EventLoop(LoopClock.Virtual());
        loop.AdvanceBy(TimeSpan.FromSeconds(100));
        DateTimeOffset start = loop.Now;
        var observer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(start - TimeSpan.FromSeconds(5), _ => TimeoutAction.ToDuration(TimeSpan.FromSeconds(1))).Subscribe(observer);

        loop.Dispatch(TimeSpan.Zero);
        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal([start - TimeSpan.FromSeconds(5)], observer.Values);
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal([start - TimeSpan.FromSeconds(5), start + TimeSpan.FromSeconds(1)], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void Deadline_Changed_TakesEffectOnUpdate()
    {
        // calloop's set_deadline + update(token).
        using var loop = new EventLoop(LoopClock.Virtual());
        DateTimeOffset origin = loop.Now;
        var observer = new ContractObserver<DateTimeOffset>(loop);
        TimerSource timer = loop.Timer(TimeSpan.FromSeconds(1));
        timer.Subscribe(observer);

        timer.Deadline = origin.AddSeconds(3);
        timer.Update();
        loop.AdvanceBy(TimeSpan.FromSeconds(2));
        Assert.Empty(observer.Values);

        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal([origin.AddSeconds(3)], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void Timer_DisabledPastItsDeadline_FiresOnceEnabled()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        DateTimeOffset origin = loop.Now;
        var observer = new ContractObserver<DateTimeOffset>(loop);
        TimerSource timer = loop.Timer(TimeSpan.FromSeconds(1));
        timer.Subscribe(observer);

        timer.Disable();
        loop.AdvanceBy(TimeSpan.FromSeconds(2));
        Assert.Empty(observer.Values);

        timer.Enable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([origin.AddSeconds(1)], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void Timer_EqualDeadlines_FireInSubscriptionOrder()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        DateTimeOffset deadline = loop.Now + TimeSpan.FromSeconds(1);
        TimerSource a = loop.Timer(deadline);
        TimerSource b = loop.Timer(deadline);
        TimerSource c = loop.Timer(deadline);
        var order = new List<string>();
        var observers = new[]
        {
            new ContractObserver<DateTimeOffset>(loop, _ => order.Add("b")),
            new ContractObserver<DateTimeOffset>(loop, _ => order.Add("c")),
            new ContractObserver<DateTimeOffset>(loop, _ => order.Add("a")),
        };
        b.Subscribe(observers[0]);
        c.Subscribe(observers[1]);
        a.Subscribe(observers[2]);

        loop.AdvanceBy(TimeSpan.FromSeconds(1));

        Assert.Equal(["b", "c", "a"], order);
        Array.ForEach(observers, o => o.AssertClean());
    }

    [Fact]
    public void Timer_SeveralDeadlines_FireInDeadlineOrderOnePerStep()
    {
        // calloop v0.9: timeouts at 300, 100 and 600 ms fire in deadline order 2, 1, 3, one per step.
        using var loop = new EventLoop(LoopClock.Virtual());
        var order = new List<int>();
        var observers = new List<ContractObserver<DateTimeOffset>>();
        foreach (var (id, ms) in new[] { (1, 300), (2, 100), (3, 600) })
        {
            var observer = new ContractObserver<DateTimeOffset>(loop, _ => order.Add(id));
            observers.Add(observer);
            loop.Timer(TimeSpan.FromMilliseconds(ms)).Subscribe(observer);
        }

        loop.AdvanceBy(TimeSpan.FromMilliseconds(100));
        Assert.Equal([2], order);
        loop.AdvanceBy(TimeSpan.FromMilliseconds(200));
        Assert.Equal([2, 1], order);
        loop.AdvanceBy(TimeSpan.FromMilliseconds(300));
        Assert.Equal([2, 1, 3], order);
        observers.ForEach(o => o.AssertClean());
    }

    [Fact]
    public void Timer_SeveralOverdue_FireInDeadlineOrderInOneDispatch()
    {
        // All three overdue at once: one dispatch fires them all, by deadline.
        using var loop = new EventLoop(LoopClock.Virtual());
        var order = new List<int>();
        var observers = new List<ContractObserver<DateTimeOffset>>();
        DateTimeOffset now = loop.Now;
        foreach (var (id, ms) in new[] { (1, 300), (2, 100), (3, 600) })
        {
            var observer = new ContractObserver<DateTimeOffset>(loop, _ => order.Add(id));
            observers.Add(observer);
            loop.Timer(now - TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(ms)).Subscribe(observer);
        }

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal([2, 1, 3], order);
        observers.ForEach(o => o.AssertClean());
    }

    [Fact]
    public void Timer_EarlierOneCancelled_LaterOneStillFires()
    {
        // Cancelling the earlier timer must not stop the later one, whether the cancel is a Remove or the
        // subscription's disposal: both touch the heap the later timer waits in.
        using var loop = new EventLoop(LoopClock.Virtual());
        var early = new ContractObserver<DateTimeOffset>(loop);
        var earlyToo = new ContractObserver<DateTimeOffset>(loop);
        var late = new ContractObserver<DateTimeOffset>(loop);
        TimerSource earlyTimer = loop.Timer(s_100ms);
        earlyTimer.Subscribe(early);
        IDisposable earlyTooSubscription = loop.Timer(s_100ms).Subscribe(earlyToo);
        loop.Timer(TimeSpan.FromMilliseconds(200)).Subscribe(late);

        earlyTimer.Remove();
        earlyTooSubscription.Dispose();
        loop.AdvanceBy(TimeSpan.FromMilliseconds(300));

        Assert.Empty(early.Values);
        Assert.Empty(earlyToo.Values);
        Assert.Single(late.Values);
        early.AssertClean();
        earlyToo.AssertClean();
        late.AssertClean();
    }

    [Fact]
    public void Timer_RemovedByAnotherDueInTheSameDispatch_DoesNotFire()
    {
        // The same inside one dispatch: a timer removes another that is already due; that one must not fire, and the
        // one after it must.
        using var loop = new EventLoop(LoopClock.Virtual());
        loop.AdvanceBy(TimeSpan.FromSeconds(10));
        DateTimeOffset now = loop.Now;
        TimerSource second = loop.Timer(now - TimeSpan.FromSeconds(2));
        var secondObserver = new ContractObserver<DateTimeOffset>(loop);
        var firstObserver = new ContractObserver<DateTimeOffset>(loop, _ => second.Remove());
        var thirdObserver = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(now - TimeSpan.FromSeconds(3)).Subscribe(firstObserver);
        second.Subscribe(secondObserver);
        loop.Timer(now - TimeSpan.FromSeconds(1)).Subscribe(thirdObserver);

        loop.Dispatch(TimeSpan.Zero);

        Assert.Single(firstObserver.Values);
        Assert.Empty(secondObserver.Values);
        Assert.Single(thirdObserver.Values);
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(secondObserver.Completed);
        firstObserver.AssertClean();
        secondObserver.AssertClean();
        thirdObserver.AssertClean();
    }
}
