using System.IO.Pipes;
using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Text;
using Calloop.Rx.Testing;
using Microsoft.Reactive.Testing;

namespace Calloop.Rx.Tests.Testing;

/// <summary>
/// <see cref="LoopTestScheduler"/>: Rx's TestScheduler idiom driving a loop, with one clock and one deadline order for
/// the test's hot and cold observables, the loop's scheduler, timers and TimeProvider, and real sources fed by
/// <see cref="LoopScript"/>.
/// </summary>
public sealed class LoopTestSchedulerTests : ReactiveTest
{
    [Fact]
    public void RxDocumentationExample_RunsUnchanged_WithTheLoopsScheduler()
    {
        // The TestScheduler example of Rx's documentation, with Throttle given the loop's scheduler.
        using var scheduler = new LoopTestScheduler();
        IScheduler loopScheduler = scheduler.Loop.Scheduler;

        ITestableObservable<string> input = scheduler.CreateHotObservable(
            OnNext(100, "abc"), OnNext(200, "def"), OnNext(250, "ghi"), OnNext(300, "pqr"), OnNext(450, "xyz"), OnCompleted<string>(500));

        ITestableObserver<string> results = scheduler.Start(
            () => input.Buffer(() => input.Throttle(TimeSpan.FromTicks(100), loopScheduler)).Select(b => string.Join(",", b)),
            created: 50,
            subscribed: 150,
            disposed: 600);

        ReactiveAssert.AreElementsEqual(
            [OnNext(400, "def,ghi,pqr"), OnNext(500, "xyz"), OnCompleted<string>(500)],
            results.Messages);
        ReactiveAssert.AreElementsEqual([Subscribe(150, 500), Subscribe(150, 400), Subscribe(400, 500)], input.Subscriptions);
    }

    [Fact]
    public void RxDocumentationExample_OnARealChannel_GivesTheSameMessages()
    {
        // The same pipeline over a loop channel: the scripted sends are real, delivered by the loop at their ticks.
        // A channel is a queue, not a subject: "abc", sent at 100 before anyone listened, would wait for the
        // subscription at 150 instead of being lost, so the script starts at 200.
        using var scheduler = new LoopTestScheduler();
        var (sender, input) = scheduler.Loop.Channel<string>();
        scheduler.Script
            .Send(200, sender, "def").Send(250, sender, "ghi").Send(300, sender, "pqr").Send(450, sender, "xyz")
            .At(500, sender.Dispose);

        ITestableObserver<string> results = scheduler.Start(
            () => input.Buffer(() => input.Throttle(TimeSpan.FromTicks(100), scheduler.Loop.Scheduler)).Select(b => string.Join(",", b)),
            created: 50,
            subscribed: 150,
            disposed: 600);

        Assert.Equal([OnNext(400, "def,ghi,pqr"), OnNext(500, "xyz"), OnCompleted<string>(500)], results.Messages);
    }

    [Fact]
    public void HotMessages_WithChannelSendsTimersAndSchedulerWork_ShareOneOrderedList()
    {
        using var scheduler = new LoopTestScheduler();
        EventLoop loop = scheduler.Loop;
        var (sender, messages) = loop.Channel<string>();
        var hot = scheduler.CreateHotObservable(OnNext(300, "hot 300"), OnNext(500, "hot 500"));
        var fromLoop = new System.Reactive.Subjects.Subject<string>();
        loop.Scheduler.Schedule(TimeSpan.FromTicks(300), () => fromLoop.OnNext("loop scheduler 300"));
        IObservable<string> timer = loop.Timer(TimeSpan.FromTicks(400)).Select(_ => "loop timer 400");
        scheduler.Script.Send(300, sender, "channel 300").Send(450, sender, "channel 450");

        ITestableObserver<string> observer = Observable.Merge(hot, messages, fromLoop, timer).Record(scheduler);
        scheduler.AdvanceTo(1000);

        // At 300: the hot message and the loop action were scheduled first (in that order), then the script's send,
        // which the loop delivers at once, at 300 too.
        Assert.Equal(
            [
                OnNext(300, "hot 300"), OnNext(300, "loop scheduler 300"), OnNext(300, "channel 300"),
                OnNext(400, "loop timer 400"), OnNext(450, "channel 450"), OnNext(500, "hot 500"),
            ],
            observer.Messages);
        Assert.Equal(1000, scheduler.Clock);
        Assert.Equal(scheduler.Now, loop.Now);
    }

