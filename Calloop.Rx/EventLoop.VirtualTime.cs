namespace Calloop.Rx;

public sealed partial class EventLoop
{
    /// <summary>Whether an observer or action threw and its exception has not come out of a dispatch yet.</summary>
    internal bool HasPendingFailures => _failures is not null;

    /// <summary>
    /// Virtual clock only: moves time forward by <paramref name="delta"/>, firing what falls due in deadline order
    /// (the clock stands at each deadline while its work runs, and work scheduled by it inside the window runs too),
    /// each step being a non-blocking dispatch, so fd, ping, channel and signal events are delivered as well.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loop is not virtual, or this is called from a callback or while another thread dispatches.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative.</exception>
    public void AdvanceBy(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        AdvanceTo(Now + delta);
    }

    /// <summary>Virtual clock only: moves time forward to <paramref name="target"/>; see <see cref="AdvanceBy(TimeSpan)"/>.</summary>
    /// <exception cref="InvalidOperationException">The loop is not virtual, or this is called from a callback or while another thread dispatches.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="target"/> is before <see cref="Now"/>.</exception>
    public void AdvanceTo(DateTimeOffset target)
    {
        if (!IsVirtual)
        {
            throw new InvalidOperationException("AdvanceBy/AdvanceTo need a loop created with LoopClock.Virtual(...).");
        }

        ThrowIfDisposed();
        long to = ToTicks(target);
        if (to < NowTicks)
        {
            throw new ArgumentOutOfRangeException(nameof(target), target, $"Virtual time cannot go backwards (now {Now:O}).");
        }

        if (!EnterDispatch())
        {
            ThrowHelper.ThrowLoopDisposed();
        }

        SynchronizationContext? previous = InstallSynchronizationContext();
        try
        {
            while (!_disposed)
            {
                long next;
                bool ready;
                lock (Gate)
                {
                    next = _timers.NextDeadline;
                    ready = _ready.Count > 0;
                }

                if (next > to && !ready && _phase == Phase.None)
                {
                    break;
                }

                if (next <= to && next > NowTicks)
                {
                    Volatile.Write(ref _virtualNow, next);
                }

                DispatchCore(0);
            }

            Volatile.Write(ref _virtualNow, to);
        }
        finally
        {
            try
            {
                LeaveDispatch();
            }
            finally
            {
                System.Threading.SynchronizationContext.SetSynchronizationContext(previous);
            }
        }
    }
}
