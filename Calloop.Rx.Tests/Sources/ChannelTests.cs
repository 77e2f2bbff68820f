using System.Reactive;
using System.Threading.Channels;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Sources;

/// <summary>
/// The counterparts of calloop's <c>src/sources/channel.rs</c> tests, then what calloop leaves untested: several
/// producer threads, the blocking and loop-thread behaviour of <see cref="BoundedSender{T}"/>, sends after the source
/// is gone, fairness towards other sources, and the close on the last sender clone. calloop's <c>Event::Closed</c> is
/// <c>OnCompleted</c> here. <c>docs/calloop-test-map.md</c> names the calloop test behind each one.
/// </summary>
public class ChannelTests
{
    [Fact]
    public void Channel_SendThenDisposeSender_DeliversThenCompletes()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);
        Assert.False(observer.Completed);

        sender.Send(42);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([42], observer.Values);
        Assert.False(observer.Completed);

        sender.Dispose();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([42], observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void BoundedChannel_AtCapacity_TrySendReportsFull()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.BoundedChannel<int>(2);
        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);

        Assert.Equal(SendResult.Sent, sender.TrySend(0));
        Assert.Equal(SendResult.Sent, sender.TrySend(1));
        Assert.Equal(SendResult.Full, sender.TrySend(2));
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([0, 1], observer.Values);

        // The last message and the close come out of one dispatch.
        Assert.Equal(SendResult.Sent, sender.TrySend(2));
        sender.Dispose();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([0, 1, 2], observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Channel_MoreThanTheBatchLimit_DeliversTheRestInTheNextDispatch()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);
        for (int i = 0; i < 1025; i++)
        {
            sender.Send(i);
        }

        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(1024, observer.Values.Count);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(Enumerable.Range(0, 1025), observer.Values);
        Assert.False(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Sender_ClonesOnSeveralThreads_DeliverEachMessageOnceInSenderOrder()
    {
        const int Producers = 4;
        const int PerProducer = 3000;
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<(int Producer, int Sequence)>();
        var observer = new ContractObserver<(int Producer, int Sequence)>(loop);
        messages.Subscribe(observer);
        var threads = Enumerable.Range(0, Producers).Select(p =>
        {
            Sender<(int, int)> clone = sender.Clone();
            return new Thread(() =>
            {
                for (int i = 0; i < PerProducer; i++)
                {
                    clone.Send((p, i));
                }

                clone.Dispose();
            });
        }).ToList();
        sender.Dispose();
        threads.ForEach(t => t.Start());

        loop.DispatchUntil(() => observer.Completed, "every producer's messages and the close");

        threads.ForEach(t => Assert.True(t.Join(LoopExtensions.Patience)));
        Assert.Equal(Producers * PerProducer, observer.Values.Count);
        for (int p = 0; p < Producers; p++)
        {
            Assert.Equal(Enumerable.Range(0, PerProducer), observer.Values.Where(v => v.Producer == p).Select(v => v.Sequence));
        }

        observer.AssertClean();
    }

    [Fact]
    public void BoundedSender_SendWhileFull_BlocksUntilTheLoopDrains()
    {
        const int Count = 50;
        using var loop = new EventLoop();
        var (sender, messages) = loop.BoundedChannel<int>(1);
        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);
        Assert.Equal(SendResult.Sent, sender.TrySend(0));
        bool secondSent = false;
        var producer = new Thread(() =>
        {
            // The channel is full: this cannot return before the loop has taken message 0.
            sender.Send(1);
            Volatile.Write(ref secondSent, true);
            for (int i = 2; i < Count; i++)
            {
                sender.Send(i);
            }

            sender.Dispose();
        });
        producer.Start();
        Assert.False(Volatile.Read(ref secondSent));

        loop.DispatchUntil(() => observer.Completed, "all messages through a channel of capacity 1");

        Assert.True(producer.Join(LoopExtensions.Patience));
        Assert.Equal(Enumerable.Range(0, Count), observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void BoundedSender_SourceRemovedWhileBlocked_ThrowsChannelClosedException()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.BoundedChannel<int>(1);
        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);
        Assert.Equal(SendResult.Sent, sender.TrySend(0));
        Exception? outcome = null;
        var producer = new Thread(() => outcome = Record.Exception(() => sender.Send(1)));
        producer.Start();

        messages.Remove();

        Assert.True(producer.Join(LoopExtensions.Patience), "Send stayed blocked after the source was removed");
        Assert.IsType<ChannelClosedException>(outcome);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void BoundedSender_SendOnTheLoopThreadWhileFull_Throws()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.BoundedChannel<int>(1);
        var (ping, pings) = loop.Ping();
        var received = new ContractObserver<int>(loop);
        messages.Subscribe(received);
        int next = 2;
        var outcomes = new List<Exception?>();
        var onPing = new ContractObserver<Unit>(loop, _ => outcomes.Add(Record.Exception(() => sender.Send(next++))));
        pings.Subscribe(onPing);

        // Keep the channel full while the ping's callback runs: disabled, the loop does not drain it.
        messages.Disable();
        Assert.Equal(SendResult.Sent, sender.TrySend(1));
        ping.Send();
        loop.DispatchUntil(() => outcomes.Count == 1);

        // Only the loop can make room, so blocking here would never end.
        Assert.IsType<InvalidOperationException>(outcomes[0]);

        messages.Enable();
        loop.DispatchUntil(() => received.Values.Count == 1);
        Assert.Equal([1], received.Values);

        // With room, Send on the loop thread just queues.
        ping.Send();
        loop.DispatchUntil(() => received.Values.Count == 2);
        Assert.Null(outcomes[1]);
        Assert.Equal([1, 3], received.Values);
        received.AssertClean();
        onPing.AssertClean();
    }

    [Fact]
    public void TrySend_AfterTheSourceIsRemoved_IsClosed()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var (syncSender, syncMessages) = loop.BoundedChannel<int>(4);
        var observer = new ContractObserver<int>(loop);
        var syncObserver = new ContractObserver<int>(loop);
        messages.Subscribe(observer);
        syncMessages.Subscribe(syncObserver);

        messages.Remove();
        syncMessages.Remove();

        Assert.Equal(SendResult.Closed, sender.TrySend(1));
        Assert.Equal(SendResult.Closed, syncSender.TrySend(1));
        Assert.Throws<ChannelClosedException>(() => sender.Send(1));
        Assert.Throws<ChannelClosedException>(() => syncSender.Send(1));
        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);
        Assert.True(observer.Completed);
        Assert.True(syncObserver.Completed);
        observer.AssertClean();
        syncObserver.AssertClean();
    }

    [Fact]
    public void TrySend_AfterTheLoopIsDisposed_IsClosed()
    {
        var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);

        loop.Dispose();

        Assert.True(observer.Completed);
        Assert.Equal(SendResult.Closed, sender.TrySend(1));
        observer.AssertClean();
    }

    [Fact]
    public void Channel_Busy_DoesNotStarveAPing()
    {
        const int Total = 5000;
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var (ping, pings) = loop.Ping();
        int messagesBeforePing = -1;
        var channel = new ContractObserver<int>(loop);
        var pinged = new ContractObserver<Unit>(loop, _ => messagesBeforePing = channel.Values.Count);
        messages.Subscribe(channel);
        pings.Subscribe(pinged);
        for (int i = 0; i < Total; i++)
        {
            sender.Send(i);
        }

        ping.Send();
        loop.Dispatch(TimeSpan.Zero);

        // One dispatch: a batch of messages and the ping, not the whole backlog first.
        Assert.Single(pinged.Values);
        Assert.Equal(ChannelSource<int>.BatchLimit, channel.Values.Count);
        Assert.InRange(messagesBeforePing, 0, ChannelSource<int>.BatchLimit);

        loop.DispatchUntil(() => channel.Values.Count == Total);
        Assert.Equal(Enumerable.Range(0, Total), channel.Values);
        channel.AssertClean();
        pinged.AssertClean();
    }

    [Fact]
    public void BoundedSender_LastCloneDisposed_ClosesTheChannel()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.BoundedChannel<int>(4);
        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);
        BoundedSender<int> first = sender.Clone();
        BoundedSender<int> second = first.Clone();

        sender.Dispose();
        sender.Dispose(); // a second Dispose must not count as another sender leaving
        first.Dispose();
        loop.Dispatch(TimeSpan.Zero);
        Assert.False(observer.Completed);
        Assert.Equal(SendResult.Closed, sender.TrySend(8));

        Assert.Equal(SendResult.Sent, second.TrySend(9));
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([9], observer.Values);
        Assert.False(observer.Completed);

        second.Dispose();
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }
}
