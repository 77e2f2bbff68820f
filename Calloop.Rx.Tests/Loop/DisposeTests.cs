using System.Reactive;
using System.Reactive.Concurrency;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// Disposing the loop: an orderly end (OnCompleted) for every live subscriber, senders that report Closed, every
/// fd released. Serial because it takes over signals and counts the process's open fds.
/// </summary>
[Collection("Serial")]
public class DisposeTests
{
    [Fact]
    public void Dispose_CompletesLiveSubscribersOfEverySourceKind()
    {
        var (a, b) = TestSys.SocketPair();
        var (pipeRead, pipeWrite) = TestSys.Pipe();
        try
        {
            var loop = new EventLoop();
            using var everything = new EverySourceKind(loop, b, pipeRead);
            loop.Dispatch(TimeSpan.Zero);
            everything.AssertAll("active", s => s.IsActive);

            loop.Dispose();

            everything.AssertAll("terminated", s => s.IsTerminated);
            everything.AssertAllCompleted();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
            TestSys.Close(pipeRead);
            TestSys.Close(pipeWrite);
        }
    }

    [Fact]
    public void Dispose_SendersReportClosed()
    {
        var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var (syncSender, _) = loop.BoundedChannel<int>(1);
        var (ping, pings) = loop.Ping();
        Sender<int> clone = sender.Clone();
        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);
        pings.Subscribe(_ => { });

        loop.Dispose();

        Assert.Equal(SendResult.Closed, sender.TrySend(1));
        Assert.Equal(SendResult.Closed, clone.TrySend(1));
        Assert.Throws<ChannelClosedException>(() => sender.Send(1));
        Assert.Equal(SendResult.Closed, syncSender.TrySend(1));
        Assert.Throws<ChannelClosedException>(() => syncSender.Send(1));
        Assert.Equal(SendResult.Closed, ping.Send());
        Assert.Equal(SendResult.Closed, ping.Send());

