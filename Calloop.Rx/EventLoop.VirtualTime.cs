namespace Calloop.Rx;

public sealed partial class EventLoop
{
    /// <summary>Whether an observer or action threw and its exception has not come out of a dispatch yet.</summary>
    internal bool HasPendingFailures => _failures is not null;

    /// <summary>
    /// Virtual clock only: moves time forward by <paramref name="delta"/>, firing what falls due in deadline order
    /// (the clock stands at each deadline while its work runs, and work scheduled by it inside the window runs too),
    /// each step being a non-blocking dispatch, so fd, ping, channel and signal events are delivered as well. The
    /// clock moves on only once a poll at the current time ran no timer or action, so an event that such work caused
    /// (a ping, a message) is delivered at the time it was caused.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loop is not virtual, or this is called from a callback or while another thread dispatches.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative.</exception>
    public void AdvanceBy(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        AdvanceTo(delta >= DateTimeOffset.MaxValue - Now ? DateTimeOffset.MaxValue : Now + delta);
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
            // Settled: the last step at the current instant ran no timer or action. Until then the clock stays put and
            // the loop polls again, so real events, including pings and messages that timed work has just sent, are
            // delivered at the time they happen. Deliveries and idles alone do not unsettle an instant: an fd nobody
            // drains, or an idle that re-inserts itself, would otherwise hold the clock forever.
            bool settled = false;
            while (!_disposed)
            {
                long next;
                bool ready;
                lock (Gate)
                {
                    next = _timers.NextDeadline;
                    ready = _ready.Count > 0;
                }

                // What is runnable now (immediate work, the rest of an interrupted dispatch) runs before the clock
                // moves on, as it would on the real clock: the next deadline is never reached while work is ready.
                if (settled && !ready && _phase == Phase.None)
                {
                    // long.MaxValue: no timer, or only ones that never fire (even when the target is "forever").
                    if (next > to || next == long.MaxValue)
                    {
                        break;
                    }

                    if (next > NowTicks)
                    {
                        Volatile.Write(ref _virtualNow, next);
                    }
                }

                _ranWork = false;
                DispatchCore(0);
                settled = !_ranWork;
            }

            Volatile.Write(ref _virtualNow, to);
        }
        finally
        {
            LeaveDispatch(previous);
        }
    }
}
