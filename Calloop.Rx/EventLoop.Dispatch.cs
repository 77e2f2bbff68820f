using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Calloop.Rx.Diagnostics;
using Calloop.Rx.Scheduling;

namespace Calloop.Rx;

public sealed partial class EventLoop
{
    private readonly List<ITimedItem> _due = [];
    private readonly List<(ILoopSource Source, Token Token, Readiness Readiness)> _synthetic = [];
    private int _dispatchThread;
    private Phase _phase;
    private int _eventCursor;
    private int _eventCount;
    private int _dueCursor;
    private int _syntheticCursor;
    private List<Exception>? _failures;

    /// <summary>Set when a timer or action ran; virtual-time stepping uses it to know an instant has settled.</summary>
    private bool _ranWork;

    /// <summary>Where an interrupted dispatch resumes; <see cref="Phase.None"/> when none is in progress.</summary>
    private enum Phase
    {
        None,
        Synthetic,
        Events,
        Timers,
        Actions,
        Idles,
    }

    /// <summary>The source whose event is being delivered, so that its own Disable/Update/Remove are deferred.</summary>
    internal ILoopSource? CurrentSource { get; private set; }

    /// <summary>
    /// The source whose terminal notification is being delivered (by the thread that holds the dispatch role), so that
    /// a re-subscription made from inside it, as Rx's <c>Repeat</c> and <c>Concat</c> make, can be told apart.
    /// </summary>
    internal ILoopSource? EndingSource { get; set; }

    /// <summary>
    /// Whether the calling thread is dispatching this loop right now: the only thread on which notifications arrive
    /// and loop-thread-only objects may be used. False between dispatches, even on the thread that runs the loop.
    /// </summary>
    public bool IsOnLoopThread => Volatile.Read(ref _dispatchThread) == Environment.CurrentManagedThreadId;

    /// <summary>
    /// Runs one iteration: waits for events (at most <paramref name="timeout"/>, or until the earliest timer), then
    /// delivers fd, ping, channel and signal events, due timers, scheduled actions and idle callbacks.
    /// </summary>
    /// <param name="timeout">Longest wait: null waits until something happens, <see cref="TimeSpan.Zero"/> polls.</param>
    /// <remarks>
    /// An exception thrown by an observer or a scheduled action comes out of this method once the delivery in
    /// progress has reached every subscriber; everything not yet delivered stays pending and is delivered by the
    /// next call (which then does not wait). Several such exceptions come out as one <see cref="AggregateException"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    /// <exception cref="InvalidOperationException">Called from a callback of this loop, or while another thread dispatches.</exception>
    /// <exception cref="LoopException">epoll_wait failed (other than EINTR, which is retried).</exception>
    public void Dispatch(TimeSpan? timeout = null)
    {
        ValidateTimeout(timeout);
        if (!DispatchOnce(timeout is { } t ? t.Ticks : -1))
        {
            ThrowHelper.ThrowLoopDisposed();
        }
    }

    /// <summary>One dispatch; false (nothing done) when the loop is already disposed.</summary>
    private bool DispatchOnce(long timeoutTicks)
    {
        if (_disposed)
        {
            return false;
        }

        if (!EnterDispatch())
        {
            return false;
        }

        SynchronizationContext? previous = InstallSynchronizationContext();
        try
        {
            // Disposed by another thread since the check above: LeaveDispatch tears down.
            if (!_disposed)
            {
                if (_monitor is { } monitor)
                {
                    DispatchMeasured(timeoutTicks, monitor);
                }
                else
                {
                    DispatchCore(timeoutTicks);
                }
            }
        }
        finally
        {
            LeaveDispatch(previous);
        }

        return true;
    }

