using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>The thin wrapper over libzmq: options, errors, non-blocking multipart messages, closing without waits.</summary>
public class ZmqSocketTests
{
    private const int EINVAL = 22;
    private const int EADDRINUSE = 98;

    [Fact]
    public void LibraryVersion_Installed_IsLibzmq4()
    {
        Assert.Equal(4, ZmqContext.LibraryVersion.Major);
    }

    [Fact]
    public void Options_SetThenGet_RoundTrip()
    {
        using var bed = new ZmqTestBed();
        var socket = bed.Socket(ZmqSocketType.Dealer);

        socket.Linger = TimeSpan.FromMilliseconds(250);
        socket.SendHighWaterMark = 10;
        socket.ReceiveHighWaterMark = 20;
        socket.SendTimeout = TimeSpan.FromMilliseconds(30);
        socket.ReceiveTimeout = Timeout.InfiniteTimeSpan;
        socket.RoutingId = [1, 2, 3];

        Assert.Equal(ZmqSocketType.Dealer, socket.Type);
        Assert.Equal((int)ZmqSocketType.Dealer, socket.GetInt32(ZmqSocketOption.Type));
        Assert.Equal(TimeSpan.FromMilliseconds(250), socket.Linger);
        Assert.Equal(10, socket.SendHighWaterMark);
        Assert.Equal(20, socket.ReceiveHighWaterMark);
        Assert.Equal(TimeSpan.FromMilliseconds(30), socket.SendTimeout);
        Assert.Equal(Timeout.InfiniteTimeSpan, socket.ReceiveTimeout);
        Assert.Equal([1, 2, 3], socket.RoutingId);
        Assert.True(socket.Fd >= 0);
        Assert.False(socket.ReceiveMore);
    }

    [Fact]
    public void Errors_FromLibzmq_CarryErrnoAndStrerror()
    {
        using var bed = new ZmqTestBed();
        var first = bed.Socket(ZmqSocketType.Pull);
        string endpoint = bed.Bind(first, ZmqTestBed.Tcp);
        var second = bed.Socket(ZmqSocketType.Pull);

        var inUse = Assert.Throws<ZmqException>(() => second.Bind(endpoint));
        Assert.Equal(EADDRINUSE, inUse.Errno);
        Assert.Equal("Address already in use", inUse.ErrorText);
        Assert.Contains($"zmq_bind({endpoint})", inUse.Message);

        var malformed = Assert.Throws<ZmqException>(() => second.Connect("tcp://127.0.0.1:not-a-port"));
        Assert.Equal(EINVAL, malformed.Errno);

        var badOption = Assert.Throws<ZmqException>(() => second.SetOption((ZmqSocketOption)9999, 1));
        Assert.Equal(EINVAL, badOption.Errno);
    }

    [Fact]
    public void Req_SendingTwice_ReportsEfsm()
    {
        using var bed = new ZmqTestBed();
        var rep = bed.Socket(ZmqSocketType.Rep);
        var req = bed.Socket(ZmqSocketType.Req);
        req.Connect(bed.Bind(rep, ZmqTestBed.Inproc));

        Assert.True(req.TrySendMultipart(Frames.Of("one")));
        var error = Assert.Throws<ZmqException>(() => req.TrySendMultipart(Frames.Of("two")));
        Assert.Equal(ZmqException.EFSM, error.Errno);
        Assert.Equal("Operation cannot be accomplished in current state", error.ErrorText);
    }

    [Fact]
    public void NonBlockingCalls_NothingReady_ReturnFalseInsteadOfWaiting()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var pull = bed.Socket(ZmqSocketType.Pull);
        bed.Bind(pull, ZmqTestBed.Inproc);

