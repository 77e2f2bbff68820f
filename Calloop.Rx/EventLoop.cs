using Calloop.Rx.Diagnostics;
using Calloop.Rx.Interop;
using Calloop.Rx.Loop;
using Calloop.Rx.Scheduling;

namespace Calloop.Rx;

/// <summary>
/// A callback loop over one epoll instance, in the manner of Rust's calloop. Whoever calls
/// <see cref="Dispatch(TimeSpan?)"/> or <see cref="Run(TimeSpan?, Action{EventLoop}?)"/> is the loop thread:
/// every event source's notifications and every action scheduled on <see cref="Scheduler"/> run there, one at a
/// time, only inside a dispatch.
/// </summary>
/// <remarks>
/// <para>Thread safety: <see cref="Stop"/>, <see cref="WakeUp"/>, <see cref="InsertIdle(Action)"/>, the source
/// factories, <c>Subscribe</c>, subscription disposal, scheduling and the senders of pings and channels may be
/// used from any thread and never wait for the loop. <see cref="Dispatch(TimeSpan?)"/>, <see cref="Run(TimeSpan?, Action{EventLoop}?)"/>
/// and the virtual-time methods run on one thread at a time.</para>
/// <para>One dispatch: wait for fds (bounded by the earliest timer) → fd, ping, channel and signal events in kernel
/// order → due timers and timed actions by (deadline, scheduling order) → immediate actions → idle callbacks.</para>
/// </remarks>
public sealed partial class EventLoop : IDisposable
{
    // The machinery, one job each (see docs/architecture.md). Readonly, so each is one load from here.
    private readonly LoopTime _time;
    private readonly ReadyList _ready = new();
    private readonly WorkQueue _work = new();
    private readonly SourceTable _sources = new();
    private readonly LifecycleHooks _hooks = new();
    private readonly Waiter _waiter;
    private readonly DispatchCycle _cycle;
    private readonly AsyncIntegration _async;
    private LoopDiagnostics? _diagnostics;

    // Cancelled by Dispose itself, not by the teardown (which may wait for another thread's dispatch to finish), so
    // that senders blocked for room in a bounded channel learn at once that the loop is gone. Never disposed: it owns
    // no timer and no wait handle, and a sender may still register with it after the teardown.
    private readonly CancellationTokenSource _disposal = new();
    private volatile bool _disposed;

    /// <summary>Creates a loop on the real monotonic clock.</summary>
    /// <exception cref="LoopException">epoll or the waker eventfd could not be created.</exception>
    /// <exception cref="PlatformNotSupportedException">The operating system is not Linux.</exception>
    public EventLoop()
        : this(LoopClock.Real)
    {
    }

    /// <summary>Creates a loop on the given clock: <see cref="LoopClock.Real"/>, or <see cref="LoopClock.Virtual(DateTimeOffset)"/> for deterministic tests.</summary>
    /// <exception cref="LoopException">epoll or the waker eventfd could not be created.</exception>
    /// <exception cref="PlatformNotSupportedException">The operating system is not Linux.</exception>
    public EventLoop(LoopClock clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        LoopPlatform.ThrowIfUnsupported(OperatingSystem.IsLinux());
        _time = new LoopTime(clock);
        _waiter = new Waiter(this, _ready, _work, _time);
        _cycle = new DispatchCycle(this, _waiter, _ready, _sources, _work, _time, _hooks);
        _async = new AsyncIntegration(this);
        Scheduler = new LoopScheduler(this);
        Poller = new Poller(this);
    }

    /// <summary>The loop as an Rx scheduler: work runs on the loop thread during dispatch.</summary>
    public LoopScheduler Scheduler { get; }