    /// <summary>Takes the dispatch role; false if the loop was disposed meanwhile; throws on re-entry or a second thread.</summary>
    private bool EnterDispatch()
    {
        if (TryEnterDispatch())
        {
            return true;
        }

        if (_disposed)
        {
            return false;
        }

        int owner = Volatile.Read(ref _dispatchThread);
        throw new InvalidOperationException(owner == Environment.CurrentManagedThreadId
            ? "Dispatch cannot be re-entered from a callback of the same event loop."
            : $"The event loop is already dispatching on managed thread {owner}; one thread dispatches at a time.");
    }

    private bool TryEnterDispatch() =>
        Interlocked.CompareExchange(ref _dispatchThread, Environment.CurrentManagedThreadId, 0) == 0;

    /// <summary>
    /// Gives up the dispatch role. A full fence, paired with the one in <see cref="Dispose"/>'s attempt to take the
    /// role: either <see cref="Dispose"/> sees the role free and tears down itself, or the thread giving it up sees
    /// <see cref="_disposed"/> afterwards (<see cref="LeaveDispatch"/>).
    /// </summary>
    private void ExitDispatch() => Interlocked.Exchange(ref _dispatchThread, 0);

    /// <summary>Tears the loop down unless another thread holds the dispatch role (which then tears down on its way out).</summary>
    private bool TryTearDown()
    {
        if (!TryEnterDispatch())
        {
            return false;
        }

        try
        {
            Teardown();
        }
        finally
        {
            ExitDispatch();
        }

        return true;
    }

    /// <summary>Gives up the dispatch role and restores the caller's context; tears the loop down if it was disposed meanwhile.</summary>
    /// <remarks>The common path has no nested try, so the JIT can inline the callers' finally (this runs once per dispatch).</remarks>
    private void LeaveDispatch(SynchronizationContext? previous)
    {
        if (_disposed)
        {
            LeaveDisposed(previous);
            return;
        }

        ExitDispatch();
        System.Threading.SynchronizationContext.SetSynchronizationContext(previous);

        // Dispose on another thread may have found the role still taken just before it was given up: then nobody else
        // tears down (the exchange in ExitDispatch orders this read after the role was released).
        if (_disposed)
        {
            TryTearDown();
        }
    }

