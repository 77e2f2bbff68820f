using System.Net.Sockets;
using System.Reactive;
using System.Reactive.Concurrency;
using System.Runtime.InteropServices;
using Calloop.Rx.Testing;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// Misuse gives a clear exception and leaves the loop working: each test ends by delivering a ping. Serial because
/// the closed-fd tests use fd numbers that a parallel test could otherwise reuse.
/// </summary>
[Collection("Serial")]
public class BadInputTests
{
    private const int EBADF = 9;
    private const int EEXIST = 17;

    [Fact]
    public void Fd_Closed_ThrowsLoopException()
    {
        using var loop = new EventLoop();
        var (read, write) = TestSys.Pipe();
        TestSys.Close(read);
        TestSys.Close(write);

        var error = Assert.Throws<LoopException>(() => loop.Fd(read));

        Assert.Equal(EBADF, error.Errno);
        Assert.Equal(read, error.Fd);
        Assert.Contains($"fd {read}", error.Message);
        Assert.Contains(error.ErrorText, error.Message);
        Assert.False(string.IsNullOrWhiteSpace(error.ErrorText));
        AssertUsable(loop);
    }

    [Fact]
    public void Fd_ClosedBeforeSubscribe_SubscribeThrowsLoopException()
    {
        using var loop = new EventLoop();
        var (read, write) = TestSys.Pipe();
        FdSource source = loop.Fd(read);
        TestSys.Close(read);
        TestSys.Close(write);

        var error = source.AssertRefused();

        Assert.Equal(EBADF, error.Errno);
        Assert.Equal(read, error.Fd);
        Assert.Contains($"fd {read}", error.Message);
        Assert.False(source.IsActive);
        Assert.False(source.IsTerminated);
        AssertUsable(loop);
    }

