using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Docs;

/// <summary>The examples of docs/01-how-an-event-loop-works.md, kept compiling and true by running them.</summary>
public class EventLoopChapterTests
{
    [Fact]
    public void Dispatch_EventsWaitForTheLoopThread_DeliveredOnlyWhenItDispatches()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var received = new List<Unit>();
        using IDisposable subscription = pings.Subscribe(received.Add);

        // Another thread pings. The event waits until this thread dispatches.
        var other = new Thread(() => ping.Send());
        other.Start();
        other.Join();
        Assert.Empty(received);

        // One iteration; TimeSpan.Zero polls instead of waiting.
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(received);
    }

    [Fact]
    public void Dispatch_OneCall_RunsItsPhasesInOrder()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        var order = new List<string>();
        var (ping, pings) = loop.Ping();
        using IDisposable pingSubscription = pings.Subscribe(_ => order.Add("ping"));
        using IDisposable timerSubscription = loop.Timer(TimeSpan.Zero).Subscribe(_ => order.Add("timer"));
        loop.InsertIdle(() => order.Add("idle"));
        loop.Scheduler.Schedule(() => order.Add("scheduled"));
        loop.Scheduler.Schedule(loop.Now.AddSeconds(-1), () => order.Add("scheduled for a second ago"));
        ping.Send();

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(["ping", "scheduled for a second ago", "timer", "scheduled", "idle"], order);
    }

    [Fact]
    public void Dispatch_CallbackCausesMoreWork_NeverNests()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();

        // Each ping sends the next one: delivered by the next dispatch, never as a nested OnNext.
        int received = 0;
        using IDisposable subscription = pings.Subscribe(_ =>
        {
            received++;
            ping.Send();
        });
        ping.Send();

        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(1, received);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, received);
    }

    [Fact]
    public void Stop_FromAnotherThread_EndsRun()
    {
        using var loop = new EventLoop();
        int iterations = 0;

        // The first dispatch starts a worker thread, which stops the loop while Run waits without a timeout.
        loop.Scheduler.Schedule(() => new Thread(loop.Stop).Start());
        loop.Run(timeout: null, afterDispatch: _ => iterations++);

        Assert.True(iterations >= 1);
    }

    [Fact]
    public void ObserveOn_LoopScheduler_BringsWorkOntoTheLoopThread()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        var results = new List<(int Value, int Thread)>();

        // Computed on the thread pool, observed on the loop thread.
        using IDisposable subscription = Observable.Start(() => 6 * 7, ThreadPoolScheduler.Instance)
            .ObserveOn(loop.Scheduler)
            .Subscribe(value => results.Add((value, Environment.CurrentManagedThreadId)), loop.Stop);

        using var watchdog = new Watchdog(loop);
        loop.Run();
        watchdog.AssertNotFired("the result");
        Assert.Equal([(42, loopThread)], results);
    }

    [Fact]
    public void BoundedSender_SendOnTheLoopThreadWhileFull_Throws()
    {
        using var loop = new EventLoop();
        var (sender, jobs) = loop.BoundedChannel<int>(capacity: 1);
        var received = new List<int>();
        using IDisposable subscription = jobs.Subscribe(received.Add);

        loop.Scheduler.Schedule(() =>
        {
            sender.Send(1);

            // The channel is full and only this thread, the loop thread, can empty it: waiting would hang forever.
            Assert.Throws<InvalidOperationException>(() => sender.Send(2));
            Assert.Equal(SendResult.Full, sender.TrySend(2));
        });
        loop.Dispatch(TimeSpan.Zero);
        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal([1], received);
        sender.Dispose();
    }
}
