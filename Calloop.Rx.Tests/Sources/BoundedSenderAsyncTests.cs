using System.Diagnostics;
using System.Reactive;
using System.Threading.Channels;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Sources;

/// <summary>
/// <see cref="BoundedSender{T}.SendAsync"/>: it completes at once with room, waits for room without blocking a thread,
/// serves waiters in order, and ends exactly as <see cref="BoundedSender{T}.Send"/> does when cancelled, when the source
/// goes or when the loop is disposed; waiting allocates nothing in steady state.
/// </summary>
public class BoundedSenderAsyncTests
{
    [Fact]
    public void SendAsync_WithRoom_CompletesAtOnce()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.BoundedChannel<int>(2);
        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);

        Assert.True(sender.SendAsync(1).IsCompletedSuccessfully);
        Assert.True(sender.SendAsync(2).IsCompletedSuccessfully);
        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal([1, 2], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_WhileFull_CompletesOnceTheLoopMadeRoom()
    {
        using var loop = new EventLoop();
        var (sender, messages, observer) = FullChannel(loop);

        Task waiting = sender.SendAsync(1).AsTask();
        Assert.False(waiting.IsCompleted);

        // Delivering message 0 makes room: the loop queues message 1 for the waiting send, which completes.
        loop.DispatchUntil(() => waiting.IsCompleted, "the waiting send");
        await waiting.WaitAsync(LoopExtensions.Patience);
        loop.DispatchUntil(() => observer.Values.Count == 2);
        Assert.Equal([0, 1], observer.Values);
        observer.AssertClean();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1024)]
    public async Task SendAsync_SeveralProducers_DeliverEachMessageOnceInSenderOrder(int capacity)
    {
        const int Producers = 4;
        const int PerProducer = 2000;
        using var loop = new EventLoop();
        var (sender, messages) = loop.BoundedChannel<(int Producer, int Sequence)>(capacity);
        var observer = new ContractObserver<(int Producer, int Sequence)>(loop);
        messages.Subscribe(observer);
        Task[] tasks = [.. Enumerable.Range(0, Producers).Select(p =>
        {
            BoundedSender<(int, int)> clone = sender.Clone();
            return Task.Run(async () =>
            {
                using (clone)
                {
                    for (int i = 0; i < PerProducer; i++)
                    {
                        await clone.SendAsync((p, i));
                    }
                }
            });
        })];
        sender.Dispose();

        loop.DispatchUntil(() => observer.Completed, "every producer's messages and the close");

        await Task.WhenAll(tasks).WaitAsync(LoopExtensions.Patience);
        Assert.Equal(Producers * PerProducer, observer.Values.Count);
        for (int p = 0; p < Producers; p++)
        {
            Assert.Equal(Enumerable.Range(0, PerProducer), observer.Values.Where(v => v.Producer == p).Select(v => v.Sequence));
        }

        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_SeveralWaiting_GetRoomInArrivalOrder()
    {
        using var loop = new EventLoop();
        var (sender, messages, observer) = FullChannel(loop);

        // One sender each, none awaited before the next starts: only the line can order them.
        Task[] waiting = [.. Enumerable.Range(1, 5).Select(i => sender.Clone().SendAsync(i).AsTask())];
        Assert.All(waiting, t => Assert.False(t.IsCompleted));

        loop.DispatchUntil(() => observer.Values.Count == 6, "every waiting send");
        Assert.Equal([0, 1, 2, 3, 4, 5], observer.Values);
        await Task.WhenAll(waiting).WaitAsync(LoopExtensions.Patience);
        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_CancelledWhileWaiting_FailsAndQueuesNothing()
    {
        using var loop = new EventLoop();
        var (sender, messages, observer) = FullChannel(loop);
        using var cancellation = new CancellationTokenSource();

        Task waiting = sender.SendAsync(99, cancellation.Token).AsTask();
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(LoopExtensions.Patience));
        // The cancelled send took no room: message 0 alone still fills the channel.
        Assert.Equal(SendResult.Full, sender.TrySend(98));
        loop.DispatchUntil(() => observer.Values.Count == 1);
        await sender.SendAsync(2).AsTask().WaitAsync(LoopExtensions.Patience);
        loop.DispatchUntil(() => observer.Values.Count == 2);
        Assert.Equal([0, 2], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_CancelledBeforeWaiting_StillQueuesWhenThereIsRoom()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.BoundedChannel<int>(1);
        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);

        // As Send: the token only stops a wait. A full channel with a cancelled token fails at once.
        await sender.SendAsync(1, new CancellationToken(canceled: true));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sender.SendAsync(2, new CancellationToken(canceled: true)).AsTask());

        loop.DispatchUntil(() => observer.Values.Count == 1);
        Assert.Equal([1], observer.Values);
        Assert.Equal(SendResult.Sent, sender.TrySend(3));
        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_SourceRemovedWhileWaiting_FailsWithChannelClosedException()
    {
        using var loop = new EventLoop();
        var (sender, messages, observer) = FullChannel(loop);
        Task waiting = sender.SendAsync(1).AsTask();

        messages.Remove();

        await Assert.ThrowsAsync<ChannelClosedException>(() => waiting.WaitAsync(LoopExtensions.Patience));
        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_LoopDisposedWhileWaiting_FailsWithChannelClosedException()
    {
        var loop = new EventLoop();
        var (sender, messages, observer) = FullChannel(loop);
        Task waiting = sender.SendAsync(1).AsTask();

        loop.Dispose();

        await Assert.ThrowsAsync<ChannelClosedException>(() => waiting.WaitAsync(LoopExtensions.Patience));
        await Assert.ThrowsAsync<ChannelClosedException>(() => sender.SendAsync(2).AsTask());
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_LoopDisposedFromAnotherThreadDuringADispatch_Fails()
    {
        var loop = new EventLoop();
        var (sender, messages) = loop.BoundedChannel<int>(1);
        var (ping, pings) = loop.Ping();
        using var inCallback = new ManualResetEventSlim();
        using var disposed = new ManualResetEventSlim();
        Task waiting = Task.CompletedTask;
        bool endedDuringTheDispatch = false;
        messages.Subscribe(_ => { });
        messages.Disable();
        pings.Subscribe(_ =>
        {
            // The dispatch stays here until Dispose returned on the other thread, so the teardown has to wait for
            // it: the waiting send must fail already, released by Dispose itself.
            inCallback.Set();
            Assert.True(disposed.Wait(LoopExtensions.Patience));
            endedDuringTheDispatch = ((IAsyncResult)waiting).AsyncWaitHandle.WaitOne(LoopExtensions.Patience);
        });
        Assert.Equal(SendResult.Sent, sender.TrySend(0));
        waiting = sender.SendAsync(1).AsTask();
        ping.Send();
        var disposer = new Thread(() =>
        {
            Assert.True(inCallback.Wait(LoopExtensions.Patience));
            loop.Dispose();
            disposed.Set();
        });
        disposer.Start();

        loop.Dispatch(LoopExtensions.Patience);

        Assert.True(disposer.Join(LoopExtensions.Patience));
        Assert.True(endedDuringTheDispatch, "the waiting send outlived Dispose");
        await Assert.ThrowsAsync<ChannelClosedException>(() => waiting);
    }

    [Fact]
    public async Task SendAsync_LastSenderDisposedWhileWaiting_Fails()
    {
        using var loop = new EventLoop();
        var (sender, messages, observer) = FullChannel(loop);
        Task waiting = sender.SendAsync(1).AsTask();

        sender.Dispose();

        await Assert.ThrowsAsync<ChannelClosedException>(() => waiting.WaitAsync(LoopExtensions.Patience));
        loop.DispatchUntil(() => observer.Completed);
        Assert.Equal([0], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void SendAsync_AwaitedOnTheLoopThreadWhileFull_CompletesOnceTheLoopMadeRoom()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.BoundedChannel<int>(1);
        var (ping, pings) = loop.Ping();
        var received = new ContractObserver<int>(loop);
        messages.Subscribe(received);
        bool resumedOnLoopThread = false;
        bool done = false;
        var onPing = new ContractObserver<Unit>(loop, _ => loop.Spawn(async () =>
        {
            await sender.SendAsync(2);
            resumedOnLoopThread = loop.IsOnLoopThread;
            done = true;
        }));
        pings.Subscribe(onPing);

        // Keep the channel full while the ping's callback starts the send: disabled, the loop does not drain it.
        messages.Disable();
        Assert.Equal(SendResult.Sent, sender.TrySend(1));
        ping.Send();
        loop.DispatchUntil(() => onPing.Values.Count == 1);
        loop.Dispatch(TimeSpan.Zero);
        Assert.False(done);

        messages.Enable();
        loop.DispatchUntil(() => done && received.Values.Count == 2, "the send awaited on the loop thread");
        Assert.True(resumedOnLoopThread);
        Assert.Equal([1, 2], received.Values);
        received.AssertClean();
        onPing.AssertClean();
    }

    [Fact]
    public void SendAsync_RacingItsCancellation_QueuesOnceOrFailsWithoutQueuing()
    {
        int queued = 0;
        int cancelled = 0;
        Stress.RaceTrials.Run(maxTrials: 300, ciSeconds: 1.5, trial =>
        {
            using var loop = new EventLoop();
            var (sender, messages) = loop.BoundedChannel<int>(1);
            var received = new List<int>();
            bool completed = false;
            messages.Subscribe(received.Add, () => completed = true);
            Assert.Equal(SendResult.Sent, sender.TrySend(0));
            using var cancellation = new CancellationTokenSource();
            using var go = new ManualResetEventSlim();
            Task waiting = sender.SendAsync(1, cancellation.Token).AsTask();
            var canceller = new Thread(() =>
            {
                go.Wait();
                cancellation.Cancel();
            });
            canceller.Start();

            go.Set();
            loop.Dispatch(TimeSpan.Zero);
            Assert.True(canceller.Join(LoopExtensions.Patience));
            Assert.True(((IAsyncResult)waiting).AsyncWaitHandle.WaitOne(LoopExtensions.Patience), "the send never ended");

            // The channel completes once it delivered everything queued: a granted send's message, never a cancelled one's.
            sender.Dispose();
            loop.DispatchUntil(() => completed, "the channel's completion");
            if (waiting.IsCompletedSuccessfully)
            {
                queued++;
                Assert.Equal([0, 1], received);
            }
            else
            {
                cancelled++;
                Assert.True(waiting.IsCanceled, $"{waiting.Status}: {waiting.Exception}");
                Assert.Equal([0], received);
            }
        });
        Assert.True(queued + cancelled > 0);
    }

    [Fact]
    public void SendAsync_RacingLoopDispose_EndsQueuedOrClosed()
    {
        Stress.RaceTrials.Run(maxTrials: 300, ciSeconds: 1.5, trial =>
        {
            var loop = new EventLoop();
            var (sender, messages) = loop.BoundedChannel<int>(1);
            messages.Subscribe(_ => { });
            Assert.Equal(SendResult.Sent, sender.TrySend(0));
            Task[] waiting = [.. Enumerable.Range(1, 3).Select(i => sender.Clone().SendAsync(i).AsTask())];
            using var go = new ManualResetEventSlim();
            var disposer = new Thread(() =>
            {
                go.Wait();
                loop.Dispose();
            });
            disposer.Start();

            go.Set();
            try
            {
                while (!loop.IsDisposed)
                {
                    loop.Dispatch(TimeSpan.Zero);
                }
            }
            catch (ObjectDisposedException)
            {
                // Dispose won the race to the next Dispatch.
            }

            Assert.True(disposer.Join(LoopExtensions.Patience));
            Assert.True(Task.WaitAll([.. waiting.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))], LoopExtensions.Patience), "a send never ended");
            Assert.All(waiting, t => Assert.True(t.IsCompletedSuccessfully || t.Exception?.InnerException is ChannelClosedException, $"{t.Status}: {t.Exception}"));
        });
    }

    [Fact]
    public void SendAsync_HavingToWait_AllocatesNothingInSteadyState()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.BoundedChannel<int>(1);
        int received = 0;
        messages.Subscribe(_ => received++);

        // Each round fills the channel, so the send has to wait in line; the dispatch delivers, gives the room to
        // the waiter (queuing its message) and completes it; the result is then taken, which recycles the waiter.
        bool allWaited = true;
        long least = AllocationWindows.LeastPerWindow(i =>
        {
            allWaited &= sender.TrySend(i) == SendResult.Sent;
            ValueTask waiting = sender.SendAsync(i);
            allWaited &= !waiting.IsCompleted;
            long deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 4);
            while (!waiting.IsCompleted && Stopwatch.GetTimestamp() < deadline)
            {
                loop.Dispatch(TimeSpan.Zero);
            }

            TakeResult(waiting);
        });

        Assert.True(allWaited, "a send did not have to wait");
        loop.DispatchUntil(() => received == 6200);
        Assert.Equal(0, least);
    }

    /// <summary>A channel of capacity 1 with a subscribed observer and message 0 queued: the next send has to wait.</summary>
    private static (BoundedSender<int> Sender, ChannelSource<int> Messages, ContractObserver<int> Observer) FullChannel(EventLoop loop)
    {
        var (sender, messages) = loop.BoundedChannel<int>(1);
        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);
        Assert.Equal(SendResult.Sent, sender.TrySend(0));
        return (sender, messages, observer);
    }

    /// <summary>Takes the result of a completed send (which recycles its waiter), as an await would.</summary>
    private static void TakeResult(ValueTask completed) => completed.GetAwaiter().GetResult();
}
