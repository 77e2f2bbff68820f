using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Calloop.Rx.Diagnostics;
using Calloop.Rx.Interop;
using Calloop.Rx.Scheduling;

namespace Calloop.Rx.Loop;

/// <summary>
/// One dispatch as a resumable state machine: wait, synthetic events, fd events, signalled sources, due timers,
/// immediate actions, idles. User code that throws stops the dispatch between two deliveries, with the phase and
/// cursors kept, and the next dispatch resumes there without waiting, so no event is lost or delivered twice. Also
/// holds the dispatch role (which thread may deliver) and the diagnostics monitor, which times each dispatch and
/// delivery while installed.
/// </summary>
/// <remarks>
/// Everything here is for the thread that holds the dispatch role, except <see cref="IsOnLoopThread"/> and
/// <see cref="TryEnter"/> (any thread) and the monitor's installation (under the gate).
/// </remarks>
internal sealed class DispatchCycle
{
    private readonly EventLoop _loop;
    private readonly Waiter _waiter;
    private readonly Epoll _epoll;
    private readonly ReadyList _ready;
    private readonly SourceTable _sources;
    private readonly WorkQueue _work;
    private readonly LoopTime _time;
    private readonly LifecycleHooks _hooks;
    private readonly List<(ITimedItem Item, long Deadline)> _due = [];
    private readonly List<(ILoopSource Source, Token Token, Readiness Readiness)> _synthetic = [];
    private int _dispatchThread;
    private Phase _phase;
    private int _eventCursor;
    private int _eventCount;
    private int _dueCursor;
    private int _syntheticCursor;
    private List<Exception>? _failures;
    private int _monitorUsers;

    /// <summary>Set when a timer or action ran; virtual-time stepping uses it to know an instant has settled.</summary>
    private bool _ranWork;

    public DispatchCycle(EventLoop loop, Waiter waiter, ReadyList ready, SourceTable sources, WorkQueue work, LoopTime time, LifecycleHooks hooks)
    {
        _loop = loop;
        _waiter = waiter;
        _epoll = waiter.Epoll;
        _ready = ready;
        _sources = sources;
        _work = work;
        _time = time;
        _hooks = hooks;
    }

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
    public ILoopSource? CurrentSource { get; private set; }

    /// <summary>
    /// The source whose terminal notification is being delivered (by the thread that holds the dispatch role), so that
    /// a re-subscription made from inside it, as Rx's <c>Repeat</c> and <c>Concat</c> make, can be told apart.
    /// </summary>
    public ILoopSource? EndingSource { get; set; }

    /// <summary>The installed monitor, or null when nobody observes the diagnostics (the hot paths test this one field).</summary>
    public LoopMonitor? Monitor { get; private set; }

    /// <summary>Any thread: whether the calling thread holds the dispatch role.</summary>
    public bool IsOnLoopThread => Volatile.Read(ref _dispatchThread) == Environment.CurrentManagedThreadId;

    /// <summary>Whether no dispatch is interrupted half-way.</summary>
    public bool IsIdle => _phase == Phase.None;

    /// <summary>Whether an observer or action threw and its exception has not come out of a dispatch yet.</summary>
    public bool HasPendingFailures => _failures is not null;

    /// <summary>Whether the dispatch in progress still has timers or actions it took to run (for the next deadline seen from inside a callback).</summary>
    public bool HasTakenWork => _work.HasRunning || _dueCursor < _due.Count;

    /// <summary>Any thread: takes the dispatch role if nobody holds it.</summary>
    public bool TryEnter() =>
        Interlocked.CompareExchange(ref _dispatchThread, Environment.CurrentManagedThreadId, 0) == 0;

    /// <summary>Takes the dispatch role; false if the loop was disposed meanwhile; throws on re-entry or a second thread.</summary>
    /// <exception cref="InvalidOperationException">The caller is inside a callback of this loop, or another thread dispatches.</exception>
    public bool Enter()
    {
        if (TryEnter())
        {
            return true;
        }

        if (_loop.IsDisposed)
        {
            return false;
        }

        int owner = Volatile.Read(ref _dispatchThread);
        throw new InvalidOperationException(owner == Environment.CurrentManagedThreadId
            ? "Dispatch cannot be re-entered from a callback of the same event loop."
            : $"The event loop is already dispatching on managed thread {owner}; one thread dispatches at a time.");
    }