    private void LeaveDisposed(SynchronizationContext? previous)
    {
        try
        {
            try
            {
                Teardown();
            }
            finally
            {
                ExitDispatch();
            }
        }
        finally
        {
            System.Threading.SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void DispatchCore(long timeoutTicks)
    {
        if (_phase == Phase.None)
        {
            Wait(timeoutTicks);
        }

        if (_phase == Phase.Synthetic)
        {
            if (_disposed)
            {
                return;
            }

            while (_syntheticCursor < _synthetic.Count)
            {
                var (source, token, readiness) = _synthetic[_syntheticCursor++];
                Deliver(source, readiness, token);
                if (ShouldStop())
                {
                    return;
                }
            }

            _synthetic.Clear();
            _phase = Phase.Events;
        }

        if (_phase == Phase.Events)
        {
            if (_disposed)
            {
                return;
            }

            while (_eventCursor < _eventCount)
            {
                int i = _eventCursor++;
                ulong data = _epoll.DataAt(i);
                if ((data & Token.MaxSlot) == Token.MaxSlot)
                {
                    // The loop's own fds, in the reserved slot. A timerfd expiry only ended the wait: the timer phase finds what is due.
                    if (data == WakerToken)
                    {
                        _waker.Read();
                    }

                    continue;
                }

                ILoopSource? source = Lookup(data);
                if (source is not null)
                {
                    Deliver(source, Readiness.FromEpoll(_epoll.EventsAt(i)), new Token(data));
                    if (ShouldStop())
                    {
                        return;
                    }
                }
            }

            long readyDeadline = ReadyDeadline();
            while (_readyCursor < _readyBatch.Count)
            {
                if (readyDeadline != long.MaxValue && Stopwatch.GetTimestamp() > readyDeadline)
                {
                    // Out of time: the rest stay queued (their flags still set, so producers do not queue them again)
                    // and go first in the next dispatch, which does not wait; timers run now.
                    break;
                }

                Notifier notifier = _readyBatch[_readyCursor++];
                if (notifier.TakeForDelivery())
                {
                    Deliver(notifier.Source, Readiness.ReadableOnly, default);
                    if (ShouldStop())
                    {
                        return;
                    }
                }
            }

            if (!HasDeferredReady)
            {
                _readyBatch.Clear();
                _readyCursor = 0;
            }

            _phase = Phase.Timers;
            CollectDueTimers();
        }

        if (_phase == Phase.Timers)
        {
            if (_disposed)
            {
                return;
            }

            while (_dueCursor < _due.Count)
            {
                ITimedItem item = _due[_dueCursor++];
                _ranWork = true;
                item.Invoke();
                if (ShouldStop())
                {
                    return;
                }
            }

            _due.Clear();
            _phase = Phase.Actions;

            // Unlocked emptiness checks here and below are hints: work queued concurrently is seen by the next
            // dispatch, whose wait does not block because the pre-wait check (under the gate) sees it.
            if (_ready.Count > 0)
            {
                lock (Gate)
                {
                    (_ready, _running) = (_running, _ready);
                }
            }
        }

        if (_phase == Phase.Actions)
        {
            if (_disposed)
            {
                return;
            }

            while (_running.TryDequeue(out WorkItem? item))
            {
                _ranWork = true;
                item.Invoke();
                if (ShouldStop())
                {
                    return;
                }
            }

            _phase = Phase.Idles;
            if (!_idles.IsEmpty)
            {
                lock (Gate)
                {
                    _idles.SwapLocked();
                }
            }
        }

        if (_phase == Phase.Idles)
        {
            if (_disposed)
            {
                return;
            }

            while (_idles.TryTakeNext(out Action? idle))
            {
                try
                {
                    idle!();
                }
                catch (Exception e)
                {
                    RecordFailure(e);
                }

                if (ShouldStop())
                {
                    return;
                }
            }

            _phase = Phase.None;
        }
    }

    /// <summary>Before-sleep hooks, then epoll with a timeout bounded by the earliest timer and by pending work.</summary>
    private void Wait(long timeoutTicks)
    {
        // The hooks are for custom sources that ask for them; most loops have none, so the check is inline.
        LoopMonitor? monitor = _monitor;
        long waitStart = monitor is null ? 0 : Stopwatch.GetTimestamp();
        bool synthetic = _lifecycleSources.Length != 0 && RunBeforeSleepHooks();
        long wait = synthetic ? 0 : BoundWait(timeoutTicks);
        int count = wait == 0 ? _epoll.Poll() : _spinTicks > 0 ? Spin(ref wait) : -1;
        if (count < 0)
        {
            // About to block: from here on producers write the waker. Check again after arming, so that anything
            // queued before the flag was visible is seen here, and anything after it writes the waker.
            Interlocked.Exchange(ref _wakeArmed, 1);
            try
            {
                long bound = BoundWait(wait);
                SetWakeTimer(bound);
                count = _epoll.Wait(bound);
            }
            finally
            {
                Interlocked.Exchange(ref _wakeArmed, 0);
            }
        }

        if (monitor is not null)
        {
            monitor.WaitTimestampTicks += Stopwatch.GetTimestamp() - waitStart;
        }

        _eventCount = count;
        _eventCursor = 0;
        if (_lifecycleSources.Length != 0)
        {
            RunBeforeHandleEventsHooks();
        }

        TakeReady();
        _syntheticCursor = 0;
        _phase = Phase.Synthetic;
    }

    /// <summary>
    /// Arms the timerfd for a bounded wait (or disarms it for an unbounded one), so the wait ends on time rather than
    /// up to the timer slack late. epoll keeps the same timeout as a backstop.
    /// </summary>
    private void SetWakeTimer(long ticks)
    {
        if (_timerFd is not null)
        {
            int errno = _timerFd.Set(ticks);
            if (errno != 0)
            {
                throw new LoopException("timerfd_settime", errno, _timerFd.Fd, "EventLoop timer");
            }
        }
    }

    /// <summary>
    /// The longest the loop may wait from now: <paramref name="timeoutTicks"/> bounded by the earliest timer, or zero
    /// when work is already waiting (queued sources, scheduled actions, a stop or wake-up request).
    /// </summary>
    private long BoundWait(long timeoutTicks)
    {
        if (timeoutTicks == 0)
        {
            // A poll has nothing to bound; a pending wake-up request is used up by it, as by any dispatch.
            if (Volatile.Read(ref _wakeRequested) == 1)
            {
                Interlocked.Exchange(ref _wakeRequested, 0);
            }

            return 0;
        }

        lock (Gate)
        {
            if (HasReady || HasDeferredReady || _ready.Count > 0 || _stopRequested || _disposed || Interlocked.Exchange(ref _wakeRequested, 0) == 1)
            {
                return 0;
            }

            if (_timers.Count > 0)
            {
                long next = _timers.NextDeadline;
                long now = NowTicks;
                long untilTimer = next <= now ? 0 : IsVirtual ? -1 : next - now;
                if (untilTimer >= 0 && (timeoutTicks < 0 || untilTimer < timeoutTicks))
                {
                    return untilTimer;
                }
            }

            return timeoutTicks;
        }
    }

    private void CollectDueTimers()
    {
        _dueCursor = 0;
        if (_timers.Count == 0)
        {
            return;
        }

        long now = NowTicks;
        lock (Gate)
        {
            while (_timers.PopDue(now) is { } item)
            {
                _due.Add(item);
            }
        }
    }

    /// <summary>
    /// Delivers one event to one source and then applies what its callbacks asked for (Disable, Update, Remove).
    /// An exception escaping the source itself (not its observers) means the source failed: OnError, unregistered.
    /// </summary>
    private void Deliver(ILoopSource source, Readiness readiness, Token token)
    {
        if (_monitor is { } monitor)
        {
            DeliverMeasured(source, readiness, token, monitor);
        }
        else
        {
            DeliverCore(source, readiness, token);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void DeliverCore(ILoopSource source, Readiness readiness, Token token)
    {
        CurrentSource = source;
        try
        {
            source.OnReady(readiness, token);
            CurrentSource = null;
        }
        catch (Exception e)
        {
            // Not a finally: this runs once per event, and a finally costs a call there.
            CurrentSource = null;
            source.Fail(e);
        }

        source.AfterCallback();
    }

    /// <summary>Runs a timer-driven source's event with the same deferral rules as fd events.</summary>
    internal void DeliverTimer(ILoopSource source) => Deliver(source, Readiness.ReadableOnly, default);

    /// <summary>Whether an observer or action threw and its exception has not come out of a dispatch yet.</summary>
    internal bool HasPendingFailures => _failures is not null;

    /// <summary>Records an exception thrown by user code; it comes out of <see cref="Dispatch(TimeSpan?)"/> at the next boundary.</summary>
    internal void RecordFailure(Exception e)
    {
        // Work that meets this loop's own disposal (ObserveOn's drain re-scheduling itself after an observer disposed
        // the loop) just ends, as in Rx's EventLoopScheduler (dotnet/reactive #969): not an error of the dispatch.
        if (_disposed && e is ObjectDisposedException { ObjectName: nameof(EventLoop) })
        {
            return;
        }

        (_failures ??= []).Add(e);
    }

    /// <summary>Called between deliveries: stop the dispatch (keeping its cursors) if user code threw or the loop was disposed.</summary>
    private bool ShouldStop()
    {
        if (_failures is { } failures)
        {
            _failures = null;
            if (failures.Count == 1)
            {
                ExceptionDispatchInfo.Capture(failures[0]).Throw();
            }

            throw new AggregateException(failures);
        }

        return _disposed;
    }
}
