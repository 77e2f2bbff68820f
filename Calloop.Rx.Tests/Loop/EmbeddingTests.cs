using System.Diagnostics;
using System.Reactive.Concurrency;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// One loop driven by another through its epoll fd: the inner loop's timers, channels, fds and scheduled work are
/// delivered while only the outer loop dispatches, its deadlines are kept without spinning, and disposing either
/// loop first closes every fd. Serial because some tests count the process's open fds.
/// </summary>
[Collection("Serial")]
public class EmbeddingTests
{
    [Fact]
    public void InnerTimer_FiresOnTimeWhileOnlyTheOuterLoopDispatches_WithoutSpinning()
    {
        using var outer = new EventLoop();
        using var inner = new EventLoop();
        int innerDispatches = 0;
        using var embedding = outer.Embed(inner).Subscribe(_ => innerDispatches++);
        var started = Stopwatch.StartNew();
        TimeSpan firedAfter = TimeSpan.Zero;
        using var timer = inner.Timer(TimeSpan.FromMilliseconds(100)).Subscribe(_ => firedAfter = started.Elapsed);

        // The outer loop waits without a timeout of its own: only the inner timer's deadline can wake it. The bound,
        // far above the timer's 100 ms, only keeps a broken embedding from hanging the test.
        TimeSpan bound = TimeSpan.FromSeconds(4);
        var deadline = DateTime.UtcNow + bound;
        while (firedAfter == TimeSpan.Zero && DateTime.UtcNow < deadline)
        {
            outer.Dispatch(bound);
        }

        Assert.InRange(firedAfter, TimeSpan.FromMilliseconds(100), bound);

        // The first wake-up, maybe one early timerfd wake-up, the timer: a spinning embedding would count thousands.
        Assert.InRange(innerDispatches, 1, 10);
    }

