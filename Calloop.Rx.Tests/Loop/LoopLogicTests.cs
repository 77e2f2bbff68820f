using System.Reactive;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// The counterparts of calloop's <c>src/loop_logic.rs</c> tests; <c>docs/calloop-test-map.md</c> names the calloop
/// test behind each one.
/// </summary>
/// <remarks>
/// calloop tests with no counterpart here:
/// <list type="bullet">
/// <item><c>non_static_data</c>: it checks that the Rust borrow checker lets <c>Data</c> borrow locals; C# closures
/// capture whatever they like, so there is nothing to test.</item>
/// <item><c>weak_loop_handle</c>: calloop needs weak handles to break <c>Rc</c> cycles between a loop and the
/// callbacks that hold its handle; the GC collects such cycles, so there is no weak handle to test.</item>
/// </list>
/// <c>invalid_token</c> becomes "Enable/Disable/Update after Remove": there is no token to go stale, only the source
/// handle; where calloop returns <c>Err(InvalidToken)</c>, those calls throw <see cref="InvalidOperationException"/>
/// naming the source (a second <c>Remove</c> stays a no-op, like a second <c>Dispose</c>).
/// </remarks>
public class LoopLogicTests
{
    [Fact]
    public void InsertIdle_BeforeADispatch_RunsInIt()
    {
        using var loop = new EventLoop();
        bool ran = false;
        loop.InsertIdle(() => ran = true);

        loop.Dispatch(TimeSpan.Zero);

        Assert.True(ran);
    }

    [Fact]
    public void InsertIdle_DisposedBeforeTheDispatch_NeverRuns()
    {
        using var loop = new EventLoop();
        bool ran = false;
        IDisposable idle = loop.InsertIdle(() => ran = true);
        idle.Dispose();

        loop.Dispatch(TimeSpan.Zero);

        Assert.False(ran);
    }

    [Fact]
    public void WakeUp_FromAnotherThread_EndsABlockedDispatch()
    {
        // No sources at all: only WakeUp can end Dispatch(null). The waker waits until this thread is really blocked
        // in epoll, so the test covers waking a sleeping loop, not just the "wake-up already requested" path.
        using var loop = new EventLoop();
        int loopThread = TestSys.CurrentThreadId();
        bool sawWait = false;
        var waker = new Thread(() =>
        {
            sawWait = TestSys.WaitUntilInEpollWait(loopThread, LoopExtensions.Patience);
            loop.WakeUp();
        });
        waker.Start();

        Watchdog.Dispatch(loop, "WakeUp from another thread did not end Dispatch(null)");

        Assert.True(waker.Join(LoopExtensions.Patience));
        Assert.True(sawWait, "the loop thread was never seen blocked in epoll");
    }

    [Fact]
    public void Stop_FromAnotherThreadWhileBlocked_EndsRun()
    {
        // calloop pairs stop() with wakeup(); here Stop() alone also wakes a blocked Run. Both forms are covered.
        foreach (bool alsoWakeUp in new[] { false, true })
        {
            using var loop = new EventLoop();
            int loopThread = TestSys.CurrentThreadId();
            var stopper = new Thread(() =>
            {
                TestSys.WaitUntilInEpollWait(loopThread, LoopExtensions.Patience);
                loop.Stop();
                if (alsoWakeUp)
                {
                    loop.WakeUp();
                }
            });
            stopper.Start();
            using var watchdog = new Watchdog(loop);

            loop.Run();

            watchdog.AssertNotFired("Stop from another thread did not end Run");
            Assert.True(stopper.Join(LoopExtensions.Patience));
        }
    }

    [Fact]
    public void LifecycleHooks_PipeSource_RunInOrderAroundEachEvent()
    {
        using var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        var inner = new LockingPipeSource(pipe.Second);
        LoopSource<int> source = loop.Insert(inner);
        var observer = new ContractObserver<int>(loop);
        source.Subscribe(observer);

        pipe.Poke();
        Watchdog.Dispatch(loop, "a message did not end Dispatch(null)");

        // before_sleep took the lock, before_handle_events released it and saw the event, the callback took it again.
        Assert.Equal([1], observer.Values);
        Assert.Equal(2, inner.LockCount);
        Assert.Equal(1, inner.HookEvents);

        source.Disable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, inner.LockCount);