    /// <summary>
    /// Gives up the dispatch role. A full fence, paired with the one in the disposer's attempt to take the role:
    /// either the disposer sees the role free and tears down itself, or the thread giving it up sees the disposal
    /// afterwards.
    /// </summary>
    public void Exit() => Interlocked.Exchange(ref _dispatchThread, 0);

    /// <summary>Runs (or resumes) one dispatch, timed when the monitor is installed.</summary>
    /// <exception cref="LoopException">epoll_wait failed.</exception>
    public void Run(long timeoutTicks)
    {
        if (Monitor is { } monitor)
        {
            RunMeasured(timeoutTicks, monitor);
        }
        else
        {
            RunCore(timeoutTicks);
        }
    }

    /// <summary>Virtual time: one non-blocking dispatch; whether it ran a timer or an action.</summary>
    public bool Step()
    {
        _ranWork = false;
        RunCore(0);
        return _ranWork;
    }

    /// <summary>Runs a timer source's event, due at <paramref name="deadline"/>, with the same deferral rules as fd events.</summary>
    public void DeliverTimer(ILoopSource source, long deadline)
    {
        FiredDeadline = deadline;
        Deliver(source, Readiness.ReadableOnly, default);
    }

    /// <summary>Loop thread: the deadline of the timer source being delivered by <see cref="DeliverTimer"/>.</summary>
    public long FiredDeadline { get; private set; }

    /// <summary>Records an exception thrown by user code; it comes out of the dispatch at the next boundary.</summary>
    public void RecordFailure(Exception e)
    {
        // Work that meets this loop's own disposal (ObserveOn's drain re-scheduling itself after an observer disposed
        // the loop) just ends, as it does on Rx's EventLoopScheduler: not an error of the dispatch.
        if (_loop.IsDisposed && e is ObjectDisposedException { ObjectName: nameof(EventLoop) })
        {
            return;
        }

        (_failures ??= []).Add(e);
    }

    /// <summary>Teardown: forgets the interrupted dispatch and the failures nobody will rethrow.</summary>
    public void Abandon()
    {
        _phase = Phase.None;
        _failures = null;
    }

    /// <summary>Installs the monitor for its first user. Caller holds the gate.</summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public LoopMonitor AcquireMonitorLocked()
    {
        _loop.ThrowIfDisposed();
        if (_monitorUsers++ == 0)
        {
            var monitor = new LoopMonitor(_loop);
            monitor.Adopt(_sources.TrackedLocked());
            Monitor = monitor;
        }

        return Monitor!;
    }

    /// <summary>Removes the monitor after its last user. Caller holds the gate.</summary>
    public void ReleaseMonitorLocked()
    {
        if (--_monitorUsers == 0)
        {
            LoopMonitor.Release(_sources.TrackedLocked());
            Monitor = null;
        }
    }

    private void RunMeasured(long timeoutTicks, LoopMonitor monitor)
    {
        long start = Stopwatch.GetTimestamp();
        monitor.DispatchStart = start;
        RunCore(timeoutTicks);
        monitor.DispatchStart = 0;
        monitor.Iterations++;
        monitor.DispatchTimestampTicks += Stopwatch.GetTimestamp() - start;
    }

    private void RunCore(long timeoutTicks)
    {
        if (_phase == Phase.None)
        {
            Wait(timeoutTicks);
        }

        if (_phase == Phase.Synthetic)
        {
            if (_loop.IsDisposed)
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
            if (_loop.IsDisposed)
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
                    if (data == Waiter.WakerToken)
                    {
                        _waiter.DrainWaker();
                    }

                    continue;
                }

                ILoopSource? source = _sources.Lookup(data);
                if (source is not null)
                {
                    Deliver(source, Readiness.FromEpoll(_epoll.EventsAt(i)), new Token(data));
                    if (ShouldStop())
                    {
                        return;
                    }
                }
            }