    /// <summary>
    /// How long a dispatch that is about to block keeps polling first (default 20 µs). It trades a little CPU each
    /// time the loop goes idle for wake-up latency: a ping or message from another core is seen in about a
    /// microsecond instead of the tens of microseconds a sleep and wake-up cost. <see cref="TimeSpan.Zero"/> never spins.
    /// Set it from the loop thread or before the loop runs.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan SpinBeforeWait
    {
        get => TimeSpan.FromTicks(_waiter.SpinTicks);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _waiter.SpinTicks = value.Ticks;
        }
    }

    /// <summary>Whether the loop runs on a virtual clock (see <see cref="AdvanceBy(TimeSpan)"/>).</summary>
    public bool IsVirtual => _time.IsVirtual;

    /// <summary>The loop's current time: the real clock, or the virtual clock's current value.</summary>
    public DateTimeOffset Now => _time.ToDateTimeOffset(_time.NowTicks);

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>The registration handle custom sources use to (un)register their fds.</summary>
    internal Poller Poller { get; }

    /// <summary>The lock guarding registrations, the timer heap and the queues. Never held while user code runs.</summary>
    internal Lock Gate { get; } = new();

    /// <summary>The loop's epoll instance, for sources that add their own fds.</summary>
    internal Epoll Epoll => _waiter.Epoll;

    /// <summary>The loop's clock.</summary>
    internal LoopTime Time => _time;

    /// <summary>Registrations, fd owners and tracked sources.</summary>
    internal SourceTable Sources => _sources;

    /// <summary>The dispatch state machine and the dispatch role.</summary>
    internal DispatchCycle Cycle => _cycle;

    /// <summary>Immediate work, the timer heap and idles.</summary>
    internal WorkQueue Work => _work;

    /// <summary>The per-dispatch hooks of custom sources.</summary>
    internal LifecycleHooks Hooks => _hooks;

    /// <summary>The synchronization context, task scheduler, time provider and async work owed an answer on disposal.</summary>
    internal AsyncIntegration Async => _async;

    /// <summary>
    /// Asks <see cref="Run(TimeSpan?, Action{EventLoop}?)"/> to return after the current dispatch, and wakes a blocked
    /// dispatch. Callable from any thread. Unlike calloop, one call both stops and wakes.
    /// </summary>
    public void Stop() => _waiter.RequestStop();

    /// <summary>Makes a blocked (or the next) dispatch return without waiting. Callable from any thread; calls coalesce.</summary>
    public void WakeUp() => _waiter.RequestWake();

    /// <summary>
    /// Dispatches until <see cref="Stop"/> is called. Like calloop, a <see cref="Stop"/> issued before
    /// <c>Run</c> starts is forgotten; <paramref name="afterDispatch"/> runs after every dispatch, including the one
    /// in which <see cref="Stop"/> was called.
    /// </summary>
    /// <param name="timeout">Longest wait of each dispatch; null waits until something happens.</param>
    /// <param name="afterDispatch">Called on the loop thread after each dispatch, or null.</param>
    /// <exception cref="ObjectDisposedException">The loop was disposed before the call (disposal during the run ends it normally).</exception>
    public void Run(TimeSpan? timeout = null, Action<EventLoop>? afterDispatch = null)
    {
        ValidateTimeout(timeout);
        ThrowIfDisposed();
        _waiter.ClearStop();
        long ticks = timeout is { } t ? t.Ticks : -1;
        while (DispatchOnce(ticks))
        {
            afterDispatch?.Invoke(this);
            if (_waiter.StopRequested || _disposed)
            {
                break;
            }
        }
    }

    /// <summary>
    /// Queues <paramref name="callback"/> to run once, after the events of the current dispatch (or of the next one
    /// when called outside a dispatch or from another idle). Pending idles do not shorten a dispatch's wait.
    /// </summary>
    /// <returns>A handle whose disposal cancels the callback if it has not run yet.</returns>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IdleHandle InsertIdle(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (Gate)
        {
            ThrowIfDisposed();
            return new IdleHandle(this, _work.Idles.AddLocked(callback));
        }
    }

    internal void CancelIdle(long id)
    {
        lock (Gate)
        {
            _work.Idles.CancelLocked(id);
        }
    }

    /// <summary>
    /// Disposes the loop: every registration and every fd the loop opened is released, then every live subscriber
    /// (including one owed the end of a removed source) gets <c>OnCompleted</c>; queued work is dropped. Once this
    /// returns, on any thread, <c>Subscribe</c>, <c>Schedule</c> and <c>Dispatch</c> throw
    /// <see cref="ObjectDisposedException"/> and senders report <see cref="SendResult.Closed"/>.
    /// </summary>
    /// <remarks>
    /// Called on the loop thread inside a callback, the rest of that callback runs and teardown happens when the
    /// dispatch returns. Called from another thread while a dispatch runs, the loop is woken and that dispatch
    /// tears down on its way out (its <c>Dispatch</c> call then returns normally, or throws what observers threw).
    /// Otherwise teardown runs here, and so do the <c>OnCompleted</c> calls. Observers see the loop's and sources'
    /// fds already closed.
    /// </remarks>
    /// <exception cref="AggregateException">Observers threw during teardown; all of them were still called.</exception>
    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _disposal.Cancel();
        if (!TryTearDown())
        {
            WakeUp();
        }
    }

    internal void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowLoopDisposed();
        }
    }

    private static void ValidateTimeout(TimeSpan? timeout)
    {
        if (timeout is { } t && t < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), t, "A loop timeout cannot be negative; use TimeSpan.Zero to poll or null to wait until something happens.");
        }
    }

    /// <summary>Queues work to run in the next actions phase. Caller need not hold the gate.</summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    internal void Enqueue(WorkItem item)
    {
        lock (Gate)
        {
            ThrowIfDisposed();
            _work.EnqueueLocked(item);
        }

        _waiter.WakeIfSleeping();
    }

    /// <summary>Queues work for the next actions phase; false (nothing queued) once the loop is disposed.</summary>
    internal bool TryEnqueue(WorkItem item)
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return false;
            }

            _work.EnqueueLocked(item);
        }

        _waiter.WakeIfSleeping();
        return true;
    }

    /// <summary>How many immediate items wait for the next actions phase (for tests that must know a cross-thread post has landed).</summary>
    internal int QueuedWorkCount
    {
        get
        {
            lock (Gate)
            {
                return _work.QueuedCountLocked;
            }
        }
    }

    /// <summary>Inserts a timed item. Caller must hold the gate; the loop is woken if the item became the head.</summary>
    internal void InsertTimerLocked(ITimedItem item, long deadline)
    {
        _work.Timers.Insert(item, deadline);
        if (_work.Timers.IsHead(item))
        {
            _waiter.WakeIfSleeping();
        }
    }

    /// <summary>Any thread: queues a signalled source for the loop and wakes the loop if it is blocked.</summary>
    internal void QueueReady(Notifier notifier)
    {
        _ready.Push(notifier);
        _waiter.WakeIfSleeping();
    }

    /// <summary>Writes the waker only if the loop is (about to be) blocked in epoll; bursts cost one write.</summary>
    internal void WakeIfSleeping() => _waiter.WakeIfSleeping();

    /// <summary>
    /// Adds a source to the table disposal walks: sources owning OS resources from creation, others while registered.
    /// Caller holds the gate.
    /// </summary>
    internal void TrackLocked(ILoopSource source)
    {
        if (_sources.TrackLocked(source))
        {
            _cycle.Monitor?.OnTracked(source);
        }
    }

    /// <summary>Caller holds the gate.</summary>
    internal void UntrackLocked(ILoopSource source)
    {
        if (_sources.UntrackLocked(source))
        {
            _cycle.Monitor?.OnUntracked(source);
        }
    }

    /// <summary>
    /// Releases everything, in an order that lets nothing stop it: sources are unregistered and release what they
    /// own, the loop's own fds are closed, and only then does user code run (<c>OnCompleted</c>, including those
    /// still queued, and async work that is owed an answer), each call isolated from the others. Caller holds the
    /// dispatch role.
    /// </summary>
    private void Teardown()
    {
        if (_work.IsClosed)
        {
            return;
        }

        var sources = new List<ILoopSource>();
        var owed = new List<OwedCompletion>();
        lock (Gate)
        {
            _sources.TakeTrackedLocked(sources);
            _work.CloseLocked(owed);
        }

        var errors = new List<Exception>();
        foreach (ILoopSource source in sources)
        {
            if (source.End(errors) is { } completion)
            {
                owed.Add(completion);
            }
        }

        _waiter.Dispose();
        _cycle.Abandon();

        foreach (OwedCompletion item in owed)
        {
            item.Deliver(errors);
        }

        _async.TearDown(errors);
        if (errors.Count > 0)
        {
            throw new AggregateException("Observers threw while the event loop was disposed.", errors);
        }
    }
}