    [Fact]
    public void InnerChannel_MessagesSentFromAnotherThread_AreDeliveredWhileOnlyTheOuterLoopDispatches()
    {
        using var outer = new EventLoop();
        using var inner = new EventLoop();
        using var embedding = outer.Embed(inner).Subscribe();
        var (sender, source) = inner.Channel<int>();
        var received = new List<int>();
        int receivedOn = 0;
        using var subscription = source.Subscribe(value =>
        {
            received.Add(value);
            receivedOn = Environment.CurrentManagedThreadId;
        });

        // Let the embedding settle into a blocking outer wait, so the sends must wake it through the inner waker.
        outer.Dispatch(TimeSpan.Zero);
        var producer = new Thread(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                sender.Send(i);
            }
        });
        producer.Start();
        outer.DispatchUntil(() => received.Count == 100, "the inner channel's messages");
        Assert.True(producer.Join(LoopExtensions.Patience));
        Assert.Equal(Enumerable.Range(0, 100), received);
        Assert.Equal(Environment.CurrentManagedThreadId, receivedOn);
    }

    [Fact]
    public void InnerFdAndScheduledWork_AreDeliveredWhileOnlyTheOuterLoopDispatches()
    {
        using var outer = new EventLoop();
        using var inner = new EventLoop();
        using var fds = FdPair.Pipe();
        using var embedding = outer.Embed(inner).Subscribe();
        bool readable = false;
        bool scheduled = false;
        using var watch = inner.Fd(fds.Second).Subscribe(_ =>
        {
            TestSys.Drain(fds.Second);
            readable = true;
        });

        fds.Poke();
        outer.DispatchUntil(() => readable, "the inner fd's readiness");
        var thread = new Thread(() => inner.Scheduler.Schedule(() => scheduled = true));
        thread.Start();
        outer.DispatchUntil(() => scheduled, "the inner loop's scheduled action");
        Assert.True(thread.Join(LoopExtensions.Patience));
    }

    [Fact]
    public void InnerObserverThatThrows_ComesOutOfTheOuterDispatch_AndTheRestIsDeliveredNextTime()
    {
        using var outer = new EventLoop();
        using var inner = new EventLoop();
        using var embedding = outer.Embed(inner).Subscribe();
        var (sender, source) = inner.Channel<int>();
        var received = new List<int>();
        using var subscription = source.Subscribe(value =>
        {
            received.Add(value);
            if (value == 1)
            {
                throw new InvalidOperationException("observer failed");
            }
        });
        sender.Send(1);
        sender.Send(2);

        var deadline = DateTime.UtcNow + LoopExtensions.Patience;
        Exception? thrown = null;
        while (thrown is null && DateTime.UtcNow < deadline)
        {
            thrown = Record.Exception(() => outer.Dispatch(TimeSpan.FromMilliseconds(50)));
        }

        Assert.Equal("observer failed", Assert.IsType<InvalidOperationException>(thrown).Message);
        Assert.Equal([1], received);
        outer.DispatchUntil(() => received.Count == 2, "the message after the one whose observer threw");
        Assert.Equal([1, 2], received);
    }

    [Fact]
    public void DisposingTheInnerLoopFirst_CompletesTheEmbedding_AndLeaksNoFd()
    {
        HashSet<int> before = TestSys.OpenFds();
        var outer = new EventLoop();
        var inner = new EventLoop();
        bool completed = false;
        using (outer.Embed(inner).Subscribe(_ => { }, () => completed = true))
        using (inner.Timer(TimeSpan.FromMilliseconds(10)).Subscribe())
        {
            outer.Dispatch(TimeSpan.Zero);
            inner.Dispose();
            outer.DispatchUntil(() => completed, "the embedding's end");

            // The inner epoll fd left the outer loop before it closed: the outer loop still works.
            bool ran = false;
            outer.Scheduler.Schedule(() => ran = true);
            outer.DispatchUntil(() => ran, "an outer action after the inner loop's disposal");
        }

        outer.Dispose();
        Assert.Empty(TestSys.FdsOpenedSince(before));
    }

    [Fact]
    public void Dispose_OuterLoopFirst_EndsTheEmbeddingKeepsTheInnerLoopAndLeaksNoFd()
    {
        HashSet<int> before = TestSys.OpenFds();
        var outer = new EventLoop();
        var inner = new EventLoop();
        bool completed = false;
        using (outer.Embed(inner).Subscribe(_ => { }, () => completed = true))
        {
            outer.Dispatch(TimeSpan.Zero);
            outer.Dispose();
            Assert.True(completed);
        }

        bool ran = false;
        inner.Scheduler.Schedule(() => ran = true);
        inner.DispatchUntil(() => ran, "an inner action after the outer loop's disposal");
        inner.Dispose();
        Assert.Empty(TestSys.FdsOpenedSince(before));
    }

    [Fact]
    public void DisposingTheInnerLoopFromItsOwnCallback_EndsTheEmbedding_AndLeaksNoFd()
    {
        HashSet<int> before = TestSys.OpenFds();
        var outer = new EventLoop();
        var inner = new EventLoop();
        bool completed = false;
        using (outer.Embed(inner).Subscribe(_ => { }, () => completed = true))
        using (inner.Timer(TimeSpan.FromMilliseconds(1)).Subscribe(_ => inner.Dispose()))
        {
            outer.DispatchUntil(() => completed, "the embedding's end");
            Assert.True(inner.IsDisposed);
        }

        outer.Dispose();
        Assert.Empty(TestSys.FdsOpenedSince(before));
    }

    [Fact]
    public void StopOnTheInnerLoop_DoesNotKeepTheOuterLoopBusy()
    {
        using var outer = new EventLoop();
        using var inner = new EventLoop();
        int innerDispatches = 0;
        using var embedding = outer.Embed(inner).Subscribe(_ => innerDispatches++);
        outer.DispatchUntil(() => innerDispatches == 1, "the first inner dispatch");
        inner.Stop();
        bool fired = false;
        using var timer = outer.Timer(TimeSpan.FromMilliseconds(50)).Subscribe(_ => fired = true);
        outer.DispatchUntil(() => fired, "an outer timer");

        // Stop wakes the inner loop once; a Stop that stayed pending would have made the fd readable at every wait.
        Assert.InRange(innerDispatches, 1, 5);
    }

    [Fact]
    public void PrepareExternalWait_ForEachState_ReportsEarliestTimerZeroOrNull()
    {
        using var inner = new EventLoop();
        Assert.Null(inner.PrepareExternalWait());
        using var timer = inner.Timer(TimeSpan.FromSeconds(30)).Subscribe();
        Assert.InRange(inner.PrepareExternalWait()!.Value, TimeSpan.FromSeconds(29), TimeSpan.FromSeconds(30));
        inner.Scheduler.Schedule(() => { });
        Assert.Equal(TimeSpan.Zero, inner.PrepareExternalWait());
    }

    [Fact]
    public void Embed_RefusesTheLoopItself_AndADisposedInnerLoop()
    {
        using var outer = new EventLoop();
        var inner = new EventLoop();
        inner.Dispose();
        Assert.Throws<ArgumentException>(() => outer.Embed(outer));
        Assert.Throws<ObjectDisposedException>(() => outer.Embed(inner));
    }
}