        source.Enable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(3, inner.LockCount);

        source.Remove();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(3, inner.LockCount);
        Assert.Equal(1, inner.HookEvents);
        Assert.True(observer.Completed);
        Assert.Null(inner.Failure);
        observer.AssertClean();
    }

    [Fact]
    public void LifecycleHooks_DefaultImplementations_DeliverEvents()
    {
        // The source opts into the hooks but keeps the interface's default implementations.
        using var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        var observer = new ContractObserver<int>(loop);
        loop.Insert(new FdEventSource(pipe.Second) { NeedsExtraLifecycleEvents = true }).Subscribe(observer);

        pipe.Poke();
        Watchdog.Dispatch(loop, "a message did not end Dispatch(null)");

        Assert.Equal([1], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void LifecycleHooks_SyntheticEvent_MakesTheWaitAPoll()
    {
        using var loop = new EventLoop();
        var inner = new SyntheticSource();
        LoopSource<Token> source = loop.Insert(inner);
        var observer = new ContractObserver<Token>(loop);
        IDisposable subscription = source.Subscribe(observer);

        // A synthetic event makes the wait a poll: Dispatch(null) must not block although nothing is ready.
        Watchdog.Dispatch(loop, "a synthetic event did not make Dispatch(null) poll");
        Watchdog.Dispatch(loop, "a synthetic event did not make Dispatch(null) poll");

        Assert.Equal([inner.Token, inner.Token], observer.Values);
        Assert.Equal(
            ["before_sleep", "before_handle_events", "process", "before_sleep", "before_handle_events", "process"],
            inner.Calls);
        Assert.Equal(0, inner.ReregisterCount);
        Assert.Equal(0, inner.UnregisterCount);

        // Here the source is also unregistered exactly once when its last subscriber leaves (calloop's test ends first).
        subscription.Dispose();
        Assert.Equal(1, inner.UnregisterCount);
        observer.AssertClean();
    }

    [Fact]
    public void Fd_NotOpen_ThrowsLoopExceptionEbadf()
    {
        using var loop = new EventLoop();
        const int NotOpen = 1 << 30; // above any fd limit, so it cannot be some other test's fd

        var error = Assert.Throws<LoopException>(() => loop.Fd(NotOpen));

        Assert.Equal(TestSys.EBADF, error.Errno);
        Assert.Equal(NotOpen, error.Fd);
    }

    [Fact]
    public void SourceControl_AfterRemove_ThrowsAndNothingIsRegisteredAgain()
    {
        // calloop: Err(InvalidToken). Here Enable, Disable and Update throw, naming the source; Remove stays idempotent.
        // Nothing is registered again and nothing is delivered after OnCompleted.
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);
        pings.Remove();
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(observer.Completed);

        foreach (Action call in new Action[] { pings.Enable, pings.Disable, pings.Update })
        {
            var error = Assert.Throws<InvalidOperationException>(call);
            Assert.Contains("Ping", error.Message);
        }

        pings.Remove();

        Assert.Equal(SendResult.Closed, ping.Send());
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(pings.IsTerminated);
        Assert.False(pings.IsActive);
        Assert.Empty(observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void Fd_InterestNone_RegistersButReportsNothing()
    {
        using var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        FdSource source = loop.Fd(pipe.Second, Interest.None);
        var observer = new ContractObserver<Readiness>(loop);
        source.Subscribe(observer);
        Assert.True(source.IsActive);

        pipe.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);

        source.Remove();
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Ping_DisabledThenEnabled_KeepsThePendingEvent()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);

        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        ping.Send();
        pings.Disable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);
        Assert.False(pings.IsEnabled);

        // The ping sent before Disable was kept and fires once the source is enabled again.
        pings.Enable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);
        observer.AssertClean();
    }

    [Fact]
    public void CustomSource_TwoSubTokens_EachReportsItsOwnEvents()
    {
        using var loop = new EventLoop();
        using var first = FdPair.Pipe();
        using var second = FdPair.Pipe();
        int sum = 0;
        var observer = new ContractObserver<int>(loop, value => sum += value);
        loop.Insert(new TwoPipeSource(first.Second, second.Second)).Subscribe(observer);

        first.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(1, sum);

        sum = 0;
        second.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, sum);

        sum = 0;
        first.Poke();
        second.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(3, sum);
        observer.AssertClean();
    }

    [Fact]
    public void Fd_InterestChangedByUpdate_ReportsTheNewInterest()
    {
        using var loop = new EventLoop();
        using var pair = FdPair.SocketPair();
        FdSource source = loop.Fd(pair.Second, Interest.Read, TriggerMode.Level);
        var observer = new ContractObserver<Readiness>(loop, readiness =>
        {
            if (readiness.Readable)
            {
                TestSys.Drain(pair.Second);
            }
        });
        source.Subscribe(observer);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values);

        TestSys.Write(pair.First, [1, 2, 3]);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);
        Assert.True(observer.Values[0].Readable);

        // Drained by the observer: nothing more to report.
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        source.Interest = Interest.Write;
        source.Update();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);
        Assert.True(observer.Values[1].Writable);

        source.Interest = Interest.Read;
        source.Update();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);
        observer.AssertClean();
    }

    [Fact]
    public void Remove_InsideItsOwnCallback_LetsEverySubscriberSeeTheEventThenCompletes()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var remover = new ContractObserver<Unit>(loop, _ => pings.Remove());
        var other = new ContractObserver<Unit>(loop);
        pings.Subscribe(remover);
        pings.Subscribe(other);

        ping.Send();
        loop.Dispatch(TimeSpan.Zero);

        // Removing the source from its own callback: every subscriber still gets the event in progress, then OnCompleted.
        Assert.Single(remover.Values);
        Assert.Single(other.Values);
        Assert.True(remover.Completed);
        Assert.True(other.Completed);
        Assert.False(pings.IsActive);
        remover.AssertClean();
        other.AssertClean();
    }

    [Fact]
    public void Disable_InsideItsOwnCallback_TakesEffectAfterIt()
    {
        // calloop defers disable() called from the source's own callback; calloop does not test it.
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var disabler = new ContractObserver<Unit>(loop, _ =>
        {
            pings.Disable();
            Assert.True(pings.IsEnabled);
        });
        var other = new ContractObserver<Unit>(loop);
        pings.Subscribe(disabler);
        pings.Subscribe(other);

        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(other.Values);
        Assert.False(pings.IsEnabled);

        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(other.Values);

        pings.Enable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, other.Values.Count);
        disabler.AssertClean();
        other.AssertClean();
    }

    [Fact]
    public void SourceControl_SeveralChangesInsideTheCallback_TheLastWins()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop, _ =>
        {
            pings.Disable();
            pings.Update();
        });
        pings.Subscribe(observer);

        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);

        Assert.True(pings.IsEnabled);
        Assert.Equal(2, observer.Values.Count);
        observer.AssertClean();
    }

    [Fact]
    public void Timer_RemovedAndReplacedInItsCallback_TheNewOneFires()
    {
        // A timer removes itself and inserts an immediate timer; the old source's pending removal must
        // not reach the new one, which must still fire. (Timers here live in the heap only and take no slab slot;
        // slot reuse itself is checked with fd sources in Fd_SlotReusedAfterRemove_NewOccupantFires.)
        using var loop = new EventLoop(LoopClock.Virtual());
        TimerSource first = loop.Timer(TimeSpan.FromSeconds(1));
        TimerSource? second = null;
        IDisposable? firstSubscription = null;
        var secondObserver = new ContractObserver<DateTimeOffset>(loop);
        var firstObserver = new ContractObserver<DateTimeOffset>(loop, _ =>
        {
            first.Remove();
            firstSubscription!.Dispose();
            second = loop.Timer(TimeSpan.Zero);
            second.Subscribe(secondObserver);
        });
        firstSubscription = first.Subscribe(firstObserver);

        loop.AdvanceBy(TimeSpan.FromSeconds(1));

        Assert.NotNull(second);
        Assert.Single(firstObserver.Values);
        Assert.Single(secondObserver.Values);
        Assert.True(secondObserver.Completed);
        firstObserver.AssertClean();
        secondObserver.AssertClean();
    }

    [Fact]
    public void Fd_SlotReusedAfterRemove_NewOccupantFires()
    {
        // The same with sources that hold a slab slot (fd sources): the new occupant gets the slot with a new
        // generation, the old removal does not touch it, and it fires.
        using var loop = new EventLoop();
        using var firstPipe = FdPair.Pipe();
        using var secondPipe = FdPair.Pipe();
        FdSource first = loop.Fd(firstPipe.Second);
        FdSource? second = null;
        Token firstToken = default;
        var secondObserver = new ContractObserver<Readiness>(loop, _ => TestSys.Drain(secondPipe.Second));
        var firstObserver = new ContractObserver<Readiness>(loop, _ =>
        {
            TestSys.Drain(firstPipe.Second);
            firstToken = ((ILoopSource)first).Token;
            first.Remove();

            // The removal takes effect when this callback returns; the idle runs after that, in this dispatch.
            loop.InsertIdle(() =>
            {
                second = loop.Fd(secondPipe.Second);
                second.Subscribe(secondObserver);
                secondPipe.Poke();
            });
        });
        first.Subscribe(firstObserver);

        firstPipe.Poke();
        loop.Dispatch(TimeSpan.Zero);
        loop.DispatchUntil(() => secondObserver.Values.Count == 1, "the new occupant's event");

        Token secondToken = ((ILoopSource)second!).Token;
        Assert.Equal(firstToken.Slot, secondToken.Slot);
        Assert.NotEqual(firstToken.Generation, secondToken.Generation);
        Assert.True(firstObserver.Completed);
        Assert.False(secondObserver.Completed);
        firstObserver.AssertClean();
        secondObserver.AssertClean();
    }

    [Fact]
    public void CustomSource_ThirdSubToken_DeliversAndEnds()
    {
        using var loop = new EventLoop();
        var observer = new ContractObserver<int>(loop);
        loop.Insert(new ThirdTokenSource()).Subscribe(observer);

        Watchdog.Dispatch(loop, "a synthetic event did not make Dispatch(null) poll");
        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal([2], observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    /// <summary>
    /// calloop's lock-checking source: before_sleep takes a lock, before_handle_events releases it, the callback takes
    /// and releases it. Taking a held lock throws, which would fail the source, so a wrong hook order shows up.
    /// </summary>
    private sealed class LockingPipeSource(int fd) : IEventSource<int>
    {
        private bool _locked;
        private Token _token;

        public int LockCount { get; private set; }

        public int HookEvents { get; private set; }

        public Exception? Failure { get; private set; }

        public bool NeedsExtraLifecycleEvents => true;

        public void Register(Poller poller, TokenFactory tokens)
        {
            _token = tokens.Next();
            poller.Register(fd, Interest.Read, TriggerMode.Level, _token);
        }

        public void Reregister(Poller poller, TokenFactory tokens)
        {
            _token = tokens.Next();
            poller.Reregister(fd, Interest.Read, TriggerMode.Level, _token);
        }

        public void Unregister(Poller poller) => poller.Unregister(fd);

        public PostAction ProcessEvents(Readiness readiness, Token token, Action<int> emit)
        {
            Lock();
            if (token == _token)
            {
                emit(TestSys.Drain(fd).Length);
            }

            Unlock();
            return PostAction.Continue;
        }

        public bool BeforeSleep(out Token token, out Readiness readiness)
        {
            Lock();
            token = default;
            readiness = default;
            return false;
        }

        public void BeforeHandleEvents(IReadOnlyList<(Readiness Readiness, Token Token)> events)
        {
            HookEvents += events.Count;
            Unlock();
        }

        private void Lock()
        {
            if (_locked)
            {
                Failure = new InvalidOperationException("lock taken twice: hooks ran out of order");
                throw Failure;
            }

            _locked = true;
            LockCount++;
        }

        private void Unlock() => _locked = false;
    }

    /// <summary>A source without any fd whose before-sleep hook always injects a synthetic event for its own token.</summary>
    private sealed class SyntheticSource : IEventSource<Token>
    {
        public Token Token { get; private set; }

        public List<string> Calls { get; } = [];

        public int ReregisterCount { get; private set; }

        public int UnregisterCount { get; private set; }

        public bool NeedsExtraLifecycleEvents => true;

        public void Register(Poller poller, TokenFactory tokens) => Token = tokens.Next();

        public void Reregister(Poller poller, TokenFactory tokens)
        {
            Token = tokens.Next();
            ReregisterCount++;
        }

        public void Unregister(Poller poller) => UnregisterCount++;

        public PostAction ProcessEvents(Readiness readiness, Token token, Action<Token> emit)
        {
            Calls.Add("process");
            emit(token);
            return PostAction.Continue;
        }

        public bool BeforeSleep(out Token token, out Readiness readiness)
        {
            Calls.Add("before_sleep");
            token = Token;
            readiness = Readiness.ReadableOnly;
            return true;
        }

        public void BeforeHandleEvents(IReadOnlyList<(Readiness Readiness, Token Token)> events)
        {
            // Synthetic events are not real events of the poll: the hook sees none.
            Assert.Empty(events);
            Calls.Add("before_handle_events");
        }
    }

    /// <summary>calloop's composite of two pings: two fds under two sub-tokens of one registration, worth 1 and 2.</summary>
    private sealed class TwoPipeSource(int first, int second) : IEventSource<int>
    {
        private Token _first;
        private Token _second;

        public void Register(Poller poller, TokenFactory tokens)
        {
            _first = tokens.Next();
            _second = tokens.Next();
            poller.Register(first, Interest.Read, TriggerMode.Level, _first);
            poller.Register(second, Interest.Read, TriggerMode.Level, _second);
        }

        public void Reregister(Poller poller, TokenFactory tokens)
        {
            _first = tokens.Next();
            _second = tokens.Next();
            poller.Reregister(first, Interest.Read, TriggerMode.Level, _first);
            poller.Reregister(second, Interest.Read, TriggerMode.Level, _second);
        }

        public void Unregister(Poller poller)
        {
            poller.Unregister(first);
            poller.Unregister(second);
        }

        public PostAction ProcessEvents(Readiness readiness, Token token, Action<int> emit)
        {
            if (token == _first)
            {
                TestSys.Drain(first);
                emit(1);
            }
            else if (token == _second)
            {
                TestSys.Drain(second);
                emit(2);
            }

            return PostAction.Continue;
        }
    }

    /// <summary>Takes three tokens, injects a synthetic event for the third, and asks to be removed when it comes.</summary>
    private sealed class ThirdTokenSource : IEventSource<int>
    {
        private Token _third;

        public bool NeedsExtraLifecycleEvents => true;

        public void Register(Poller poller, TokenFactory tokens)
        {
            tokens.Next();
            tokens.Next();
            _third = tokens.Next();
        }

        public void Reregister(Poller poller, TokenFactory tokens) => Register(poller, tokens);

        public void Unregister(Poller poller)
        {
        }

        public PostAction ProcessEvents(Readiness readiness, Token token, Action<int> emit)
        {
            emit(token.SubId);
            return PostAction.Remove;
        }

        public bool BeforeSleep(out Token token, out Readiness readiness)
        {
            token = _third;
            readiness = Readiness.ReadableOnly;
            return true;
        }
    }
}
