using System.Reactive;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// Loop disposal keeps its promises whatever else happens: a dispatch on another thread, a custom source whose
/// unregistration throws, completions still queued. Every subscriber completes, every loop fd is closed, and the
/// observers that learn of the end see the fds closed already.
/// </summary>
public class TeardownTests
{
    [Fact]
    public void Dispose_RacingADispatchOnAnotherThread_NeverSkipsTeardown()
    {
        // Dispose on this thread while another loops on Dispatch(Zero): whoever holds the dispatch role last must
        // tear down. A wrong hand-over loses it in a few trials in thousands (no OnCompleted, fds open, Sent after),
        // hence the many trials.
        var deadline = DateTime.UtcNow.AddSeconds(2.5);
        int trials = 0;
        while (trials < 8000 && DateTime.UtcNow < deadline)
        {
            trials++;
            var loop = new EventLoop();
            var (sender, source) = loop.Channel<int>();
            int completed = 0;
            source.Subscribe(_ => { }, () => Interlocked.Increment(ref completed));
            using var dispatching = new ManualResetEventSlim();
            var dispatcher = new Thread(() =>
            {
                dispatching.Set();
                try
                {
                    while (true)
                    {
                        loop.Dispatch(TimeSpan.Zero);
                    }
                }
                catch (ObjectDisposedException)
                {
                }
            });
            dispatcher.Start();
            Assert.True(dispatching.Wait(LoopExtensions.Patience));
            Thread.SpinWait(trials % 64);

            loop.Dispose();
            Assert.Equal(SendResult.Closed, sender.TrySend(trials));
            Assert.True(dispatcher.Join(LoopExtensions.Patience), "the dispatcher did not stop");

            Assert.True(Volatile.Read(ref completed) == 1, $"trial {trials}: the subscriber completed {completed} times");
            Assert.True(loop.Epoll.IsClosed, $"trial {trials}: the loop's epoll fd is still open");
        }
    }

    [Fact]
    public void Unsubscribe_CustomUnregisterThrows_StillUnregisters()
    {
        using var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        var custom = new FdEventSource(pipe.Second) { UnregisterFailure = new InvalidOperationException("Unregister failed on purpose.") };
        LoopSource<int> source = loop.Insert(custom);
        IDisposable subscription = source.Subscribe(_ => { });

        var error = Assert.Throws<InvalidOperationException>(subscription.Dispose);

        Assert.Same(custom.UnregisterFailure, error);
        Assert.False(source.IsActive);
        subscription.Dispose();
        IDisposable again = source.Subscribe(_ => { });
        Assert.True(source.IsActive);
        Assert.Throws<InvalidOperationException>(again.Dispose);
        Assert.False(source.IsActive);
    }

    [Fact]
    public void Dispose_CustomUnregisterThrows_CompletesEverySubscriberAndClosesEveryFd()
    {
        var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        var custom = new FdEventSource(pipe.Second) { UnregisterFailure = new InvalidOperationException("Unregister failed on purpose.") };
        var customObserver = new ContractObserver<int>(loop);
        var pingObserver = new ContractObserver<Unit>(loop);
        var timerObserver = new ContractObserver<DateTimeOffset>(loop);
        loop.Insert(custom).Subscribe(customObserver);
        var (ping, pings) = loop.Ping();
        pings.Subscribe(pingObserver);
        loop.Timer(TimeSpan.FromHours(1)).Subscribe(timerObserver);

        var error = Assert.Throws<AggregateException>(loop.Dispose);

        Assert.Contains(custom.UnregisterFailure, error.InnerExceptions);
        Assert.True(customObserver.Completed);
        Assert.True(pingObserver.Completed);
        Assert.True(timerObserver.Completed);
        Assert.True(loop.Epoll.IsClosed);
        Assert.Equal(SendResult.Closed, ping.Send());
        loop.Dispose();
    }

    [Fact]
    public void Dispose_AfterARemoveFromOutsideTheLoop_DeliversTheOwedOnCompleted()
    {
        var loop = new EventLoop();
        var (_, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);
        pings.Remove();

        loop.Dispose();

        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Dispose_LateSubscriberOfAnEndedSource_DeliversTheOwedEnd()
    {
        var loop = new EventLoop(LoopClock.Virtual(DateTimeOffset.UnixEpoch));
        TimerSource timer = loop.Timer(TimeSpan.FromSeconds(1));
        timer.Subscribe(_ => { });
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.True(timer.IsTerminated);
        var late = new ContractObserver<DateTimeOffset>(loop);
        timer.Subscribe(late);

        loop.Dispose();

        Assert.True(late.Completed);
        late.AssertClean();
    }

    [Fact]
    public void Dispose_CompletingObservers_SeeTheLoopsFdsClosed()
    {
        var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        bool epollClosed = false;
        int completions = 0;
        loop.Fd(pipe.Second).Subscribe(_ => { }, () =>
        {
            epollClosed = loop.Epoll.IsClosed;
            completions++;
        });

        loop.Dispose();

        Assert.Equal(1, completions);
        Assert.True(epollClosed, "OnCompleted ran while the loop's epoll fd was still open");
    }
}
