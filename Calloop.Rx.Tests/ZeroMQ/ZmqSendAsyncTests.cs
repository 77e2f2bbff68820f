using System.Diagnostics;
using System.Threading.Channels;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// <see cref="ZmqSender.SendAsync"/> against a bounded outbox: a PUSH with no peer never becomes writable, so the
/// outbox stays full until the test connects one. It waits without blocking a thread, serves waiters in order, and
/// ends as <see cref="ZmqSender.Send(IReadOnlyList{byte[]}, CancellationToken)"/> does.
/// </summary>
public class ZmqSendAsyncTests
{
    private const int Capacity = 4;

    [Fact]
    public async Task SendAsync_WhileFull_CompletesWhenTheLoopMakesRoom()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, source, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = Capacity });
        EventLoop loop = bed.Loop;
        Task producer = Task.Run(async () =>
        {
            for (int i = 0; i < 3 * Capacity; i++)
            {
                await sender.SendAsync([BitConverter.GetBytes(i)]);
            }
        });

        // The producer fills the outbox and then waits: the loop has nowhere to send.
        using (new LoopDeadline(loop))
        {
            while (sender.Pending < Capacity) loop.Dispatch(TimeSpan.FromSeconds(1));
        }

        bed.Loop.Dispatch(TimeSpan.Zero);
        Assert.False(producer.IsCompleted);

        var pull = bed.Socket(ZmqSocketType.Pull);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));

        // An inproc connect makes the PUSH writable at once, from this thread: no ZMQ_FD edge, so say so.
        source.Update();
        var received = new List<int>();
        bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(pull, received) == 3 * Capacity && producer.IsCompleted, "everything the producer sent");
        await producer.WaitAsync(LoopExtensions.Patience);
        Assert.Equal(Enumerable.Range(0, 3 * Capacity), received);
        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_SeveralWaiting_GetRoomInArrivalOrderAndSkipDisposedSenders()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, source, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = 1 });
        sender.Send(Frames.Int(0));
        ZmqSender[] clones = [.. Enumerable.Range(1, 4).Select(_ => sender.Clone())];
        Task[] waiting = [.. clones.Select((clone, i) => clone.SendAsync([Frames.Int(i + 1)]).AsTask())];
        Assert.All(waiting, t => Assert.False(t.IsCompleted));

        // The second in line gives up its turn by going away: its send fails, and the credit goes to the third.
        clones[1].Dispose();
        var pull = bed.Socket(ZmqSocketType.Pull);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        source.Update();
        var received = new List<int>();
        bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(pull, received) == 4, "every send still standing");

        Assert.Equal([0, 1, 3, 4], received);
        await Task.WhenAll(waiting[0], waiting[2], waiting[3]).WaitAsync(LoopExtensions.Patience);
        await Assert.ThrowsAsync<ChannelClosedException>(() => waiting[1].WaitAsync(LoopExtensions.Patience));
        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_CancelledWhileWaiting_FailsAndQueuesNothing()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, source, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = 1 });
        sender.Send(Frames.Int(0));
        using var cancellation = new CancellationTokenSource();
        Task waiting = sender.SendAsync([Frames.Int(99)], cancellation.Token).AsTask();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(LoopExtensions.Patience));
        Assert.Equal(1, sender.Pending);
        var pull = bed.Socket(ZmqSocketType.Pull);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        source.Update();
        var received = new List<int>();
        bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(pull, received) == 1 && sender.Pending == 0, "message 0");
        await sender.SendAsync([Frames.Int(2)]).AsTask().WaitAsync(LoopExtensions.Patience);
        bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(pull, received) == 2, "message 2");
        Assert.Equal([0, 2], received);
        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_SourceEndsWhileWaiting_Fails()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, source, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = 1 });
        sender.Send(Frames.Int(0));
        Task waiting = sender.SendAsync([Frames.Int(1)]).AsTask();

        source.Remove();

        await Assert.ThrowsAsync<ChannelClosedException>(() => waiting.WaitAsync(LoopExtensions.Patience));
        await Assert.ThrowsAsync<ChannelClosedException>(() => sender.SendAsync([Frames.Int(2)]).AsTask());
        bed.Loop.DispatchUntil(() => observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_LoopDisposedWhileWaiting_Fails()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, _, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = 1 });
        sender.Send(Frames.Int(0));
        Task waiting = sender.SendAsync([Frames.Int(1)]).AsTask();

        bed.Loop.Dispose();

        await Assert.ThrowsAsync<ChannelClosedException>(() => waiting.WaitAsync(LoopExtensions.Patience));
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public async Task SendAsync_UnboundedOutbox_CompletesAtOnce()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, _, observer) = bed.Start(push);
        for (int i = 0; i < 1000; i++)
        {
            ValueTask send = sender.SendAsync([Frames.Int(i)]);
            Assert.True(send.IsCompletedSuccessfully);
            await send;
        }

        Assert.Equal(1000, sender.Pending);
        observer.AssertClean();
    }

    [Fact]
    public void SendAsync_RacingItsCancellation_QueuesOnceOrFailsWithoutQueuing()
    {
        Stress.RaceTrials.Run(maxTrials: 100, ciSeconds: 1.5, trial =>
        {
            using var bed = new ZmqTestBed();
            var push = bed.Socket(ZmqSocketType.Push);
            var (sender, source, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = 1 });
            sender.Send(Frames.Int(0));
            using var cancellation = new CancellationTokenSource();
            using var go = new ManualResetEventSlim();
            Task waiting = sender.SendAsync([Frames.Int(1)], cancellation.Token).AsTask();
            var pull = bed.Socket(ZmqSocketType.Pull);
            push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
            var canceller = new Thread(() =>
            {
                go.Wait();
                cancellation.Cancel();
            });
            canceller.Start();

            // The loop hands message 0 to libzmq and the credit to the waiting send, while the token is cancelled.
            go.Set();
            source.Update();
            bed.Loop.DispatchUntil(() => waiting.IsCompleted, "the waiting send's end");
            Assert.True(canceller.Join(LoopExtensions.Patience));

            // A marker after the race: whatever the send queued arrives before it.
            Task marker = sender.SendAsync([Frames.Int(2)]).AsTask();
            var received = new List<int>();
            bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(pull, received) > 0 && received[^1] == 2, "the marker");
            Assert.True(((IAsyncResult)marker).AsyncWaitHandle.WaitOne(LoopExtensions.Patience), "the marker's send never ended");
            Assert.True(marker.IsCompletedSuccessfully);
            if (waiting.IsCompletedSuccessfully)
            {
                Assert.Equal([0, 1, 2], received);
            }
            else
            {
                Assert.True(waiting.IsCanceled, $"{waiting.Status}: {waiting.Exception}");
                Assert.Equal([0, 2], received);
            }

            observer.AssertClean();
        });
    }

    [Fact]
    public void SendAsync_HavingToWait_AllocatesNoMoreThanWithoutWaiting()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var pull = bed.Socket(ZmqSocketType.Pull);

        // No high-water mark: libzmq keeps every message (in native memory) without the test reading them.
        push.SendHighWaterMark = 0;
        pull.ReceiveHighWaterMark = 0;
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        var (sender, source, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = 1 });
        source.Update();
        IReadOnlyList<byte[]> parts = [Frames.Int(7)];
        bool allWaited = true;

        // Two messages per round either way. Waiting: the first takes the only credit, so the second waits in
        // line; the dispatches hand the first to libzmq, give the credit to the waiter (queuing its message),
        // complete it, and send that one too. Not waiting: each message goes through alone. The sending side
        // allocates the same in both (its copy of the list of frames, and whatever the source spends per message).
        long waiting = AllocationWindows.LeastPerWindow(_ =>
        {
            allWaited &= sender.TrySend(parts) == SendResult.Sent;
            ValueTask send = sender.SendAsync(parts);
            allWaited &= !send.IsCompleted;
            DispatchUntilDrained(bed.Loop, sender);
            TakeResult(send);
        });
        long notWaiting = AllocationWindows.LeastPerWindow(_ =>
        {
            allWaited &= sender.TrySend(parts) == SendResult.Sent;
            DispatchUntilDrained(bed.Loop, sender);
            allWaited &= sender.TrySend(parts) == SendResult.Sent;
            DispatchUntilDrained(bed.Loop, sender);
        });

        Assert.True(allWaited, "a send did not take the path it should");
        // Any object per waiting send would add at least 24 bytes a round (24,000 a window). Below that: the runtime's
        // own one-offs, and on a busy machine a few more dispatches per round (each drain's enumerator), up to ~12 kB.
        Assert.True(waiting - notWaiting < 20_000, $"waiting sends allocated {waiting:N0} bytes per 1000 rounds, sends that do not wait {notWaiting:N0}");
        observer.AssertClean();
    }

    /// <summary>Not DispatchUntil: its condition and message would allocate on this (the measured) thread.</summary>
    private static void DispatchUntilDrained(EventLoop loop, ZmqSender sender)
    {
        long deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 4);
        while (sender.Pending > 0 && Stopwatch.GetTimestamp() < deadline)
        {
            loop.Dispatch(TimeSpan.Zero);
        }
    }

    /// <summary>Takes the result of a completed send (which recycles its waiter), as an await would.</summary>
    private static void TakeResult(ValueTask completed) => completed.GetAwaiter().GetResult();
}
