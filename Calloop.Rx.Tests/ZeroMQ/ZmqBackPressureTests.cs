using System.Reactive;
using System.Threading.Channels;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// The book's outbox grows without limit while the socket is not writable. With
/// <see cref="ZmqSourceOptions.OutboxCapacity"/> it is bounded: TrySend reports Full, Send blocks.
/// A PUSH with no peer is the socket that never becomes writable until a peer appears.
/// </summary>
public class ZmqBackPressureTests
{
    private const int Capacity = 4;

    [Fact]
    public void TrySend_AtCapacity_ReportsFullUntilTheSocketTakesMessages()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, source, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = Capacity });
        Assert.Equal(Capacity, sender.Capacity);
        for (int i = 0; i < Capacity; i++)
        {
            Assert.Equal(SendResult.Sent, sender.TrySend(Frames.Int(i)));
        }

        Assert.Equal(SendResult.Full, sender.TrySend(Frames.Int(99)));
        for (int i = 0; i < 5; i++)
        {
            bed.Loop.Dispatch(TimeSpan.Zero);
        }

        // Taken into the source's outbox does not mean sent: still full.
        Assert.Equal(SendResult.Full, sender.Clone().TrySend(Frames.Int(99)));

        var pull = bed.Socket(ZmqSocketType.Pull);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));

        // An inproc connect makes the PUSH writable at once, from this thread: no ZMQ_FD edge, so say so.
        source.Update();
        var received = new List<int>();
        bed.Loop.DispatchUntil(() => Receive(pull, received) == Capacity, "the outbox once a peer appeared");
        Assert.Equal(Enumerable.Range(0, Capacity), received);
        Assert.Equal(SendResult.Sent, sender.TrySend(Frames.Int(Capacity)));
        observer.AssertClean();
    }

    [Fact]
    public void Send_WhileFull_BlocksUntilTheLoopMakesRoom()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, source, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = Capacity });
        var producer = PeerThread.Start("producer", () =>
        {
            for (int i = 0; i < 3 * Capacity; i++)
            {
                sender.Send(Frames.Int(i));
            }
        });

        // The producer fills the outbox and then waits: the loop has nowhere to send.
        bed.Loop.DispatchUntil(() => sender.TrySend(Frames.Int(-1)) == SendResult.Full, "a full outbox");
        bed.Loop.Dispatch(TimeSpan.Zero);
        Assert.False(producer.IsFinished);

        var pull = bed.Socket(ZmqSocketType.Pull);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));

        // An inproc connect makes the PUSH writable at once, from this thread: no ZMQ_FD edge, so say so.
        source.Update();
        var received = new List<int>();
        bed.Loop.DispatchUntil(() => Receive(pull, received) == 3 * Capacity && producer.IsFinished, "everything the producer sent");
        producer.Join();
        Assert.Equal(Enumerable.Range(0, 3 * Capacity), received);
        observer.AssertClean();
    }

    [Fact]
    public void Send_SourceEndsWhileBlocked_ReleasesTheSender()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, source, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = 1 });
        sender.Send(Frames.Int(0));
        Exception? thrown = null;
        var producer = PeerThread.Start("producer", () => thrown = Record.Exception(() => sender.Send(Frames.Int(1))));

        source.Remove();
        producer.Join();
        Assert.IsType<ChannelClosedException>(thrown);
        bed.Loop.DispatchUntil(() => observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Send_CancelledWhileBlocked_ThrowsAndQueuesNothing()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, _, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = 1 });
        sender.Send(Frames.Int(0));
        using var cancellation = new CancellationTokenSource();
        Exception? thrown = null;
        var producer = PeerThread.Start("producer", () => thrown = Record.Exception(() => sender.Send(Frames.Of("cancelled"), cancellation.Token)));

        cancellation.Cancel();
        producer.Join();
        Assert.IsAssignableFrom<OperationCanceledException>(thrown);
        Assert.Equal(SendResult.Full, sender.TrySend(Frames.Of("still full")));
        observer.AssertClean();
    }

    [Fact]
    public void Send_OnTheLoopThreadWhileFull_ThrowsInsteadOfDeadlocking()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, _, observer) = bed.Start(push, options: new ZmqSourceOptions { OutboxCapacity = 1 });
        sender.Send(Frames.Int(0));
        var (ping, pings) = bed.Loop.Ping();
        var pinged = new ContractObserver<Unit>(bed.Loop, _ => sender.Send(Frames.Int(1)));
        using var subscription = pings.Subscribe(pinged);

        ping.Send();
        var error = Assert.Throws<InvalidOperationException>(() => bed.Loop.DispatchUntil(() => pinged.Values.Count == 1));
        Assert.Contains("loop thread", error.Message);
        observer.AssertClean();
    }

    [Fact]
    public void TrySend_UnboundedOutbox_NeverRefuses()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, _, observer) = bed.Start(push);
        Assert.Null(sender.Capacity);
        for (int i = 0; i < 10_000; i++)
        {
            Assert.Equal(SendResult.Sent, sender.TrySend(Frames.Int(i)));
        }

        bed.Loop.Dispatch(TimeSpan.Zero);
        observer.AssertClean();
    }

    private static int Receive(ZmqSocket socket, List<int> received)
    {
        while (socket.TryReceiveMultipart(out byte[][] message))
        {
            int value = message.Int(0);
            if (value >= 0)
            {
                received.Add(value);
            }
        }

        return received.Count;
    }
}