    [Fact]
    public void WorkDueNow_OnTheLoopsScheduler_RunsAtClockPlusOneInOrderWithTheTestSchedulersOwn()
    {
        using var scheduler = new LoopTestScheduler();
        EventLoop loop = scheduler.Loop;
        var log = new List<(string, long)>();
        scheduler.ScheduleAbsolute(300, () =>
        {
            loop.Scheduler.Schedule(() => log.Add(("loop immediate", scheduler.Clock)));
            scheduler.Schedule(() => log.Add(("test immediate", scheduler.Clock)));
            loop.Scheduler.Schedule(TimeSpan.Zero, () => log.Add(("loop zero delay", scheduler.Clock)));
            loop.Scheduler.Schedule(loop.Now, () => log.Add(("loop at now", scheduler.Clock)));
            loop.Scheduler.Schedule(loop.Now.AddTicks(-5), () => log.Add(("loop in the past", scheduler.Clock)));
            loop.Scheduler.Schedule(TimeSpan.FromTicks(1), () => log.Add(("loop one tick", scheduler.Clock)));
        });

        scheduler.Start();

        Assert.Equal(
            [
                ("loop immediate", 301L), ("test immediate", 301L), ("loop zero delay", 301L), ("loop at now", 301L),
                ("loop in the past", 301L), ("loop one tick", 301L),
            ],
            log);
    }

    [Fact]
    public void ReturnAndRange_OnTheLoopsScheduler_GiveRxsTicks()
    {
        using var scheduler = new LoopTestScheduler();
        IScheduler loop = scheduler.Loop.Scheduler;

        var single = scheduler.Start(() => Observable.Return(42, loop));
        single.Messages.AssertEqual(OnNext(201, 42), OnCompleted<int>(201));

        using var second = new LoopTestScheduler();
        var range = second.Start(() => Observable.Range(0, 3, second.Loop.Scheduler));
        range.Messages.AssertEqual(OnNext(201, 0), OnNext(202, 1), OnNext(203, 2), OnCompleted<int>(204));
    }

