using System.Reactive.Concurrency;
using System.Reactive.Linq;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// Timers and timed actions at the edges of time: many at one deadline (they run in the order they were armed or
/// scheduled, including after cancellations reshape the heap), at <see cref="DateTimeOffset.MaxValue"/> and
/// <see cref="TimeSpan.MaxValue"/> or just short of them (never fire, no overflow, no hang), and in the past
/// (fire on the next dispatch, in deadline order).
/// </summary>
public class TimerBoundaryTests
{
    private static readonly DateTimeOffset s_start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(1000)]
    public void TimersAndActions_EqualDeadlinesAndCancellations_RunInSchedulingOrder(int count)
    {
        // Three shared deadlines in shuffled order; every third item is a scheduled action rather than a timer, and
        // every fifth is cancelled before it is due.
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var random = new Random(count);
        var fired = new List<(DateTimeOffset Deadline, int Id)>();
        var expected = new List<(DateTimeOffset Deadline, int Id)>();
        var cancellations = new List<IDisposable>();
        for (int id = 0; id < count; id++)
        {
            int item = id;
            DateTimeOffset deadline = s_start + TimeSpan.FromSeconds(1 + random.Next(3));
            IDisposable handle = item % 3 == 0
                ? loop.Scheduler.Schedule(deadline, () => fired.Add((loop.Now, item)))
                : loop.Timer(deadline).Subscribe(d => fired.Add((d, item)));
            if (item % 5 == 4)
            {
                cancellations.Add(handle);
            }
            else
            {
                expected.Add((deadline, item));
            }
        }

        cancellations.ForEach(c => c.Dispose());
        loop.AdvanceBy(TimeSpan.FromSeconds(10));

        // OrderBy is stable: among equal deadlines, scheduling order.
        Assert.Equal(expected.OrderBy(e => e.Deadline), fired);
    }

    [Fact]
    public void TimersAndActions_AtOneDeadlineOnTheRealClock_RunInSchedulingOrder()
    {
        using var loop = new EventLoop();
        DateTimeOffset deadline = loop.Now + TimeSpan.FromMilliseconds(30);
        var fired = new List<int>();
        for (int id = 0; id < 300; id++)
        {
            int item = id;
            if (item % 2 == 0)
            {
                loop.Scheduler.Schedule(deadline, () => fired.Add(item));
            }
            else
            {
                loop.Timer(deadline).Subscribe(_ => fired.Add(item));
            }
        }

        loop.DispatchUntil(() => fired.Count == 300, "300 items at one deadline");
        Assert.Equal(Enumerable.Range(0, 300), fired);
    }

    [Fact]
    public void Timers_NearMaxValueOnTheVirtualClock_NeverFireWhileOrdinaryTimersDo()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var fired = new List<string>();
        loop.Timer(DateTimeOffset.MaxValue).Subscribe(_ => fired.Add("deadline MaxValue"));
        loop.Timer(TimeSpan.MaxValue).Subscribe(_ => fired.Add("due MaxValue"));
        loop.Scheduler.Schedule(DateTimeOffset.MaxValue, () => fired.Add("action at MaxValue"));
        loop.Scheduler.Schedule(TimeSpan.MaxValue, () => fired.Add("action after MaxValue"));
        Observable.Timer(TimeSpan.MaxValue, loop.Scheduler).Subscribe(_ => fired.Add("Rx timer MaxValue"));
        loop.Timer(TimeSpan.FromSeconds(1), d => TimeoutAction.ToDuration(TimeSpan.MaxValue)).Subscribe(_ => fired.Add("re-armed to MaxValue"));
        loop.Timer(TimeSpan.FromSeconds(2)).Subscribe(_ => fired.Add("ordinary"));

        loop.AdvanceBy(TimeSpan.FromDays(365 * 1000));
        loop.AdvanceTo(DateTimeOffset.MaxValue - TimeSpan.FromDays(1));

        Assert.Equal(["re-armed to MaxValue", "ordinary"], fired);
    }

    [Fact]
    public void AdvanceBy_TimeSpanMaxValue_SaturatesAtTheEndOfTime()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        int fired = 0;
        loop.Timer(TimeSpan.FromDays(365 * 1000)).Subscribe(_ => fired++);

        loop.AdvanceBy(TimeSpan.MaxValue);

        Assert.Equal(1, fired);
        Assert.Equal(DateTimeOffset.MaxValue, loop.Now);
    }

    [Fact]
    public void AdvanceTo_DateTimeOffsetMaxValue_ReturnsInsteadOfSpinning()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        int fired = 0;
        loop.Timer(DateTimeOffset.MaxValue).Subscribe(_ => fired++);
        loop.Timer(TimeSpan.FromSeconds(1)).Subscribe(_ => fired++);
        Exception? error = null;
        var advancing = new Thread(() =>
        {
            try
            {
                loop.AdvanceTo(DateTimeOffset.MaxValue);
            }
            catch (Exception e)
            {
                error = e;
            }
        })
        {
            IsBackground = true,
            Name = "AdvanceTo(MaxValue)",
        };
        advancing.Start();

        bool returned = advancing.Join(LoopExtensions.Patience);

        // Disposal ends an advance that does not return by itself.
        loop.Dispose();
        Assert.True(returned, "AdvanceTo(DateTimeOffset.MaxValue) did not return");
        Assert.Null(error);
        Assert.Equal(1, fired);
    }

    [Fact]
    public void Timers_NearMaxValueOnTheRealClock_NeverFireNorBreakTheWait()
    {
        // Far deadlines that are not "never" go to the timerfd and the epoll timeout: converting them must not
        // overflow into a deadline in the past (firing at once) or an error from the kernel.
        using var loop = new EventLoop();
        var fired = new List<string>();
        loop.Timer(DateTimeOffset.MaxValue).Subscribe(_ => fired.Add("deadline MaxValue"));
        loop.Timer(TimeSpan.MaxValue).Subscribe(_ => fired.Add("due MaxValue"));
        loop.Timer(DateTimeOffset.MaxValue - TimeSpan.FromDays(1)).Subscribe(_ => fired.Add("deadline MaxValue - 1 day"));
        loop.Timer(TimeSpan.FromTicks(long.MaxValue / 2)).Subscribe(_ => fired.Add("due long.MaxValue / 2 ticks"));
        loop.Timer(TimeSpan.FromTicks((long.MaxValue / 100) + 1)).Subscribe(_ => fired.Add("due past the ns range"));
        loop.Scheduler.Schedule(TimeSpan.MaxValue, () => fired.Add("action after MaxValue"));
        loop.Scheduler.Schedule(DateTimeOffset.MaxValue - TimeSpan.FromDays(1), () => fired.Add("action at MaxValue - 1 day"));

        for (int i = 0; i < 3; i++)
        {
            loop.Dispatch(TimeSpan.FromMilliseconds(5));
        }

        bool ordinary = false;
        loop.Timer(TimeSpan.FromMilliseconds(1)).Subscribe(_ => ordinary = true);
        loop.DispatchUntil(() => ordinary, "an ordinary timer beside the far ones");
        Assert.Empty(fired);
    }

    [Fact]
    public void TimersAndActions_InThePastOnTheVirtualClock_FireNextDispatchInDeadlineOrder()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        loop.AdvanceBy(TimeSpan.FromHours(1));
        DateTimeOffset now = loop.Now;
        var fired = new List<(DateTimeOffset Deadline, string Name)>();
        var items = new (string Name, DateTimeOffset Deadline, bool Action)[]
        {
            ("30 min ago", now - TimeSpan.FromMinutes(30), false),
            ("50 min ago", now - TimeSpan.FromMinutes(50), false),
            ("action 40 min ago", now - TimeSpan.FromMinutes(40), true),
            ("now", now, false),
            ("before the clock started", s_start - TimeSpan.FromDays(400), false),
            ("MinValue", DateTimeOffset.MinValue, false),
            ("50 min ago, second", now - TimeSpan.FromMinutes(50), false),
            ("action 50 min ago", now - TimeSpan.FromMinutes(50), true),
            ("1 tick ago", now - TimeSpan.FromTicks(1), false),
        };
        foreach (var (name, deadline, action) in items)
        {
            if (action)
            {
                loop.Scheduler.Schedule(deadline, () => fired.Add((loop.Now, name)));
            }
            else
            {
                loop.Timer(deadline).Subscribe(d => fired.Add((d, name)));
            }
        }

        // A negative relative due time is clamped to now (Rx's convention), so it runs after everything earlier.
        loop.Scheduler.Schedule(TimeSpan.FromMinutes(-5), () => fired.Add((loop.Now, "action -5 min relative")));

        loop.Dispatch(TimeSpan.Zero);

        string[] expected =
        [
            "MinValue", "before the clock started", "50 min ago", "50 min ago, second", "action 50 min ago",
            "action 40 min ago", "30 min ago", "1 tick ago", "now", "action -5 min relative",
        ];
        Assert.Equal(expected, fired.Select(f => f.Name));

        // A timer's event is its deadline, however late; actions see the clock, which did not move.
        foreach (var (deadline, name) in fired)
        {
            var item = items.FirstOrDefault(i => i.Name == name);
            Assert.Equal(item.Name is null || item.Action ? now : item.Deadline, deadline);
        }
    }

    [Fact]
    public void ScheduledAction_AtAnInstantBeforeTheLoopStarted_RunsInDeadlineOrderWithTimers()
    {
        // Both are due long ago; the action's instant is the earlier one.
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var fired = new List<string>();
        loop.Timer(s_start - TimeSpan.FromDays(1)).Subscribe(_ => fired.Add("timer a day before the start"));
        loop.Scheduler.Schedule(s_start - TimeSpan.FromDays(2), () => fired.Add("action two days before the start"));

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(["action two days before the start", "timer a day before the start"], fired);
    }

    [Fact]
    public void Timers_InThePastOnTheRealClock_FireNextDispatchInDeadlineOrder()
    {
        using var loop = new EventLoop();
        DateTimeOffset now = loop.Now;
        var fired = new List<int>();
        int[] secondsAgo = [5, 1, 3600, 3, 1, 86400, 2];
        for (int i = 0; i < secondsAgo.Length; i++)
        {
            int item = i;
            loop.Timer(now - TimeSpan.FromSeconds(secondsAgo[i])).Subscribe(_ => fired.Add(item));
        }

        loop.Dispatch(TimeSpan.Zero);

        int[] expected = [.. Enumerable.Range(0, secondsAgo.Length).OrderByDescending(i => secondsAgo[i])];
        Assert.Equal(expected, fired);
    }
}
