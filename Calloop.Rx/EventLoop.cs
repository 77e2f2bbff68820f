using System.Diagnostics;
using Calloop.Rx.Interop;
using Calloop.Rx.Collections;
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
    /// <summary>epoll data of the loop's own waker eventfd. Its slot, <see cref="Token.MaxSlot"/>, is never given to a source.</summary>
    private const ulong WakerToken = ulong.MaxValue;

    /// <summary>epoll data of the loop's own timerfd, in the same reserved slot as <see cref="WakerToken"/>.</summary>
    private const ulong TimerToken = ulong.MaxValue - (1UL << 24);

    private readonly Epoll _epoll;
    private readonly EventFd _waker;
    private readonly TimerFd? _timerFd;
    private readonly long _originTimestamp;
    private readonly DateTimeOffset _anchor;
    private readonly TimerHeap _timers = new();
    private Queue<WorkItem> _ready = new();
    private Queue<WorkItem> _running = new();
    private readonly IdleQueue _idles = new();
    private readonly SlotTable<ILoopSource> _tracked = new();
    private long _virtualNow;
    private long _spinTicks = TimeSpan.FromMicroseconds(20).Ticks;
    private int _wakeArmed;
    private int _wakeRequested;
    private volatile bool _stopRequested;
    private volatile bool _disposed;
    private bool _tornDown; // under the gate once set: owed completions queued after it are delivered by their caller

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
        IsVirtual = clock.IsVirtual;
        _originTimestamp = Stopwatch.GetTimestamp();
        _anchor = clock.IsVirtual ? clock.Start : DateTimeOffset.UtcNow;
        _epoll = new Epoll();
        try
        {
            _waker = new EventFd("EventLoop waker");
            AddOwnFd(_waker.Fd, Sys.EpollIn, WakerToken, "EventLoop waker");
            if (!IsVirtual)
            {
                // Edge-triggered: each expiry wakes one wait, and re-arming clears it, so it is never read.
                _timerFd = new TimerFd("EventLoop timer");
                AddOwnFd(_timerFd.Fd, Sys.EpollIn | Sys.EpollEt, TimerToken, "EventLoop timer");
            }
        }
        catch
        {
            _timerFd?.Dispose();
            _waker?.Dispose();
            _epoll.Dispose();
            throw;
        }

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
        get => TimeSpan.FromTicks(_spinTicks);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _spinTicks = value.Ticks;
        }
    }

    /// <summary>Whether the loop runs on a virtual clock (see <see cref="AdvanceBy(TimeSpan)"/>).</summary>
    public bool IsVirtual { get; }

    /// <summary>The loop's current time: the real clock, or the virtual clock's current value.</summary>
    public DateTimeOffset Now => ToDateTimeOffset(NowTicks);

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>The registration handle custom sources use to (un)register their fds.</summary>
    internal Poller Poller { get; }

    /// <summary>The lock guarding registrations, the timer heap and the queues. Never held while user code runs.</summary>
    internal Lock Gate { get; } = new();

    internal Epoll Epoll => _epoll;

    /// <summary>Loop time in ticks since the loop's origin.</summary>
    internal long NowTicks => IsVirtual ? Volatile.Read(ref _virtualNow) : Stopwatch.GetElapsedTime(_originTimestamp).Ticks;

    internal DateTimeOffset ToDateTimeOffset(long ticks) =>
        ticks >= long.MaxValue / 2 ? DateTimeOffset.MaxValue : _anchor.AddTicks(Math.Min(ticks, DateTimeOffset.MaxValue.Ticks - _anchor.Ticks));

    internal long ToTicks(DateTimeOffset instant) =>
        instant == DateTimeOffset.MaxValue ? long.MaxValue : (instant - _anchor).Ticks;

    /// <summary>Deadline for "now + <paramref name="due"/>", saturating at "never" on overflow (as calloop's <c>Duration::MAX</c>).</summary>
    internal long DeadlineAfter(TimeSpan due)
    {
        long now = NowTicks;
        long ticks = Math.Max(0, due.Ticks);
        return ticks >= long.MaxValue - now ? long.MaxValue : now + ticks;
    }

    /// <summary>
    /// Asks <see cref="Run(TimeSpan?, Action{EventLoop}?)"/> to return after the current dispatch, and wakes a blocked
    /// dispatch. Callable from any thread. Unlike calloop, one call both stops and wakes.
    /// </summary>
    public void Stop()
    {
        _stopRequested = true;
        WakeUp();
    }

    /// <summary>Makes a blocked (or the next) dispatch return without waiting. Callable from any thread; calls coalesce.</summary>
    public void WakeUp()
    {
        Volatile.Write(ref _wakeRequested, 1);
        WakeIfSleeping();
    }

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
        _stopRequested = false;
        long ticks = timeout is { } t ? t.Ticks : -1;
        while (DispatchOnce(ticks))
        {
            afterDispatch?.Invoke(this);
            if (_stopRequested || _disposed)
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
            return new IdleHandle(this, _idles.AddLocked(callback));
        }
    }

    internal void CancelIdle(long id)
    {
        lock (Gate)
        {
            _idles.CancelLocked(id);
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
    internal void Enqueue(WorkItem item)
    {
        lock (Gate)
        {
            ThrowIfDisposed();
            _ready.Enqueue(item);
        }

        WakeIfSleeping();
    }

    /// <summary>
    /// Queues an owed notification for the next actions phase, even on a disposed loop whose teardown has not run yet
    /// (teardown delivers it then). False once teardown has taken the queues: the caller delivers it itself. The
    /// caller holds the gate and wakes the loop after releasing it.
    /// </summary>
    internal bool EnqueueOwedLocked(OwedCompletion item)
    {
        if (_tornDown)
        {
            return false;
        }

        _ready.Enqueue(item);
        return true;
    }

    /// <summary>Inserts a timed item. Caller must hold the gate; the loop is woken if the item became the head.</summary>
    internal void InsertTimerLocked(ITimedItem item)
    {
        _timers.Insert(item);
        if (_timers.IsHead(item))
        {
            WakeIfSleeping();
        }
    }

    /// <summary>Removes a timed item if present. Caller must hold the gate.</summary>
    internal bool RemoveTimerLocked(ITimedItem item) => _timers.Remove(item);

    /// <summary>Writes the waker only if the loop is (about to be) blocked in epoll; bursts cost one write.</summary>
    internal void WakeIfSleeping()
    {
        if (Volatile.Read(ref _wakeArmed) == 1 && Interlocked.Exchange(ref _wakeArmed, 0) == 1)
        {
            _waker.Write(1);
        }
    }

    private void AddOwnFd(int fd, uint events, ulong token, string name)
    {
        int errno = _epoll.Add(fd, events, token);
        if (errno != 0)
        {
            throw new LoopException("epoll_ctl(ADD)", errno, fd, name);
        }
    }

    /// <summary>
    /// Adds a source to the table disposal walks: sources owning OS resources from creation, others while registered.
    /// A slot table, so that the churn of short-lived timers costs O(1), no allocation, and touches no other source.
    /// Caller holds the gate.
    /// </summary>
    internal void TrackLocked(ILoopSource source)
    {
        if (source.TrackedSlot == 0)
        {
            source.TrackedSlot = _tracked.Add(source) + 1;
            _monitor?.OnTracked(source);
        }
    }

    /// <summary>Caller holds the gate.</summary>
    internal void UntrackLocked(ILoopSource source)
    {
        if (source.TrackedSlot != 0)
        {
            _tracked.Remove(source.TrackedSlot - 1);
            source.TrackedSlot = 0;
            _monitor?.OnUntracked(source);
        }
    }

    /// <summary>
    /// Releases everything, in an order that lets nothing stop it: sources are unregistered and release what they
    /// own, the loop's own fds are closed, and only then does user code run (<c>OnCompleted</c>, including those
    /// still queued, and async work that is owed an answer), each call isolated from the others.
    /// </summary>
    private void Teardown()
    {
        if (_tornDown)
        {
            return;
        }

        _phase = Phase.None;
        var sources = new List<ILoopSource>();
        var owed = new List<OwedCompletion>();
        lock (Gate)
        {
            _tornDown = true;
            for (int id = 0; id < _tracked.HighWater; id++)
            {
                if (_tracked[id] is { } source)
                {
                    source.TrackedSlot = 0;
                    sources.Add(source);
                }
            }

            _tracked.Release();
            TakeOwed(_running, owed);
            TakeOwed(_ready, owed);
            _idles.ClearLocked();
            _timers.Release();
        }

        var errors = new List<Exception>();
        foreach (ILoopSource source in sources)
        {
            if (source.End(errors) is { } completion)
            {
                owed.Add(completion);
            }
        }

        _timerFd?.Dispose();
        _waker.Dispose();
        _epoll.Dispose();
        _failures = null;

        foreach (OwedCompletion item in owed)
        {
            item.Deliver(errors);
        }

        TearDownAsyncWork(errors);
        if (errors.Count > 0)
        {
            throw new AggregateException("Observers threw while the event loop was disposed.", errors);
        }
    }

    /// <summary>Empties a work queue, keeping the items that owe someone an answer (a source's end). Caller holds the gate.</summary>
    private static void TakeOwed(Queue<WorkItem> queue, List<OwedCompletion> owed)
    {
        while (queue.TryDequeue(out WorkItem? item))
        {
            if (item is OwedCompletion completion)
            {
                owed.Add(completion);
            }
        }
    }
}