        // Releasing the senders afterwards is harmless.
        sender.Dispose();
        clone.Dispose();
        syncSender.Dispose();
        ping.Dispose();
        Assert.True(observer.Completed);
        Assert.Empty(observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void Dispose_FromInsideACallback_FinishesTheCallbackThenTearsDown()
    {
        var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var timer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(TimeSpan.FromHours(1)).Subscribe(timer);
        var log = new List<string>();
        var observer = new ContractObserver<Unit>(loop, _ =>
        {
            loop.Dispose();

            // Still inside the callback: the loop is marked disposed, the teardown has not happened yet.
            log.Add($"disposed={loop.IsDisposed} timerCompleted={timer.Completed}");
        });
        pings.Subscribe(observer);
        bool queuedRan = false;
        loop.Scheduler.Schedule(() => queuedRan = true);

        ping.Send();
        loop.Dispatch(LoopExtensions.Patience);

        Assert.Equal(["disposed=True timerCompleted=False"], log);
        Assert.True(observer.Completed);
        Assert.True(timer.Completed);
        Assert.False(queuedRan);
        Assert.Throws<ObjectDisposedException>(() => loop.Dispatch(TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => loop.Scheduler.Schedule(() => { }));
        Assert.Equal(SendResult.Closed, ping.Send());
        observer.AssertClean();
        timer.AssertClean();
    }

    [Fact]
    public void Dispose_FromAnotherThread_WakesABlockedDispatch()
    {
        var loop = new EventLoop();
        var (_, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);

        using (var blocked = BlockedDispatch.Start(loop))
        {
            loop.Dispose();
            blocked.AssertReturns();
            Assert.Null(blocked.Error);
        }

        // The teardown ran on the dispatching thread on its way out (ContractObserver checks the thread).
        Assert.True(observer.Completed);
        observer.AssertClean();
        Assert.Throws<ObjectDisposedException>(() => loop.Dispatch(TimeSpan.Zero));
    }

    [Fact]
    public void Dispose_IsIdempotent()
    {
        var loop = new EventLoop();
        var (_, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);
        loop.Dispose();
        loop.Dispose();
        Assert.Single(observer.Notifications);

        var inCallback = new EventLoop();
        inCallback.Scheduler.Schedule(() =>
        {
            inCallback.Dispose();
            inCallback.Dispose();
        });
        inCallback.Dispatch(TimeSpan.Zero);
        inCallback.Dispose();
        Assert.True(inCallback.IsDisposed);
        observer.AssertClean();
    }

    [Fact]
    public void Dispose_ObserverExceptionsBecomeOneAggregate_AndEveryObserverIsCalled()
    {
        var loop = new EventLoop();
        var errors = new[] { new InvalidOperationException("one"), new InvalidOperationException("two"), new InvalidOperationException("three") };
        int called = 0;
        foreach (var error in errors)
        {
            var (_, pings) = loop.Ping();
            pings.Subscribe(_ => { }, () =>
            {
                called++;
                throw error;
            });
        }

        var wellBehaved = new ContractObserver<int>(loop);
        var (_, messages) = loop.Channel<int>();
        messages.Subscribe(wellBehaved);

        var aggregate = Assert.Throws<AggregateException>(loop.Dispose);

        Assert.Equal(3, called);
        Assert.Equal(3, aggregate.InnerExceptions.Count);
        Assert.All(errors, e => Assert.Contains(e, aggregate.InnerExceptions));
        Assert.True(wellBehaved.Completed);
        wellBehaved.AssertClean();

        // The loop is fully disposed all the same.
        loop.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loop.Dispatch(TimeSpan.Zero));
    }

    [Fact]
    public void Dispose_FromInsideACallback_ObserverExceptionsComeOutOfDispatch()
    {
        var loop = new EventLoop();
        var error = new InvalidOperationException("on completed");
        var (_, pings) = loop.Ping();
        pings.Subscribe(_ => { }, () => throw error);
        loop.Scheduler.Schedule(loop.Dispose);

        var aggregate = Assert.Throws<AggregateException>(() => loop.Dispatch(TimeSpan.Zero));

        Assert.Same(error, Assert.Single(aggregate.InnerExceptions));
        Assert.True(loop.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => loop.Dispatch(TimeSpan.Zero));
    }

    [Fact]
    public void Dispose_EveryFdTheLoopOpens_IsCloseOnExecAndClosed()
    {
        var before = TestSys.OpenFds();
        var loop = new EventLoop();
        var opened = TestSys.OpenFds().Except(before).ToList();

        Assert.NotEmpty(opened);
        Assert.All(opened, fd => Assert.True(TestSys.IsCloseOnExec(fd), $"fd {fd} lacks FD_CLOEXEC"));
        loop.Dispose();
        Assert.All(opened, fd => Assert.False(TestSys.IsOpen(fd), $"fd {fd} is still open"));
    }

    [Fact]
    public void Dispose_LeaksNoFd()
    {
        // The first round loads native libraries and starts the runtime's signal handling, which keep fds open
        // for the life of the process; only the second round is counted.
        RunEverySourceKindAndDispose();
        HashSet<int> before = TestSys.OpenFds();

        RunEverySourceKindAndDispose();

        Assert.Empty(TestSys.FdsOpenedSince(before));
    }

    private static void RunEverySourceKindAndDispose()
    {
        var (a, b) = TestSys.SocketPair();
        var (pipeRead, pipeWrite) = TestSys.Pipe();
        try
        {
            var loop = new EventLoop();
            using (var everything = new EverySourceKind(loop, b, pipeRead))
            {
                TestSys.Write(a, "fd"u8);
                TestSys.Write(pipeWrite, "custom"u8);
                everything.Ping.Send();
                everything.Sender.Send(1);
                everything.BoundedSender.Send(2);
                TestSys.Kill(TestSys.SIGUSR2);
                int idles = 0;
                loop.InsertIdle(() => idles++);
                bool scheduled = false;
                loop.Scheduler.Schedule(TimeSpan.FromMilliseconds(1), () => scheduled = true);
                loop.Scheduler.Schedule(TimeSpan.FromHours(1), () => { });
                loop.DispatchUntil(() => everything.AllDelivered && idles == 1 && scheduled);

                loop.Dispose();
                everything.AssertAllCompleted();
            }
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
            TestSys.Close(pipeRead);
            TestSys.Close(pipeWrite);
        }
    }

    /// <summary>One subscribed source of every kind, each with a contract observer.</summary>
    private sealed class EverySourceKind : IDisposable
    {
        private readonly ContractObserver<Readiness> _fd;
        private readonly ContractObserver<DateTimeOffset> _timer;
        private readonly ContractObserver<DateTimeOffset> _farTimer;
        private readonly ContractObserver<Unit> _ping;
        private readonly ContractObserver<int> _channel;
        private readonly ContractObserver<int> _syncChannel;
        private readonly ContractObserver<SignalEvent> _signals;
        private readonly ContractObserver<int> _custom;
        private readonly List<(string Name, Func<bool> IsActive, Func<bool> IsTerminated)> _sources = [];

        public EverySourceKind(EventLoop loop, int fd, int customFd)
        {
            _fd = new ContractObserver<Readiness>(loop, _ => TestSys.Drain(fd));
            _timer = new ContractObserver<DateTimeOffset>(loop);
            _farTimer = new ContractObserver<DateTimeOffset>(loop);
            _ping = new ContractObserver<Unit>(loop);
            _channel = new ContractObserver<int>(loop);
            _syncChannel = new ContractObserver<int>(loop);
            _signals = new ContractObserver<SignalEvent>(loop);
            _custom = new ContractObserver<int>(loop);

            var (ping, pings) = loop.Ping();
            var (sender, messages) = loop.Channel<int>();
            var (syncSender, syncMessages) = loop.BoundedChannel<int>(4);
            Ping = ping;
            Sender = sender;
            BoundedSender = syncSender;
            FdSource fdSource = loop.Fd(fd);
            TimerSource timer = loop.Timer(TimeSpan.FromMilliseconds(1), d => TimeoutAction.ToInstant(d + TimeSpan.FromMinutes(1)));
            TimerSource farTimer = loop.Timer(TimeSpan.FromHours(1));
            SignalSource signals = loop.Signals((PosixSignal)TestSys.SIGUSR2);
            LoopSource<int> custom = loop.Insert(new FdEventSource(customFd));
            Watch("fd", fdSource);
            Watch("timer", timer);
            Watch("far timer", farTimer);
            Watch("ping", pings);
            Watch("channel", messages);
            Watch("sync channel", syncMessages);
            Watch("signals", signals);
            Watch("custom", custom);

            fdSource.Subscribe(_fd);
            timer.Subscribe(_timer);
            farTimer.Subscribe(_farTimer);
            pings.Subscribe(_ping);
            messages.Subscribe(_channel);
            syncMessages.Subscribe(_syncChannel);
            signals.Subscribe(_signals);
            custom.Subscribe(_custom);
        }

        public Ping Ping { get; }

        public Sender<int> Sender { get; }

        public BoundedSender<int> BoundedSender { get; }

        public bool AllDelivered =>
            _fd.Values.Count > 0 && _timer.Values.Count > 0 && _ping.Values.Count > 0 && _channel.Values.Count > 0
            && _syncChannel.Values.Count > 0 && _signals.Values.Count > 0 && _custom.Values.Count > 0;

        public void AssertAll(string what, Func<(bool IsActive, bool IsTerminated), bool> condition)
        {
            foreach (var (name, isActive, isTerminated) in _sources)
            {
                Assert.True(condition((isActive(), isTerminated())), $"the {name} source is not {what}");
            }
        }

        public void AssertAllCompleted()
        {
            var observers = new (string Name, bool Completed, Action AssertClean)[]
            {
                ("fd", _fd.Completed, _fd.AssertClean),
                ("timer", _timer.Completed, _timer.AssertClean),
                ("far timer", _farTimer.Completed, _farTimer.AssertClean),
                ("ping", _ping.Completed, _ping.AssertClean),
                ("channel", _channel.Completed, _channel.AssertClean),
                ("sync channel", _syncChannel.Completed, _syncChannel.AssertClean),
                ("signals", _signals.Completed, _signals.AssertClean),
                ("custom", _custom.Completed, _custom.AssertClean),
            };
            foreach (var (name, completed, assertClean) in observers)
            {
                Assert.True(completed, $"the {name} subscriber did not get OnCompleted");
                assertClean();
            }
        }

        private void Watch<T>(string name, LoopSource<T> source) => _sources.Add((name, () => source.IsActive, () => source.IsTerminated));

        public void Dispose()
        {
            Ping.Dispose();
            Sender.Dispose();
            BoundedSender.Dispose();
        }
    }
}
