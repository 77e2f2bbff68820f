using System.Reactive;
using System.Reactive.Linq;
using System.Threading.Channels;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Async;

public class SpawnTests
{
    // calloop futures.rs `ready`: nothing before scheduling; one dispatch delivers the result.
    [Fact]
    public void Spawn_CompletedTask_DeliversInTheNextDispatch()
    {
        using var loop = new EventLoop();
        loop.Dispatch(TimeSpan.Zero);

        var observer = new ContractObserver<int>(loop);
        loop.Spawn(async () => await Task.FromResult(42)).Subscribe(observer);
        Assert.Empty(observer.Values);

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal([42], observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    // calloop futures.rs `more_than_1024`, adapted: calloop runs 1024 per dispatch then the rest; here every task
    // queued before an actions phase runs in it, and all 1,025 complete.
    [Fact]
    public void Spawn_MoreThan1024Tasks_AllCompleteInOneDispatch()
    {
        using var loop = new EventLoop();
        var observers = Enumerable.Range(0, 1025).Select(_ => new ContractObserver<Unit>(loop)).ToArray();
        foreach (var observer in observers)
        {
            loop.Spawn(() => Task.CompletedTask).Subscribe(observer);
        }

        loop.Dispatch(TimeSpan.Zero);

        Assert.All(observers, o => Assert.True(o.Completed));
        Assert.All(observers, o => Assert.Single(o.Values));
        Assert.All(observers, o => o.AssertClean());
    }

    [Fact]
    public void Spawn_EveryAwait_ContinuesOnTheLoopThread()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        var threads = new List<int>();
        bool completed = false;
        loop.Spawn(async () =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Yield();
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Run(() => { });
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Delay(TimeSpan.FromMilliseconds(1), loop.TimeProvider);
            threads.Add(Environment.CurrentManagedThreadId);
            var completedElsewhere = new TaskCompletionSource();
            new Thread(completedElsewhere.SetResult).Start();
            await completedElsewhere.Task;
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Factory.StartNew(() => { }, CancellationToken.None, TaskCreationOptions.None, loop.TaskScheduler);
            threads.Add(Environment.CurrentManagedThreadId);
        }).Subscribe(_ => { }, () => completed = true);

        using var deadline = new LoopDeadline(loop);
        while (!completed) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Equal(Enumerable.Repeat(loopThread, 6), threads);
    }

    [Fact]
    public void Spawn_Continuations_RunInTheActionsPhaseAfterEventsAndTimers()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        var order = new List<string>();
        var (ping, pings) = loop.Ping();
        var pingObserver = new ContractObserver<Unit>(loop, _ => order.Add("ping"));
        using var subscription = pings.Subscribe(pingObserver);
        var spawned = new ContractObserver<Unit>(loop);
        loop.Spawn(async () =>
        {
            order.Add("start");
            await Task.Delay(TimeSpan.FromSeconds(1), loop.TimeProvider);
            order.Add("after delay");
        }).Subscribe(spawned);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(["start"], order);

        using var timer = loop.Timer(TimeSpan.FromSeconds(1)).Subscribe(_ => order.Add("timer"));
        loop.InsertIdle(() => order.Add("idle"));
        ping.Send();
        loop.AdvanceBy(TimeSpan.FromSeconds(1));