        // A PUSH with no peer has nowhere to queue; an empty PULL has nothing to give.
        Assert.Equal(ZmqEvents.None, push.Events);
        Assert.False(push.TrySendMultipart(Frames.Of("lost?")));
        Assert.False(push.TrySend([1]));
        Assert.False(pull.TryReceiveMultipart(out byte[][] nothing));
        Assert.Empty(nothing);
        Assert.False(pull.TryReceive(out _, out _));
    }

    [Fact]
    public void Multipart_SentAndReceived_KeepsItsFrames()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var pull = bed.Socket(ZmqSocketType.Pull);
        pull.ReceiveTimeout = TimeSpan.FromSeconds(4);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        byte[] big = new byte[100_000];
        Random.Shared.NextBytes(big);

        Assert.True(push.TrySendMultipart([[1, 2], [], big]));
        Assert.True(push.TrySend("a"u8, more: true));
        Assert.True(push.TrySend("b"u8));
        push.SendMultipart("single");

        byte[][] first = pull.ReceiveMultipart();
        Assert.Equal(3, first.Length);
        Assert.Equal([1, 2], first[0]);
        Assert.Empty(first[1]);
        Assert.Equal(big, first[2]);
        Assert.Equal(["a", "b"], pull.ReceiveMultipart().Texts());
        Assert.True(pull.TryReceive(out byte[] frame, out bool more));
        Assert.Equal("single", System.Text.Encoding.UTF8.GetString(frame));
        Assert.False(more);
    }

    [Fact]
    public void Receive_FrameByFrame_ReportsMore()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var pull = bed.Socket(ZmqSocketType.Pull);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        push.SendMultipart("x", "y");

        Assert.True(pull.TryReceive(out _, out bool more));
        Assert.True(more);
        Assert.True(pull.ReceiveMore);
        Assert.True(pull.TryReceive(out _, out more));
        Assert.False(more);
    }

    [Fact]
    public void Send_EmptyOrNullMessage_IsRejected()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);

        Assert.Throws<ArgumentException>(() => push.TrySendMultipart([]));
        Assert.Throws<ArgumentException>(() => push.TrySendMultipart([null!]));
    }

    [Fact]
    public void Bind_WildcardTcpPort_ReportsTheRealPort()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);

        string endpoint = bed.Bind(pull, ZmqTestBed.Tcp);

        Assert.Matches(@"^tcp://127\.0\.0\.1:\d+$", endpoint);
        Assert.DoesNotContain(":*", endpoint);
        Assert.NotEqual("tcp://127.0.0.1:0", endpoint);
    }

    [Fact]
    public void Receive_TimeoutExpires_ReportsEagain()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        pull.ReceiveTimeout = TimeSpan.FromMilliseconds(5);

        var error = Assert.Throws<ZmqException>(() => pull.ReceiveMultipart());
        Assert.Equal(ZmqException.EAGAIN, error.Errno);
    }

    [Fact]
    public void Close_PushWithUndeliveredMessages_DoesNotWait()
    {
        // The classic hang: a PUSH connected to nobody, holding messages; zmq_ctx_term would wait for ever with the
        // default linger. Closing sets linger 0, so the context terminates at once.
        var context = new ZmqContext();
        var push = new ZmqSocket(context, ZmqSocketType.Push);
        push.Linger = Timeout.InfiniteTimeSpan;
        push.Connect("tcp://127.0.0.1:1");
        Assert.True(push.TrySendMultipart(Frames.Of("never delivered")));

        var closing = PeerThread.Start("closing", () =>
        {
            push.Dispose();
            context.Dispose();
        });

        closing.Join();
        Assert.True(push.IsClosed);
        Assert.True(context.IsClosed);
    }

    [Fact]
    public void Context_DisposedBeforeItsSockets_TerminatesAfterTheLastOne()
    {
        var context = new ZmqContext();
        var socket = new ZmqSocket(context, ZmqSocketType.Pull);

        context.Dispose();

        // The socket's reference keeps the native context alive: the socket still works.
        socket.Bind("inproc://still-alive");
        Assert.Equal(ZmqEvents.None, socket.Events);
        var closing = PeerThread.Start("closing", socket.Dispose);
        closing.Join();
        Assert.Throws<ObjectDisposedException>(() => new ZmqSocket(context, ZmqSocketType.Pull));
    }

    [Fact]
    public void Close_WithLinger_DeliversWhatLibzmqAccepted()
    {
        var context = new ZmqContext();
        var receiverContext = new ZmqContext();
        var pull = new ZmqSocket(receiverContext, ZmqSocketType.Pull);
        pull.ReceiveTimeout = TimeSpan.FromSeconds(4);
        pull.Bind("tcp://127.0.0.1:*");
        var push = new ZmqSocket(context, ZmqSocketType.Push);
        push.Connect(pull.LastEndpoint);
        push.SendTimeout = TimeSpan.FromSeconds(4);
        push.SendMultipart("last words");

        push.Close(TimeSpan.FromSeconds(4));
        var closing = PeerThread.Start("closing", context.Dispose);

        Assert.Equal("last words", pull.ReceiveMultipart().Text());
        closing.Join();
        pull.Dispose();
        receiverContext.Dispose();
    }

    [Fact]
    public void Context_Shutdown_MakesCallsFailWithEterm()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);

        bed.Context.Shutdown();

        var error = Assert.Throws<ZmqException>(() => pull.ReceiveMultipart());
        Assert.Equal(ZmqException.ETERM, error.Errno);
    }
}
