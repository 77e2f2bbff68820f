using System.Reactive;
using System.Reactive.Linq;
using System.Net.Sockets;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;
using Microsoft.Win32.SafeHandles;

namespace Calloop.Rx.Tests.Sources;

/// <summary>
/// The counterparts of calloop's <c>src/sources/generic.rs</c> tests, then the fd cases calloop does not cover: Edge
/// and OneShot modes in a running loop, empty interest, error and hang-up readiness, a SafeHandle kept alive while
/// registered, and the kernel's refusals (EBADF, EEXIST) as <see cref="LoopException"/>.
/// <c>docs/calloop-test-map.md</c> names the calloop test behind each one.
/// </summary>
public class FdSourceTests
{
    [Fact]
    public void Fd_SocketWritten_ReportsReadable()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        byte[]? received = null;
        var observer = new ContractObserver<Readiness>(loop, _ => received = TestSys.Drain(pair.Second));
        loop.Fd(pair.Second, Interest.Read, TriggerMode.Level).Subscribe(observer);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);

        TestSys.Write(pair.First, [1, 2, 3, 4, 5, 6]);
        loop.Dispatch(TimeSpan.Zero);

        Readiness readiness = Assert.Single(observer.Values);
        Assert.True(readiness.Readable);
        Assert.False(readiness.Writable);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, received);
        observer.AssertClean();
    }

    [Fact]
    public void Fd_LastSubscriberLeavesAndReturns_UnregistersAndRegistersAgain()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        FdSource source = loop.Fd(pair.Second, Interest.Read, TriggerMode.Level);
        var first = new ContractObserver<Readiness>(loop);
        IDisposable subscription = source.Subscribe(first);

        // The last subscriber leaving unregisters: the data written afterwards reaches nobody.
        subscription.Dispose();
        Assert.False(source.IsActive);
        TestSys.Write(pair.First, [1, 2, 3, 4, 5, 6]);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(first.Values);

        // calloop takes the Generic back with into_source_inner and inserts it again with a new callback; here the
        // same source is subscribed again, and the bytes that were waiting in the kernel are delivered.
        byte[]? received = null;
        var second = new ContractObserver<Readiness>(loop, _ => received = TestSys.Drain(pair.Second));
        source.Subscribe(second);
        loop.Dispatch(TimeSpan.Zero);

        Assert.Single(second.Values);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, received);
        first.AssertClean();
        second.AssertClean();
    }

    [Fact]
    public void Fd_SameFdTwice_SecondIsRefusedWithEexist()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        FdSource first = loop.Fd(pair.Second);
        var observer = new ContractObserver<Readiness>(loop, _ => TestSys.Drain(pair.Second));
        first.Subscribe(observer);

        FdSource duplicate = loop.Fd(pair.Second);
        var error = duplicate.AssertRefused();

        Assert.Equal(TestSys.EEXIST, error.Errno);
        Assert.Equal(pair.Second, error.Fd);
        Assert.False(duplicate.IsActive);

        // The first registration is untouched: it can be updated and still delivers.
        first.Update();
        pair.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void Fd_EdgeMode_ReportsEachTransitionOnce()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        var observer = new ContractObserver<Readiness>(loop);
        loop.Fd(pair.Second, Interest.Read, TriggerMode.Edge).Subscribe(observer);

        pair.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        // Still readable (not drained), but no new transition: Edge stays quiet where Level would repeat.
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        // New data is a new transition.
        pair.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);

        // After a full drain the next byte is reported once again.
        Assert.Equal(2, TestSys.Drain(pair.Second).Length);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);
        pair.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(3, observer.Values.Count);
        observer.AssertClean();
    }

    [Fact]
    public void Fd_OneShotMode_ReportsOnceUntilUpdate()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        FdSource source = loop.Fd(pair.Second, Interest.Read, TriggerMode.OneShot);
        var observer = new ContractObserver<Readiness>(loop);
        source.Subscribe(observer);

        pair.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        // Disarmed after one event, even though the fd is still readable and more data arrives.
        pair.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        source.Update();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);
        Assert.True(source.IsActive);
        observer.AssertClean();
    }

    [Fact]
    public void Fd_OneShotModeUpdatedFromItsOwnCallback_Rearms()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        FdSource source = loop.Fd(pair.Second, Interest.Read, TriggerMode.OneShot);
        var observer = new ContractObserver<Readiness>(loop, _ =>
        {
            TestSys.Drain(pair.Second);
            source.Update();
        });
        source.Subscribe(observer);

        for (int i = 1; i <= 3; i++)
        {
            pair.Poke();
            loop.Dispatch(TimeSpan.Zero);
            Assert.Equal(i, observer.Values.Count);
        }

        observer.AssertClean();
    }

    [Fact]
    public void Fd_InterestNone_RegistersAndStillReportsHangUp()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        FdSource source = loop.Fd(pair.Second, Interest.None);
        var observer = new ContractObserver<Readiness>(loop, _ => source.Remove());
        source.Subscribe(observer);

        pair.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);

        // The kernel always reports hang-up and error, whatever the interest.
        pair.CloseFirst();
        loop.Dispatch(TimeSpan.Zero);
        Readiness readiness = Assert.Single(observer.Values);
        Assert.True(readiness.HangUp);
        Assert.False(readiness.Readable);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Fd_PeerClosed_ReportsHangUpAsDataNotOnError()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        FdSource source = loop.Fd(pair.Second, Interest.Read);
        var observer = new ContractObserver<Readiness>(loop, readiness =>
        {
            if (readiness.HangUp)
            {
                source.Disable();
            }
        });
        source.Subscribe(observer);

        pair.CloseFirst();
        loop.Dispatch(TimeSpan.Zero);

        Readiness seen = Assert.Single(observer.Values);
        Assert.True(seen.HangUp);
        Assert.True(seen.Readable); // end of file is readable: a read returns 0
        Assert.Equal(0, TestSys.Read(pair.Second, new byte[1]));
        Assert.Null(observer.Error);
        Assert.False(source.IsTerminated);
        observer.AssertClean();
    }

    [Fact]
    public void Fd_BrokenPipe_ReportsErrorAsDataNotOnError()
    {
        using var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        FdSource source = loop.Fd(pipe.First, Interest.Write);
        var observer = new ContractObserver<Readiness>(loop, readiness =>
        {
            if (readiness.Error)
            {
                source.Remove();
            }
        });
        source.Subscribe(observer);

        loop.Dispatch(TimeSpan.Zero);
        Assert.True(Assert.Single(observer.Values).Writable);

        // No reader left: EPOLLERR on the write end.
        pipe.CloseSecond();
        loop.Dispatch(TimeSpan.Zero);

        Assert.True(observer.Values[^1].Error);
        Assert.True(observer.Completed);
        Assert.Null(observer.Error);
        observer.AssertClean();
    }

    [Fact]
    public void Fd_SafeHandleDisposedWhileRegistered_ClosesAtOnceAndStopsReporting()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        int fd = pair.ReleaseSecond();
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var observer = new ContractObserver<Readiness>(loop, _ => TestSys.Drain(fd));
        IDisposable subscription = loop.Fd(handle).Subscribe(observer);
        pair.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        // The owner disposes its handle while the source is registered: the loop holds no lasting reference, so the fd
        // closes now (the peer sees end of file), the kernel drops it from epoll, and nothing more is reported.
        handle.Dispose();
        Assert.True(handle.IsClosed);
        Assert.Equal(0, TestSys.Read(pair.First, new byte[1]));
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        // Unregistering afterwards is harmless: no epoll_ctl on a number that may belong to someone else by now.
        subscription.Dispose();
        observer.AssertClean();
    }

    [Fact]
    public void Fd_Socket_ReportsReadiness()
    {
        // Declared before the loop so that, should an assertion fail, the loop (and its reference) goes first.
        using var pair = FdPair.SocketPair();
        using var socket = new Socket(new SafeSocketHandle(pair.ReleaseSecond(), ownsHandle: true)) { Blocking = false };
        using var loop = new EventLoop();
        var received = new List<byte>();
        var buffer = new byte[16];
        var observer = new ContractObserver<Readiness>(loop, _ => received.AddRange(buffer.AsSpan(0, socket.Receive(buffer)).ToArray()));
        IDisposable subscription = loop.Fd(socket).Subscribe(observer);

        TestSys.Write(pair.First, [7, 8, 9]);
        loop.Dispatch(TimeSpan.Zero);

        Assert.Single(observer.Values);
        Assert.Equal(new byte[] { 7, 8, 9 }, received);

        subscription.Dispose();
        observer.AssertClean();
    }

    [Fact]
    public void Fd_SocketDisposedInsideItsOwnCallback_IsReleasedCleanly()
    {
        // An echo server's usual move on hang-up. The loop holds no lasting reference on the socket's handle, so the
        // dispose returns at once; the kernel drops the closed fd from epoll, and unsubscribing later is harmless.
        using var pair = FdPair.SocketPair();
        var socket = new Socket(new SafeSocketHandle(pair.ReleaseSecond(), ownsHandle: true)) { Blocking = false };
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var pinged = new ContractObserver<Unit>(loop);
        pings.Subscribe(pinged);
        var observer = new ContractObserver<Readiness>(loop, readiness =>
        {
            if (readiness.HangUp)
            {
                socket.Dispose();
            }
        });
        IDisposable subscription = loop.Fd(socket).Subscribe(observer);

        pair.CloseFirst();
        loop.DispatchUntil(() => observer.Values.Count > 0, "the hang-up");
        Assert.True(observer.Values[0].HangUp);

        // No report for the closed fd any more, and the loop goes on.
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);
        Assert.Single(pinged.Values);
        subscription.Dispose();
        observer.AssertClean();
    }

    [Fact]
    public void Fd_InvalidFd_FailsWithEbadf()
    {
        using var loop = new EventLoop();
        const int NotOpen = (1 << 30) + 7; // above any fd limit, so it cannot be some other test's fd

        var error = Assert.Throws<LoopException>(() => loop.Fd(NotOpen));

        Assert.Equal(TestSys.EBADF, error.Errno);
        Assert.Equal(NotOpen, error.Fd);
        Assert.Contains(NotOpen.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
        Assert.False(string.IsNullOrEmpty(error.ErrorText));
    }

    [Fact]
    public void Fd_ClosedSafeHandle_IsRejected()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        var handle = new SafeFileHandle(pair.ReleaseSecond(), ownsHandle: true);
        FdSource source = loop.Fd(handle);

        // Closed between creating the source and subscribing: the registration is refused with EBADF.
        handle.Dispose();
        var error = source.AssertRefused();
        Assert.Equal(TestSys.EBADF, error.Errno);
        Assert.False(source.IsActive);

        // Already closed when given to the loop.
        Assert.Throws<ObjectDisposedException>(() => loop.Fd(handle));
    }

    [Fact]
    public void Fd_SameFdTwice_FailsWithEexistAndTheFirstKeepsWorking()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        var first = new ContractObserver<Readiness>(loop, _ => TestSys.Drain(pair.Second));
        loop.Fd(pair.Second).Subscribe(first);

        // Also when the second registration asks for something else.
        var error = loop.Fd(pair.Second, Interest.Write, TriggerMode.Edge).AssertRefused();
        Assert.Equal(TestSys.EEXIST, error.Errno);

        pair.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Readiness readiness = Assert.Single(first.Values);
        Assert.True(readiness.Readable);
        first.AssertClean();
    }

    [Fact]
    public void Fd_StaleSubscriptionDisposed_LeavesTheNewSourceOfItsFdNumber()
    {
        using var loop = new EventLoop();
        using var old = FdPair.Pipe();
        using var fresh = FdPair.Pipe();
        int number = old.Second;
        IDisposable stale = loop.Fd(number).Subscribe(_ => { });

        // The old pipe's read end is closed (the kernel drops its registration) and its number now names the new pipe.
        TestSys.DupOnto(fresh.Second, number);
        var events = new ContractObserver<Readiness>(loop);
        using IDisposable current = loop.Fd(number).Subscribe(events);
        stale.Dispose();
        TestSys.Write(fresh.First, [1]);

        loop.DispatchUntil(() => events.Values.Count > 0, "the new source's event");
        Assert.True(events.Values[0].Readable);
        events.AssertClean();
    }

    [Fact]
    public void Fd_RefusedRegistration_ReachesRxCatchOnTheLoopThread()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        using IDisposable first = loop.Fd(pair.Second).Subscribe(_ => { });
        var handled = new ContractObserver<string>(loop);

        using IDisposable subscription = loop.Fd(pair.Second)
            .Select(_ => "event")
            .Catch((LoopException e) => Observable.Return($"errno {e.Errno}"))
            .Subscribe(handled);
        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal([$"errno {TestSys.EEXIST}"], handled.Values);
        Assert.True(handled.Completed);
        handled.AssertClean();
    }

    [Fact]
    public void Fd_RegularFile_IsRefusedInWords()
    {
        using var loop = new EventLoop();
        string path = Path.GetTempFileName();
        try
        {
            using SafeFileHandle file = File.OpenHandle(path);
            int fd = (int)file.DangerousGetHandle();

            LoopException error = loop.Fd(file).AssertRefused();

            Assert.StartsWith($"fd {fd} cannot be polled (regular files", error.Message);
            Assert.Contains("epoll_ctl(ADD)", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