        // AdvanceBy first dispatches at the current instant: the ping (events phase), then the idle. Then the clock
        // moves to 1 s: the delay's timer, armed first, then the loop timer (timers phase). The delay completes on the
        // loop thread with the loop's context current, so .NET runs the await's continuation inline there, before the
        // next timer.
        Assert.Equal(["start", "ping", "idle", "after delay", "timer"], order);
        pingObserver.AssertClean();
        spawned.AssertClean();
    }

    [Fact]
    public void Spawn_Result_IsReplayedToLateSubscribersOnTheLoopThread()
    {
        using var loop = new EventLoop();
        bool ran = false;
        IObservable<string> result = loop.Spawn(async () =>
        {
            ran = true;
            await Task.Yield();
            return "done";
        });

        loop.DispatchUntil(() => ran, "the start");
        loop.Dispatch(TimeSpan.Zero);
        loop.Dispatch(TimeSpan.Zero);

        var late = new ContractObserver<string>(loop);
        result.Subscribe(late);
        Assert.Empty(late.Notifications);
        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(["done"], late.Values);
        Assert.True(late.Completed);
        late.AssertClean();
    }

    [Fact]
    public void Spawn_SubscriptionDisposed_StopsDeliveryButNotTheTask()
    {
        using var loop = new EventLoop();
        bool finished = false;
        var observer = new ContractObserver<Unit>(loop);
        var subscription = loop.Spawn(async () =>
        {
            await Task.Yield();
            finished = true;
        }).Subscribe(observer);
        subscription.Dispose();

        loop.DispatchUntil(() => finished, "the task");
        loop.Dispatch(TimeSpan.Zero);

        Assert.Empty(observer.Notifications);
    }

    [Fact]
    public void Spawn_TaskFails_OnErrorGetsTheExceptionUnwrapped()
    {
        using var loop = new EventLoop();
        var asyncFailure = new ContractObserver<int>(loop);
        var syncFailure = new ContractObserver<int>(loop);
        loop.Spawn<int>(async () =>
        {
            await Task.Yield();
            throw new InvalidOperationException("async");
        }).Subscribe(asyncFailure);
        loop.Spawn<int>(() => throw new InvalidOperationException("sync")).Subscribe(syncFailure);

        loop.DispatchUntil(() => asyncFailure.Error is not null && syncFailure.Error is not null, "both failures");

        Assert.Equal("async", Assert.IsType<InvalidOperationException>(asyncFailure.Error).Message);
        Assert.Equal("sync", Assert.IsType<InvalidOperationException>(syncFailure.Error).Message);
        asyncFailure.AssertClean();
        syncFailure.AssertClean();
    }

    [Fact]
    public void Spawn_ObserverThrows_ComesOutOfDispatchAfterEverySubscriberGotTheResult()
    {
        using var loop = new EventLoop();
        IObservable<int> result = loop.Spawn(() => Task.FromResult(7));
        result.Subscribe(_ => throw new InvalidOperationException("observer"));
        var second = new ContractObserver<int>(loop);
        result.Subscribe(second);

        Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));

        Assert.Equal([7], second.Values);
        second.AssertClean();
    }

    [Fact]
    public void Spawn_CancelledBeforeTheStart_NeverStarts()
    {
        using var loop = new EventLoop();
        using var cts = new CancellationTokenSource();
        bool started = false;
        var observer = new ContractObserver<int>(loop);
        loop.Spawn(
            _ =>
            {
                started = true;
                return Task.FromResult(1);
            },
            cts.Token).Subscribe(observer);
        cts.Cancel();

        loop.Dispatch(TimeSpan.Zero);

        Assert.False(started);
        Assert.IsAssignableFrom<OperationCanceledException>(observer.Error);
        observer.AssertClean();
    }

    [Fact]
    public void Spawn_TokenCancelled_ReachesTheFunctionAndEndsWithOnError()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        using var cts = new CancellationTokenSource();
        var observer = new ContractObserver<Unit>(loop);
        loop.Spawn(token => Task.Delay(TimeSpan.FromHours(1), loop.TimeProvider, token), cts.Token).Subscribe(observer);
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Empty(observer.Notifications);

        // Cancelled here, off the loop: the delay's continuation may run on the thread pool, the result is still delivered on the loop.
        cts.Cancel();
        loop.DispatchUntil(() => observer.Error is not null, "the cancellation");

        Assert.IsAssignableFrom<OperationCanceledException>(observer.Error);
        observer.AssertClean();
    }

    [Fact]
    public void Spawn_LoopDisposed_FailsPendingResultsWithObjectDisposed()
    {
        var loop = new EventLoop();
        var never = new TaskCompletionSource<int>();
        var started = new ContractObserver<int>(loop);
        var queued = new ContractObserver<int>(loop);
        loop.Spawn(() => never.Task).Subscribe(started);
        loop.Dispatch(TimeSpan.Zero);
        loop.Spawn(() => Task.FromResult(1)).Subscribe(queued);

        loop.Dispose();

        Assert.IsType<ObjectDisposedException>(started.Error);
        Assert.IsType<ObjectDisposedException>(queued.Error);
        Assert.Throws<ObjectDisposedException>(() => loop.Spawn(() => Task.FromResult(1)));
    }

    [Fact]
    public void Spawn_FromAnotherThread_WakesTheLoop()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        int ranOn = 0;
        var spawner = new Thread(() => loop.Spawn(() =>
        {
            ranOn = Environment.CurrentManagedThreadId;
            return Task.CompletedTask;
        }));
        spawner.Start();

        loop.DispatchUntil(() => ranOn != 0, "the spawned function");
        spawner.Join();

        Assert.Equal(loopThread, ranOn);
    }

    // The calloop book's "friendly" and "aloof" tasks, exchanging messages through two channels.
    [Fact]
    public void Spawn_FriendlyAndAloof_ExchangeMessagesThroughChannels()
    {
        using var loop = new EventLoop();
        var output = new List<string>();
        var toAloof = Channel.CreateUnbounded<string>();
        var toFriendly = Channel.CreateUnbounded<string>();

        IObservable<string> friendly = loop.Spawn(async () =>
        {
            await toAloof.Writer.WriteAsync("Hello,");
            output.Add($"Aloof said: {await toFriendly.Reader.ReadAsync()}");
            await toAloof.Writer.WriteAsync("world!");
            output.Add($"Aloof said: {await toFriendly.Reader.ReadAsync()}");
            return "Bye!";
        });
        IObservable<string> aloof = loop.Spawn(async () =>
        {
            output.Add($"Friendly said: {await toAloof.Reader.ReadAsync()}");
            await toFriendly.Writer.WriteAsync("Oh,");
            output.Add($"Friendly said: {await toAloof.Reader.ReadAsync()}");
            await toFriendly.Writer.WriteAsync("it's you.");
            return "Regards.";
        });
        bool completed = false;
        friendly.Merge(aloof).Subscribe(result => output.Add($"Async block ended with: {result}"), () => completed = true);

        using var deadline = new LoopDeadline(loop);
        while (!completed) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Equal(
            [
                "Friendly said: Hello,",
                "Aloof said: Oh,",
                "Friendly said: world!",
                "Aloof said: it's you.",
                "Async block ended with: Regards.",
                "Async block ended with: Bye!",
            ],
            output);
    }

    // The same exchange over the loop's own channels: each message is awaited as the next item of a ChannelSource.
    [Fact]
    public void Spawn_FriendlyAndAloof_ExchangeMessagesThroughLoopChannels()
    {
        using var loop = new EventLoop();
        var output = new List<string>();
        var (toAloof, aloofInbox) = loop.Channel<string>();
        var (toFriendly, friendlyInbox) = loop.Channel<string>();

        IObservable<string> friendly = loop.Spawn(async () =>
        {
            toAloof.Send("Hello,");
            output.Add($"Aloof said: {await friendlyInbox.FirstAsync()}");
            toAloof.Send("world!");
            output.Add($"Aloof said: {await friendlyInbox.FirstAsync()}");
            return "Bye!";
        });
        IObservable<string> aloof = loop.Spawn(async () =>
        {
            output.Add($"Friendly said: {await aloofInbox.FirstAsync()}");
            toFriendly.Send("Oh,");
            output.Add($"Friendly said: {await aloofInbox.FirstAsync()}");
            toFriendly.Send("it's you.");
            return "Regards.";
        });
        bool completed = false;
        friendly.Merge(aloof).Subscribe(result => output.Add($"Async block ended with: {result}"), () => completed = true);

        using var deadline = new LoopDeadline(loop);
        while (!completed) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Equal(
            [
                "Friendly said: Hello,",
                "Aloof said: Oh,",
                "Friendly said: world!",
                "Async block ended with: Regards.",
                "Aloof said: it's you.",
                "Async block ended with: Bye!",
            ],
            output);
    }
}