    [Fact]
    public void Fd_DisposedHandle_ThrowsObjectDisposedException()
    {
        using var loop = new EventLoop();
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        SafeHandle handle = socket.SafeHandle;
        socket.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loop.Fd(handle));
        Assert.Throws<ObjectDisposedException>(() => loop.Fd(socket));
        AssertUsable(loop);
    }

    [Fact]
    public void Fd_SameFdTwice_SecondSubscribeThrowsEexist()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            var first = new ContractObserver<Readiness>(loop, _ => TestSys.Drain(b));
            using var firstSubscription = loop.Fd(b).Subscribe(first);
            FdSource second = loop.Fd(b);

            var error = second.AssertRefused();

            Assert.Equal(EEXIST, error.Errno);
            Assert.Equal(b, error.Fd);
            Assert.Contains($"fd {b}", error.Message);
            Assert.False(second.IsActive);

            // The first registration is untouched.
            TestSys.Write(a, "x"u8);
            loop.DispatchUntil(() => first.Values.Count > 0);
            first.AssertClean();
            AssertUsable(loop);
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void NegativeTimesAndSizes_ThrowArgumentOutOfRange()
    {
        using var loop = new EventLoop();
        TimeSpan negative = TimeSpan.FromTicks(-1);
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Dispatch(negative));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Run(negative));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Timer(negative));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Timer(negative, _ => TimeoutAction.Drop));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeoutAction.ToDuration(negative));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Fd(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.BoundedChannel<int>(0));
        AssertUsable(loop);
    }

    [Fact]
    public void AfterDispose_EverythingThrowsObjectDisposed()
    {
        var loop = new EventLoop();
        var (_, pings) = loop.Ping();
        TimerSource timer = loop.Timer(TimeSpan.FromSeconds(1));
        var (_, messages) = loop.Channel<int>();
        loop.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pings.Subscribe(_ => { }));
        Assert.Throws<ObjectDisposedException>(() => timer.Subscribe(_ => { }));
        Assert.Throws<ObjectDisposedException>(() => messages.Subscribe(_ => { }));
        Assert.Throws<ObjectDisposedException>(() => loop.Scheduler.Schedule(() => { }));
        Assert.Throws<ObjectDisposedException>(() => loop.Scheduler.Schedule(TimeSpan.FromSeconds(1), () => { }));
        Assert.Throws<ObjectDisposedException>(() => loop.InsertIdle(() => { }));
        Assert.Throws<ObjectDisposedException>(() => loop.Dispatch(TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => loop.Dispatch(null));
        Assert.Throws<ObjectDisposedException>(() => loop.Ping());
        Assert.Throws<ObjectDisposedException>(() => loop.Timer(TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => loop.Channel<int>());
    }

    [Fact]
    public void Dispatch_ReenteredFromACallback_Throws()
    {
        using var loop = new EventLoop();
        loop.Scheduler.Schedule(() => loop.Dispatch(TimeSpan.Zero));

        // The callback's exception propagates, so the refusal comes out of the outer Dispatch.
        var fromAction = Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));
        Assert.Contains("re-entered", fromAction.Message);

        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop, _ => loop.Dispatch(null));
        using (pings.Subscribe(observer))
        {
            ping.Send();
            var fromObserver = Assert.Throws<InvalidOperationException>(() => loop.DispatchUntil(() => observer.Values.Count > 0));
            Assert.Contains("re-entered", fromObserver.Message);
        }

        observer.AssertClean();
        AssertUsable(loop);
    }

    [Fact]
    public void Dispatch_FromTwoThreadsAtOnce_TheSecondThrows()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        using (var blocked = BlockedDispatch.Start(loop))
        {
            var error = Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));
            Assert.Contains($"thread {blocked.ThreadId}", error.Message);
            Assert.Throws<InvalidOperationException>(() => loop.AdvanceBy(TimeSpan.FromSeconds(1)));

            loop.WakeUp();
            blocked.AssertReturns();
            Assert.Null(blocked.Error);
        }

        AssertUsable(loop);
    }

    [Fact]
    public void NullArguments_ThrowArgumentNull()
    {
        using var loop = new EventLoop();
        Assert.Throws<ArgumentNullException>(() => new EventLoop(null!));
        Assert.Throws<ArgumentNullException>(() => loop.InsertIdle(null!));
        Assert.Throws<ArgumentNullException>(() => loop.Fd((SafeHandle)null!));
        Assert.Throws<ArgumentNullException>(() => loop.Fd((Socket)null!));
        Assert.Throws<ArgumentNullException>(() => loop.Signals(null!));
        Assert.Throws<ArgumentNullException>(() => loop.Insert<int>(null!));
        var (_, pings) = loop.Ping();
        Assert.Throws<ArgumentNullException>(() => pings.Subscribe(null!));
        Assert.Throws<ArgumentNullException>(() => new LoopTestScheduler(null!));
        using (var scheduler = new LoopTestScheduler())
        {
            Assert.Throws<ArgumentNullException>(() => ((IObservable<int>)null!).Record(scheduler));
            Assert.Throws<ArgumentNullException>(() => pings.Record(null!));
        }

        AssertUsable(loop);
    }

    [Fact]
    public void InvalidSignals_ThrowArgumentOutOfRange()
    {
        using var loop = new EventLoop();
        foreach (int number in new[] { 9, 19, 11, 0, 200, -1000 })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => loop.Signals((PosixSignal)number));
            Assert.Equal("signal", error.ParamName);
        }

        SignalSource signals = loop.Signals();
        Assert.Throws<ArgumentOutOfRangeException>(() => signals.AddSignal((PosixSignal)9));
        Assert.Empty(signals.SignalNumbers);
        AssertUsable(loop);
    }

    /// <summary>The loop still works: a ping sent now is delivered.</summary>
    private static void AssertUsable(EventLoop loop)
    {
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        using (pings.Subscribe(observer))
        {
            Assert.Equal(SendResult.Sent, ping.Send());
            loop.DispatchUntil(() => observer.Values.Count == 1, "a ping after the bad input");
        }

        ping.Dispose();
        observer.AssertClean();
    }
}