    [Fact]
    public async Task TimeProviderDelay_CompletesAtItsTick_AndTheContinuationRunsThere()
    {
        using var scheduler = new LoopTestScheduler();
        EventLoop loop = scheduler.Loop;
        var resumedAt = new List<long>();
        Task? delayed = null;
        scheduler.Script.At(100, () => delayed = DelayThenLog());

        scheduler.AdvanceTo(TimeSpan.TicksPerSecond);

        Assert.Equal([100 + TimeSpan.TicksPerMillisecond], resumedAt);
        await delayed!.WaitAsync(TimeSpan.FromSeconds(5));

        async Task DelayThenLog()
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1), loop.TimeProvider);
            resumedAt.Add(scheduler.Clock);
        }
    }

    [Fact]
    public void Script_WritesToARealFd_AndTheReadinessIsDeliveredAtThatTick()
    {
        using var scheduler = new LoopTestScheduler();
        using var writer = new AnonymousPipeServerStream(PipeDirection.Out);
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, writer.ClientSafePipeHandle);
        int a = (int)writer.SafePipeHandle.DangerousGetHandle();
        byte[] buffer = new byte[64];
        scheduler.Script.Write(300, a, "hello"u8).Write(420, a, "world"u8);
        var res = scheduler.Start(() => scheduler.Loop.Fd(reader.SafePipeHandle).Select(_ => Encoding.ASCII.GetString(buffer, 0, reader.Read(buffer))));
        res.Messages.AssertEqual(OnNext(300, "hello"), OnNext(420, "world"));
    }

    [Fact]
    public void Script_Ping_IsDeliveredAtItsTick()
    {
        using var scheduler = new LoopTestScheduler();
        var (ping, pings) = scheduler.Loop.Ping();
        scheduler.Script.Ping(250, ping).Ping(600, ping);
        var res = scheduler.Start(() => pings);
        res.Messages.AssertEqual(OnNext(250, Unit.Default), OnNext(600, Unit.Default));
    }

    [Fact]
    public void Script_EntriesAtOrBeforeTheClock_RunAtClockPlusOne()
    {
        using var scheduler = new LoopTestScheduler();
        var (sender, messages) = scheduler.Loop.Channel<int>();
        ITestableObserver<int> observer = messages.Record(scheduler);
        scheduler.AdvanceTo(500);
        scheduler.Script.Send(100, sender, 1).Send(500, sender, 2);
        scheduler.AdvanceBy(10);
        Assert.Equal([OnNext(501, 1), OnNext(501, 2)], observer.Messages);
    }

    [Fact]
    public void ASendBetweenDrives_IsDeliveredAtTheClockWhereTheTestSentIt()
    {
        using var scheduler = new LoopTestScheduler();
        var (sender, messages) = scheduler.Loop.Channel<int>();
        ITestableObserver<int> observer = messages.Record(scheduler);
        scheduler.AdvanceTo(300);
        sender.Send(1);
        scheduler.AdvanceBy(100);
        Assert.Equal([OnNext(300, 1)], observer.Messages);
        Assert.Equal(400, scheduler.Clock);
        Assert.Equal(scheduler.Now, scheduler.Loop.Now);
    }

    [Fact]
    public void Sleep_InsideAnItem_MovesBothClocksAndWhatFellDueRunsAfterIt()
    {
        using var scheduler = new LoopTestScheduler();
        EventLoop loop = scheduler.Loop;
        var log = new List<(string, long, long)>();
        long LoopTicks() => (loop.Now - loop.VirtualStart!.Value).Ticks;
        scheduler.ScheduleAbsolute(100, () =>
        {
            scheduler.Sleep(50);
            log.Add(("slept", scheduler.Clock, LoopTicks()));
        });
        loop.Scheduler.Schedule(TimeSpan.FromTicks(120), () => log.Add(("loop 120", scheduler.Clock, LoopTicks())));
        scheduler.ScheduleAbsolute(200, () => log.Add(("test 200", scheduler.Clock, LoopTicks())));

        scheduler.Start();

        Assert.Equal([("slept", 150L, 150L), ("loop 120", 150L, 150L), ("test 200", 200L, 200L)], log);
    }

    [Fact]
    public void Work_Throws_ComesOutOfTheDriveAtItsTickAndTheSchedulerGoesOn()
    {
        using var scheduler = new LoopTestScheduler();
        var boom = new InvalidOperationException("boom");
        bool later = false;
        scheduler.Loop.Scheduler.Schedule(TimeSpan.FromTicks(300), () => throw boom);
        scheduler.ScheduleAbsolute(400, () => later = true);

        Assert.Same(boom, Assert.Throws<InvalidOperationException>(() => scheduler.Start()));
        Assert.Equal(300, scheduler.Clock);
        Assert.False(scheduler.IsEnabled);
        Assert.False(later);

        scheduler.Start();
        Assert.True(later);
        Assert.Equal(400, scheduler.Clock);
    }

    [Fact]
    public void AdvanceTo_ThroughATestSchedulerReference_RunsTheLoopWhichCatchesUpAtTheNextDrive()
    {
        using var scheduler = new LoopTestScheduler();
        TestScheduler plain = scheduler;
        var fired = new List<long>();
        scheduler.Loop.Timer(TimeSpan.FromTicks(100)).Subscribe(_ => fired.Add(scheduler.Clock));

        plain.AdvanceTo(250);
        Assert.Equal([100L], fired);
        Assert.Equal(250, plain.Clock);

        scheduler.ScheduleAbsolute(260, () => fired.Add(scheduler.Clock));
        plain.AdvanceBy(50);
        Assert.Equal([100L, 260L], fired);
    }

    [Fact]
    public void ALoopThatIsNotVirtual_OrDisposed_IsRefused()
    {
        using var real = new EventLoop();
        Assert.Throws<InvalidOperationException>(() => new LoopTestScheduler(real));
        Assert.Throws<InvalidOperationException>(() => real.DueWorkWaitsOneTick = true);
        Assert.False(real.DueWorkWaitsOneTick);

        var disposed = new EventLoop(LoopClock.Virtual());
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => new LoopTestScheduler(disposed));
    }

    [Fact]
    public void Dispose_DisposesTheLoopItCreated()
    {
        var scheduler = new LoopTestScheduler();
        EventLoop loop = scheduler.Loop;
        Assert.True(loop.DueWorkWaitsOneTick);
        Assert.Equal(new DateTimeOffset(0, TimeSpan.Zero), loop.VirtualStart);
        scheduler.Dispose();
        Assert.True(loop.IsDisposed);
    }
}
