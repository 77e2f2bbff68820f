using Calloop.Rx.Scheduling;

namespace Calloop.Rx.Async;

/// <summary>
/// A timer made by <see cref="LoopTimeProvider"/>: one entry of the loop's timer heap whose callback runs on the
/// loop thread in the timers phase. A periodic timer re-arms at previous deadline + period (no drift; a loop that
/// fell behind catches up one tick per dispatch). The callback runs in the <see cref="ExecutionContext"/> captured
/// when the timer was created, as <c>TimeProvider.System</c>'s timers do, or in the default one if flow was suppressed
/// then (see <see cref="CallbackContext"/>); the dispatching thread's context is the same after it. An exception it
/// throws comes out of <see cref="EventLoop.Dispatch(TimeSpan?)"/>.
/// </summary>
internal sealed class LoopTimer : WorkItem, ITimer
{
    // TimeProvider's contract: -1 ms (infinite) or 0 .. 0xFFFFFFFE ms.
    private const long MaxMilliseconds = 0xFFFFFFFE;

    private readonly EventLoop _loop;
    private readonly TimerCallback _callback;
    private readonly object? _state;
    private readonly ExecutionContext _context;
    private long _periodTicks;
    private int _version;
    private bool _armed;
    private bool _disposed;

    internal LoopTimer(EventLoop loop, TimerCallback callback, object? state)
    {
        _loop = loop;
        _callback = callback;
        _state = state;
        _context = CallbackContext.Capture();
    }

    internal static void Validate(TimeSpan value, string name)
    {
        long ms = (long)value.TotalMilliseconds;
        if ((ms < 0 && value != Timeout.InfiniteTimeSpan) || ms > MaxMilliseconds)
        {
            throw new ArgumentOutOfRangeException(name, value, "A timer's due time and period must be Timeout.InfiniteTimeSpan or between zero and 4294967294 milliseconds.");
        }
    }

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        Validate(dueTime, nameof(dueTime));
        Validate(period, nameof(period));
        lock (_loop.Gate)
        {
            if (_disposed || _loop.IsDisposed)
            {
                return false;
            }

            _loop.Work.Timers.Remove(this);
            _version++;
            _periodTicks = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            _armed = dueTime != Timeout.InfiniteTimeSpan;
            if (_armed)
            {
                Deadline = _loop.Time.DeadlineAfter(dueTime);
                _loop.InsertTimerLocked(this, Deadline);
            }

            return true;
        }
    }

    public void Dispose()
    {
        lock (_loop.Gate)
        {
            _disposed = true;
            _armed = false;
            _loop.Work.Timers.Remove(this);
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    internal override void Invoke()
    {
        int version;
        lock (_loop.Gate)
        {
            // Disarmed, or re-armed by Change after it was taken from the heap as due: this firing is stale.
            if (!_armed || HeapId >= 0)
            {
                return;
            }

            _armed = false;
            version = _version;
        }

        try
        {
            ExecutionContext.Run(_context, static s => ((LoopTimer)s!).RunCallback(), this);
        }
        catch (Exception e)
        {
            _loop.Cycle.RecordFailure(e);
        }

        lock (_loop.Gate)
        {
            // A Change or Dispose made by the callback has already decided what happens next.
            if (version == _version && !_disposed && !_loop.IsDisposed && _periodTicks > 0)
            {
                Deadline += _periodTicks;
                _armed = true;
                _loop.InsertTimerLocked(this, Deadline);
            }
        }
    }

    private void RunCallback() => _callback(_state);
}
