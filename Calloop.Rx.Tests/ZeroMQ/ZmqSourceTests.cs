using System.Reactive.Linq;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// The composed source's own behaviour: the edge-trigger subtleties of the book's chapter (messages already
/// there at registration, the outbox while not writable), and the loop-source contract (sharing, Disable, Remove,
/// observer exceptions, failures, loop disposal).
/// </summary>
public class ZmqSourceTests
{
    [Fact]
    public void Receive_MessagesArrivedBeforeSubscribe_AreReceived()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        for (int i = 0; i < 3; i++)
        {
            Assert.True(push.TrySendMultipart([Frames.Int(i)]));
        }

        // Reading ZMQ_EVENTS consumes the pending commands, so ZMQ_FD has no edge left to report: only the ping
        // the source sends itself on registration can find these messages.
        Assert.Equal(ZmqEvents.In, pull.Events);
        var (_, source, observer) = bed.Start(pull);

        bed.Loop.DispatchUntil(() => observer.Values.Count == 3, "the three waiting messages");
        Assert.Equal([0, 1, 2], observer.Values.Select(m => m.Int(0)));
        Assert.True(source.IsActive);
        observer.AssertClean();
    }

    [Fact]
    public void Outbox_MessagesQueuedBeforeSubscribe_AreSentOnceSubscribed()
    {
        // A socket that can receive (a send-only one registers at creation: ZmqSendOnlyTests).
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Dealer);
        var push = bed.Socket(ZmqSocketType.Dealer);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        var (sender, source) = ZmqSource.Create(bed.Loop, push);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(SendResult.Sent, sender.TrySend(Frames.Int(i)));
        }

        // Not registered yet: nothing goes out.
        bed.Loop.Dispatch(TimeSpan.Zero);
        Assert.False(pull.TryReceiveMultipart(out _));

        var observer = new ContractObserver<byte[][]>(bed.Loop);
        using var subscription = source.Subscribe(observer);
        var received = new List<int>();
        bed.Loop.DispatchUntil(() => Receive(pull, received) == 3, "the three queued messages");
        Assert.Equal([0, 1, 2], received);
        Assert.Empty(observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void Outbox_SocketNotWritable_WaitsWithoutBlockingTheLoop()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, _, observer) = bed.Start(push);
        for (int i = 0; i < 10; i++)
        {
            sender.Send(Frames.Int(i));
        }

        // A PUSH with no peer is not writable: the loop keeps the messages and goes on running other sources.
        var ticks = new ContractObserver<DateTimeOffset>(bed.Loop);
        using var timer = bed.Loop.Timer(TimeSpan.FromMilliseconds(1)).Subscribe(ticks);
        bed.Loop.DispatchUntil(() => ticks.Completed, "a timer while the outbox is stuck");

        var pull = bed.Socket(ZmqSocketType.Pull);
        string endpoint = bed.Bind(pull, ZmqTestBed.Ipc);
        push.Connect(endpoint);
        var received = new List<int>();
        bed.Loop.DispatchUntil(() => Receive(pull, received) == 10, "the outbox once a peer appeared");
        Assert.Equal(Enumerable.Range(0, 10), received);
        observer.AssertClean();
        ticks.AssertClean();
    }

    [Fact]
    public void Update_AfterConfiguringTheSocket_LooksAtItAgain()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, source, observer) = bed.Start(push);
        sender.Send(Frames.Int(7));
        bed.Loop.Dispatch(TimeSpan.Zero);

        // Connecting over inproc attaches the pipe on this thread: the PUSH is writable, but ZMQ_FD has no edge.
        var pull = bed.Socket(ZmqSocketType.Pull);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        Assert.Equal(ZmqEvents.Out, push.Events);
        source.Update();

        var received = new List<int>();
        bed.Loop.DispatchUntil(() => Receive(pull, received) == 1, "the message after Update");
        Assert.Equal([7], received);
        observer.AssertClean();
    }

    [Fact]
    public void Subscribe_SeveralSubscribers_EachReceiveEveryMessage()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        var (_, source, first) = bed.Start(pull);
        var second = new ContractObserver<byte[][]>(bed.Loop);
        using var subscription = source.Subscribe(second);

        for (int i = 0; i < 5; i++)
        {
            push.SendMultipart([Frames.Int(i)]);
        }

        bed.Loop.DispatchUntil(() => first.Values.Count == 5 && second.Values.Count == 5, "both subscribers");
        Assert.Equal(first.Values, second.Values);
        first.AssertClean();
        second.AssertClean();
    }

    [Fact]
    public void DisableEnable_PauseAndResume_LoseNothing()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        var (_, source, observer) = bed.Start(pull);
        push.SendMultipart([Frames.Int(0)]);
        bed.Loop.DispatchUntil(() => observer.Values.Count == 1);

        source.Disable();
        push.SendMultipart([Frames.Int(1)]);
        push.SendMultipart([Frames.Int(2)]);
        for (int i = 0; i < 5; i++)
        {
            bed.Loop.Dispatch(TimeSpan.Zero);
        }

        Assert.Single(observer.Values);
        source.Enable();
        bed.Loop.DispatchUntil(() => observer.Values.Count == 3, "messages that arrived while disabled");
        Assert.Equal([0, 1, 2], observer.Values.Select(m => m.Int(0)));
        observer.AssertClean();
    }

    [Fact]
    public void Subscribe_AfterNobodyListened_GetsWhatArrivedMeanwhile()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        var (_, source) = ZmqSource.Create(bed.Loop, pull);
        var first = new ContractObserver<byte[][]>(bed.Loop);
        var subscription = source.Subscribe(first);
        push.SendMultipart([Frames.Int(0)]);
        bed.Loop.DispatchUntil(() => first.Values.Count == 1);

        subscription.Dispose();
        Assert.False(source.IsActive);
        push.SendMultipart([Frames.Int(1)]);
        bed.Loop.Dispatch(TimeSpan.Zero);

        var second = new ContractObserver<byte[][]>(bed.Loop);
        using var again = source.Subscribe(second);
        bed.Loop.DispatchUntil(() => second.Values.Count == 1, "the message that arrived in between");
        Assert.Equal(1, second.Values[0].Int(0));
        Assert.Single(first.Values);
        first.AssertClean();
        second.AssertClean();
    }

    [Fact]
    public void ObserverException_LeavesDispatch_TheRestFollows()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        var (_, source, thrower) = bed.Start(pull, message =>
        {
            if (message.Int(0) == 1)
            {
                throw new InvalidOperationException("boom");
            }
        });
        var other = new ContractObserver<byte[][]>(bed.Loop);
        using var subscription = source.Subscribe(other);
        for (int i = 0; i < 5; i++)
        {
            push.SendMultipart([Frames.Int(i)]);
        }

        var error = Assert.Throws<InvalidOperationException>(() => bed.Loop.DispatchUntil(() => thrower.Values.Count == 5));
        Assert.Equal("boom", error.Message);

        // Message 1 reached both subscribers, nothing after it was received yet; the next dispatches carry on.
        Assert.Equal([0, 1], other.Values.Select(m => m.Int(0)));
        bed.Loop.DispatchUntil(() => other.Values.Count == 5, "the rest after the exception");
        Assert.Equal([0, 1, 2, 3, 4], thrower.Values.Select(m => m.Int(0)));
        Assert.Equal([0, 1, 2, 3, 4], other.Values.Select(m => m.Int(0)));
        Assert.True(source.IsActive);
    }

    [Fact]
    public void Remove_Called_CompletesAndClosesTheSendersAndTheSocket()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        bed.Bind(pull, ZmqTestBed.Inproc);
        var (sender, source, observer) = bed.Start(pull);
        var clone = sender.Clone();
        bed.Loop.Dispatch(TimeSpan.Zero);

        source.Remove();
        bed.Loop.DispatchUntil(() => observer.Completed, "OnCompleted after Remove");

        Assert.True(source.IsTerminated);
        Assert.True(pull.IsClosed);
        Assert.Equal(SendResult.Closed, sender.TrySend(Frames.Of("late")));
        Assert.Equal(SendResult.Closed, clone.TrySend(Frames.Of("late")));
        Assert.Throws<System.Threading.Channels.ChannelClosedException>(() => sender.Send(Frames.Of("late")));

        // A later subscriber gets the same end, on the loop thread.
        var late = new ContractObserver<byte[][]>(bed.Loop);
        source.Subscribe(late);
        bed.Loop.DispatchUntil(() => late.Completed, "OnCompleted for a late subscriber");
        observer.AssertClean();
        late.AssertClean();
    }

    [Fact]
    public void Remove_InsideADelivery_StopsReceivingAtOnce()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        ZmqSource? source = null;
        var (_, created, observer) = bed.Start(pull, message =>
        {
            if (message.Int(0) == 1)
            {
                source!.Remove();
            }
        });
        source = created;
        for (int i = 0; i < 5; i++)
        {
            push.SendMultipart([Frames.Int(i)]);
        }

        bed.Loop.DispatchUntil(() => observer.Completed, "OnCompleted after Remove");
        Assert.Equal([0, 1], observer.Values.Select(m => m.Int(0)));
        observer.AssertClean();
    }

    [Fact]
    public void LeaveSocketOpen_OnRemove_HandsTheSocketBack()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        var (_, source, observer) = bed.Start(pull, options: new ZmqSourceOptions { LeaveSocketOpen = true });
        source.Remove();
        bed.Loop.DispatchUntil(() => observer.Completed);

        push.SendMultipart("after");
        pull.ReceiveTimeout = TimeSpan.FromSeconds(4);
        Assert.False(pull.IsClosed);
        Assert.Equal("after", pull.ReceiveMultipart().Text());
        observer.AssertClean();
    }

    [Fact]
    public void LoopDispose_WithALiveSource_CompletesItAndClosesTheSocket()
    {
        var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect("tcp://127.0.0.1:1");
        var (sender, source, observer) = bed.Start(push);
        sender.Send(Frames.Of("pending"));
        bed.Loop.Dispatch(TimeSpan.Zero);

        bed.Loop.Dispose();

        Assert.True(observer.Completed);
        Assert.True(source.IsTerminated);
        Assert.True(push.IsClosed);
        Assert.Equal(SendResult.Closed, sender.TrySend(Frames.Of("late")));
        Assert.Throws<ObjectDisposedException>(() => source.Subscribe(new ContractObserver<byte[][]>(bed.Loop)));
        bed.Dispose();
        observer.AssertClean();
    }

    [Fact]
    public void LibzmqFailure_WhileReceiving_EndsTheSourceWithOnError()
    {
        using var bed = new ZmqTestBed();
        var dealer = bed.Socket(ZmqSocketType.Dealer);
        var (sender, source, observer) = bed.Start(dealer);
        bed.Loop.Dispatch(TimeSpan.Zero);

        // After zmq_ctx_shutdown every call but close fails with ETERM; the next drain (woken by this send) hits it.
        bed.Context.Shutdown();
        sender.Send(Frames.Of("wake up"));
        bed.Loop.DispatchUntil(() => observer.Error is not null, "OnError");

        var error = Assert.IsType<ZmqException>(observer.Error);
        Assert.Equal(ZmqException.ETERM, error.Errno);
        Assert.True(source.IsTerminated);
        Assert.Equal(SendResult.Closed, sender.TrySend(Frames.Of("late")));
        observer.AssertClean();
    }

    [Fact]
    public void RxOperators_OverTheSource_Compose()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        var (_, source) = ZmqSource.Create(bed.Loop, pull);
        var sums = new ContractObserver<int>(bed.Loop);
        using var subscription = source
            .Select(message => message.Int(0))
            .Where(n => n % 2 == 0)
            .Buffer(3)
            .Select(batch => batch.Sum())
            .Take(2)
            .Subscribe(sums);

        for (int i = 0; i < 20; i++)
        {
            push.SendMultipart([Frames.Int(i)]);
        }

        bed.Loop.DispatchUntil(() => sums.Completed);
        Assert.Equal([0 + 2 + 4, 6 + 8 + 10], sums.Values);
        sums.AssertClean();
    }

    [Fact]
    public void Create_BadArguments_AreRejected()
    {
        using var bed = new ZmqTestBed();
        var socket = bed.Socket(ZmqSocketType.Pull);

        Assert.Throws<ArgumentOutOfRangeException>(() => ZmqSource.Create(bed.Loop, socket, new ZmqSourceOptions { BatchLimit = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ZmqSource.Create(bed.Loop, socket, new ZmqSourceOptions { OutboxCapacity = 0 }));
        socket.Dispose();
        Assert.Throws<ObjectDisposedException>(() => ZmqSource.Create(bed.Loop, socket));
    }

    /// <summary>Takes what the peer socket has (non-blocking) and returns how many ints were received so far.</summary>
    private static int Receive(ZmqSocket socket, List<int> received)
    {
        while (socket.TryReceiveMultipart(out byte[][] message))
        {
            received.Add(message.Int(0));
        }

        return received.Count;
    }
}
