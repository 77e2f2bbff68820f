using System.Reactive.Concurrency;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Scheduling;

/// <summary>
/// Immediate work and work due now (zero or negative delay, an absolute time equal to Now) share one FIFO: they run
/// in the order they were scheduled, from a timed item or an immediate one, on the virtual and the real clock, as on
/// Rx's virtual-time schedulers.
/// </summary>
public class ImmediateAndZeroDelayOrderTests
{
    private static readonly DateTimeOffset s_start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static EventLoop NewLoop(bool isVirtual) => isVirtual ? new(LoopClock.Virtual(s_start)) : new();

    /// <summary>Runs the loop until <paramref name="count"/> entries are logged: every step on the virtual clock, bounded dispatches on the real one.</summary>
    private static void RunUntilLogged(EventLoop loop, List<string> log, int count)
    {
        if (loop.IsVirtual)
        {
            loop.AdvanceUntilIdle();
        }
        else
        {
            loop.DispatchUntil(() => log.Count >= count, $"{count} entries");
        }

        Assert.Equal(count, log.Count);
    }

    /// <summary>Runs <paramref name="body"/> from a timed item (1 ms from now) or from an immediate one.</summary>
    private static void ScheduleFrom(EventLoop loop, bool fromTimedItem, Action body)
    {
        if (fromTimedItem)
        {
            loop.Scheduler.Schedule(TimeSpan.FromMilliseconds(1), body);
        }
        else
        {
            loop.Scheduler.Schedule(body);
        }
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void ZeroDelayThenImmediate_RunInSchedulingOrder(bool isVirtual, bool fromTimedItem)
    {
        using var loop = NewLoop(isVirtual);
        var log = new List<string>();
        ScheduleFrom(loop, fromTimedItem, () =>
        {
            loop.Scheduler.Schedule(TimeSpan.Zero, () => log.Add("zero delay"));
            loop.Scheduler.Schedule(() => log.Add("immediate"));
        });

        RunUntilLogged(loop, log, 2);

        Assert.Equal(["zero delay", "immediate"], log);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void ImmediateThenZeroDelay_RunInSchedulingOrder(bool isVirtual, bool fromTimedItem)
    {
        using var loop = NewLoop(isVirtual);
        var log = new List<string>();
        ScheduleFrom(loop, fromTimedItem, () =>
        {
            loop.Scheduler.Schedule(() => log.Add("immediate"));
            loop.Scheduler.Schedule(TimeSpan.Zero, () => log.Add("zero delay"));
        });

        RunUntilLogged(loop, log, 2);

        Assert.Equal(["immediate", "zero delay"], log);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void NegativeDelay_RunsInSchedulingOrderWithImmediateWork(bool isVirtual, bool fromTimedItem)
    {
        using var loop = NewLoop(isVirtual);
        var log = new List<string>();
        ScheduleFrom(loop, fromTimedItem, () =>
        {
            loop.Scheduler.Schedule(() => log.Add("immediate 1"));
            loop.Scheduler.Schedule(TimeSpan.FromSeconds(-1), () => log.Add("negative delay"));
            loop.Scheduler.Schedule(() => log.Add("immediate 2"));
            loop.Scheduler.Schedule(TimeSpan.MinValue, () => log.Add("MinValue delay"));
        });

        RunUntilLogged(loop, log, 4);

        Assert.Equal(["immediate 1", "negative delay", "immediate 2", "MinValue delay"], log);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AbsoluteTimeEqualToNow_RunsInSchedulingOrderWithImmediateWork(bool fromTimedItem)
    {
        // Only the virtual clock can be asked for a time that is still "now" when it is scheduled.
        using var loop = NewLoop(isVirtual: true);
        var log = new List<string>();
        ScheduleFrom(loop, fromTimedItem, () =>
        {
            loop.Scheduler.Schedule(loop.Now, () => log.Add("at now 1"));
            loop.Scheduler.Schedule(() => log.Add("immediate"));
            loop.Scheduler.Schedule(loop.Now, () => log.Add("at now 2"));
        });

        RunUntilLogged(loop, log, 3);

        Assert.Equal(["at now 1", "immediate", "at now 2"], log);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void NestedZeroDelayAndImmediateWork_RunsBreadthFirstInSchedulingOrder(bool isVirtual, bool fromTimedItem)
    {
        using var loop = NewLoop(isVirtual);
        var log = new List<string>();
        ScheduleFrom(loop, fromTimedItem, () =>
        {
            log.Add("root");
            loop.Scheduler.Schedule(TimeSpan.Zero, () =>
            {
                log.Add("a (zero delay)");
                loop.Scheduler.Schedule(() => log.Add("a.1 (immediate)"));
                loop.Scheduler.Schedule(TimeSpan.Zero, () => log.Add("a.2 (zero delay)"));
            });
            loop.Scheduler.Schedule(() =>
            {
                log.Add("b (immediate)");
                loop.Scheduler.Schedule(TimeSpan.Zero, () => log.Add("b.1 (zero delay)"));
                loop.Scheduler.Schedule(() => log.Add("b.2 (immediate)"));
            });
        });

        RunUntilLogged(loop, log, 7);

        Assert.Equal(
            ["root", "a (zero delay)", "b (immediate)", "a.1 (immediate)", "a.2 (zero delay)", "b.1 (zero delay)", "b.2 (immediate)"],
            log);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ZeroPeriodPeriodicAction_FirstRunsInSchedulingOrderWithImmediateWork(bool isVirtual)
    {
        using var loop = NewLoop(isVirtual);
        var log = new List<string>();
        loop.Scheduler.Schedule(() => log.Add("immediate 1"));
        using IDisposable periodic = loop.Scheduler.SchedulePeriodic(TimeSpan.Zero, () => log.Add("periodic"));
        loop.Scheduler.Schedule(() => log.Add("immediate 2"));

        loop.DispatchUntil(() => log.Count >= 3, "three entries");

        Assert.Equal(["immediate 1", "periodic", "immediate 2"], log.Take(3));
    }

    [Fact]
    public void ZeroDelayWork_RunsBeforeATimerThatFallsDueLater_AndAfterOneAlreadyDue()
    {
        using var loop = NewLoop(isVirtual: true);
        var log = new List<string>();
        loop.Scheduler.Schedule(TimeSpan.FromSeconds(1), () =>
        {
            log.Add("first");
            loop.Scheduler.Schedule(TimeSpan.FromTicks(1), () => log.Add("one tick later"));
            loop.Scheduler.Schedule(TimeSpan.Zero, () => log.Add("zero delay"));
        });
        loop.Scheduler.Schedule(TimeSpan.FromSeconds(1), () => log.Add("second, same deadline"));

        loop.AdvanceUntilIdle();

        Assert.Equal(["first", "second, same deadline", "zero delay", "one tick later"], log);
    }
}
