using System.Collections.Concurrent;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// A loop on its own thread: named, delivering every event there, stopped and disposed from any thread (the loop
/// thread included) with every fd closed, and ending with the exception an observer threw. Serial because some
/// tests count the process's open fds.
/// </summary>
[Collection("Serial")]
public class EventLoopThreadTests
{
    private static readonly TimeSpan s_patience = LoopExtensions.Patience;

    [Fact]
    public void Start_RunsTheLoopOnANewThreadWithTheGivenName()
    {
        using var loopThread = EventLoopThread.Start("orders loop");
        string? name = null;
        bool isCurrent = false;
        using var ran = new ManualResetEventSlim();
        loopThread.Loop.Scheduler.Schedule(() =>
        {
            name = Thread.CurrentThread.Name;
            isCurrent = loopThread.IsCurrentThread;
            ran.Set();
        });

        Assert.True(ran.Wait(s_patience), "the scheduled action did not run");
        Assert.Equal("orders loop", name);
        Assert.Equal("orders loop", loopThread.Name);
        Assert.True(isCurrent);
        Assert.False(loopThread.IsCurrentThread);
    }

    [Fact]
    public void ChannelMessagesAndTimers_AreDeliveredOnTheLoopThread()
    {
        using var loopThread = EventLoopThread.Start();
        EventLoop loop = loopThread.Loop;
        var (sender, messages) = loop.Channel<int>();
        var received = new List<int>();
        var offThread = new ConcurrentQueue<string>();
        using var gotAll = new ManualResetEventSlim();
        using var ticked = new ManualResetEventSlim();
        using var subscription = messages.Subscribe(value =>
        {
            if (!loopThread.IsCurrentThread)
            {
                offThread.Enqueue($"message {value} on {Thread.CurrentThread.Name}");
            }

            received.Add(value);
            if (received.Count == 3)
            {
                gotAll.Set();
            }
        });
        using var timer = loop.Timer(TimeSpan.FromMilliseconds(1)).Subscribe(_ =>
        {
            if (!loopThread.IsCurrentThread)
            {
                offThread.Enqueue($"timer on {Thread.CurrentThread.Name}");
            }

            ticked.Set();
        });

        sender.Send(1);
        sender.Send(2);
        sender.Send(3);

        Assert.True(gotAll.Wait(TimeSpan.FromSeconds(4)), "the messages were not delivered");
        Assert.True(ticked.Wait(s_patience), "the timer did not fire");
        Assert.Equal([1, 2, 3], received);
        Assert.Empty(offThread);
        Assert.Equal(EventLoopThread.DefaultName, loopThread.Name);
    }

    [Fact]
    public async Task Stop_CompletesCompletionAndDisposesTheLoop()
    {
        using var loopThread = EventLoopThread.Start();
        var (_, messages) = loopThread.Loop.Channel<int>();
        var completedOn = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = messages.Subscribe(_ => { }, () => completedOn.SetResult(loopThread.IsCurrentThread));

        loopThread.Stop();

        await loopThread.Completion.WaitAsync(s_patience);
        Assert.True(loopThread.Join(s_patience));
        Assert.True(loopThread.Loop.IsDisposed);
        Assert.True(await completedOn.Task.WaitAsync(s_patience), "OnCompleted ran off the loop thread");
    }

    [Fact]
    public void Stop_RightAfterStart_IsNotForgotten()
    {
        // EventLoop.Run forgets a Stop issued before it starts; the thread must not.
        for (int trial = 0; trial < 50; trial++)
        {
            var loopThread = EventLoopThread.Start();
            loopThread.Stop();
            Assert.True(loopThread.Join(s_patience), $"trial {trial}: the thread did not end");
            Assert.True(loopThread.Completion.IsCompletedSuccessfully, $"trial {trial}: {loopThread.Completion.Status}");
        }
    }