            long readyDeadline = _ready.Deadline();
            while (_ready.TryNext(readyDeadline, out Notifier? notifier))
            {
                if (notifier.TakeForDelivery())
                {
                    Deliver(notifier.Source, Readiness.ReadableOnly, default);
                    if (ShouldStop())
                    {
                        return;
                    }
                }
            }

            _ready.EndPass();
            _phase = Phase.Timers;
            CollectDueTimers();
        }

        if (_phase == Phase.Timers)
        {
            if (_loop.IsDisposed)
            {
                return;
            }

            while (_dueCursor < _due.Count)
            {
                (ITimedItem item, long deadline) = _due[_dueCursor++];
                _ranWork = true;
                item.Invoke(deadline);
                if (ShouldStop())
                {
                    return;
                }
            }

            _due.Clear();
            _phase = Phase.Actions;

            // Unlocked emptiness checks here and below are hints: work queued concurrently is seen by the next
            // dispatch, whose wait does not block because the pre-wait check (under the gate) sees it.
            if (_work.HasQueued)
            {
                lock (_loop.Gate)
                {
                    _work.BeginActionsLocked();
                }
            }
        }

        if (_phase == Phase.Actions)
        {
            if (_loop.IsDisposed)
            {
                return;
            }

            while (_work.TryTakeRunning(out WorkItem? item))
            {
                _ranWork = true;
                item.Invoke();
                if (ShouldStop())
                {
                    return;
                }
            }

            _phase = Phase.Idles;
            if (!_work.Idles.IsEmpty)
            {
                lock (_loop.Gate)
                {
                    _work.Idles.SwapLocked();
                }
            }
        }

        if (_phase == Phase.Idles)
        {
            if (_loop.IsDisposed)
            {
                return;
            }

            while (_work.Idles.TryTakeNext(out Action? idle))
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

    /// <summary>Before-sleep hooks, the wait, before-handle-events hooks, and the signalled sources to deliver after the fd events.</summary>
    private void Wait(long timeoutTicks)
    {
        LoopMonitor? monitor = Monitor;
        long waitStart = monitor is null ? 0 : Stopwatch.GetTimestamp();
        bool synthetic = !_hooks.IsEmpty && _hooks.RunBeforeSleep(_synthetic);
        int count = _waiter.Wait(timeoutTicks, poll: synthetic);
        if (monitor is not null)
        {
            monitor.WaitTimestampTicks += Stopwatch.GetTimestamp() - waitStart;
        }

        _eventCount = count;
        _eventCursor = 0;
        if (!_hooks.IsEmpty)
        {
            _hooks.RunBeforeHandleEvents(_epoll, count);
        }

        _ready.Take();
        _syntheticCursor = 0;
        _phase = Phase.Synthetic;
    }

    private void CollectDueTimers()
    {
        _dueCursor = 0;
        if (_work.Timers.Count == 0)
        {
            return;
        }

        long now = _time.NowTicks;
        lock (_loop.Gate)
        {
            _work.CollectDueLocked(now, _due);
        }
    }

    /// <summary>
    /// Delivers one event to one source and then applies what its callbacks asked for (Disable, Update, Remove).
    /// An exception escaping the source itself (not its observers) means the source failed: OnError, unregistered.
    /// </summary>
    private void Deliver(ILoopSource source, Readiness readiness, Token token)
    {
        if (Monitor is { } monitor)
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

    /// <summary>One event, timed and counted against its source (the monitor is installed).</summary>
    private void DeliverMeasured(ILoopSource source, Readiness readiness, Token token, LoopMonitor monitor)
    {
        long start = Stopwatch.GetTimestamp();
        DeliverCore(source, readiness, token);
        long elapsed = Stopwatch.GetTimestamp() - start;
        monitor.Events++;
        if (source.Record is { } record)
        {
            record.AddCallback(elapsed, _time.NowTicks);
            if (monitor.PublishesMetrics && LoopMetrics.RecordsCallbacks)
            {
                LoopMetrics.RecordCallback(elapsed, record.KindTag);
            }
        }
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

        return _loop.IsDisposed;
    }
}