    [Fact]
    public async Task ObserverException_EndsTheThreadAndFaultsCompletionWithIt()
    {
        using var loopThread = EventLoopThread.Start();
        var (ping, pings) = loopThread.Loop.Ping();
        var thrown = new InvalidOperationException("observer failed");
        using var subscription = pings.Subscribe(_ => throw thrown);

        ping.Send();

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => loopThread.Completion.WaitAsync(TimeSpan.FromSeconds(4)));
        Assert.Same(thrown, error);
        Assert.True(loopThread.Join(s_patience));
        Assert.True(loopThread.Loop.IsDisposed);
        loopThread.Dispose();
    }

    [Fact]
    public void Dispose_FromAnotherThread_EndsTheThreadWithEveryFdClosed()
    {
        HashSet<int> before = TestSys.OpenFds();
        var loopThread = EventLoopThread.Start();
        EventLoop loop = loopThread.Loop;
        var (sender, messages) = loop.Channel<string>();
        var (ping, pings) = loop.Ping();
        using var delivered = new ManualResetEventSlim();
        using var completed = new CountdownEvent(3);
        messages.Subscribe(_ => delivered.Set(), () => completed.Signal());
        pings.Subscribe(_ => { }, () => completed.Signal());
        loop.Timer(TimeSpan.FromHours(1)).Subscribe(_ => { }, () => completed.Signal());
        sender.Send("hello");
        Assert.True(delivered.Wait(s_patience), "the message was not delivered");

        var disposer = new Thread(loopThread.Dispose);
        disposer.Start();

        Assert.True(disposer.Join(s_patience), "Dispose did not return");
        Assert.True(loopThread.Completion.IsCompletedSuccessfully, loopThread.Completion.Status.ToString());
        Assert.True(completed.Wait(s_patience), "not every subscriber was completed");
        Assert.Equal(SendResult.Closed, sender.TrySend("late"));
        loopThread.Dispose();
        ping.Dispose();
        sender.Dispose();
        Assert.Empty(TestSys.FdsOpenedSince(before));
    }

    [Fact]
    public void Dispose_FromTheLoopThread_EndsTheThreadWithEveryFdClosed()
    {
        HashSet<int> before = TestSys.OpenFds();
        var loopThread = EventLoopThread.Start();
        var (ping, pings) = loopThread.Loop.Ping();
        Exception? joinError = null;
        bool returned = false;
        pings.Subscribe(_ =>
        {
            loopThread.Dispose();
            joinError = Record.Exception(() => loopThread.Join(TimeSpan.Zero));
            returned = true;
        });

        ping.Send();

        Assert.True(loopThread.Join(s_patience), "the thread did not end");
        Assert.True(loopThread.Completion.IsCompletedSuccessfully, loopThread.Completion.Status.ToString());
        Assert.True(returned, "Dispose on the loop thread did not return");
        Assert.IsType<InvalidOperationException>(joinError);
        ping.Dispose();
        Assert.Empty(TestSys.FdsOpenedSince(before));
    }

    [Fact]
    public async Task DisposeAsync_WaitsForTheEndAndDoesNotThrowWhatEndedTheThread()
    {
        var loopThread = EventLoopThread.Start();
        var (ping, pings) = loopThread.Loop.Ping();
        pings.Subscribe(_ => throw new InvalidOperationException("observer failed"));
        ping.Send();

        await loopThread.DisposeAsync().AsTask().WaitAsync(s_patience);
        await loopThread.DisposeAsync();

        Assert.True(loopThread.Completion.IsFaulted);
        Assert.True(loopThread.Loop.IsDisposed);
        ping.Dispose();
    }

    [Fact]
    public async Task SubscribeAndDispose_FromManyThreadsWhileItRuns_LosesNoTick()
    {
        const int Threads = 4;
        const int Rounds = 100;
        using var loopThread = EventLoopThread.Start();
        EventLoop loop = loopThread.Loop;
        var (sender, messages) = loop.Channel<int>();
        int ticks = 0;
        var offThread = new ConcurrentQueue<string>();

        void Churn()
        {
            using var tick = new ManualResetEventSlim();
            for (int round = 0; round < Rounds; round++)
            {
                tick.Reset();
                using (messages.Subscribe(_ => { }))
                using (loop.Timer(TimeSpan.Zero).Subscribe(_ =>
                {
                    if (!loopThread.IsCurrentThread)
                    {
                        offThread.Enqueue(Thread.CurrentThread.Name ?? "?");
                    }

                    Interlocked.Increment(ref ticks);
                    tick.Set();
                }))
                {
                    sender.Send(round);
                    Assert.True(tick.Wait(s_patience), "a timer subscribed from another thread did not fire");
                }
            }
        }

        Task[] churners = [.. Enumerable.Range(0, Threads).Select(_ => Task.Factory.StartNew(Churn, TaskCreationOptions.LongRunning))];

        await Task.WhenAll(churners).WaitAsync(s_patience);
        Assert.Equal(Threads * Rounds, ticks);
        Assert.Empty(offThread);
        loopThread.Stop();
        await loopThread.Completion.WaitAsync(s_patience);
    }

    [Fact]
    public void ObserveOn_AUiSynchronizationContext_DeliversOnTheUiThreadInOrder()
    {
        using var ui = new UiSynchronizationContext();
        using var loopThread = EventLoopThread.Start();
        var (sender, messages) = loopThread.Loop.Channel<string>();
        var shown = new List<(string Text, int Thread)>();
        using var allShown = new ManualResetEventSlim();

        using var subscription = messages
            .Select(text => text.ToUpperInvariant()) // on the loop thread
            .ObserveOn(ui)                           // then on the UI thread
            .Subscribe(text =>
            {
                shown.Add((text, Environment.CurrentManagedThreadId));
                if (shown.Count == 3)
                {
                    allShown.Set();
                }
            });

        sender.Send("one");
        sender.Send("two");
        sender.Send("three");

        Assert.True(allShown.Wait(s_patience), "the messages did not reach the UI thread");
        Assert.Equal(["ONE", "TWO", "THREE"], shown.Select(s => s.Text));
        Assert.All(shown, s => Assert.Equal(ui.ManagedThreadId, s.Thread));
    }
}
