namespace Calloop.Rx;

public sealed partial class EventLoop
{
    /// <summary>The virtual clock's starting time (<see cref="LoopClock.Start"/>), or null on the real clock.</summary>
    /// <remarks>Any thread; it never changes.</remarks>
    public DateTimeOffset? VirtualStart => IsVirtual ? _time.Anchor : null;

    /// <summary>
    /// When the loop next has work to run: <see cref="Now"/> (or earlier) when immediate work is waiting, otherwise
    /// the earliest deadline of a timer or timed action; null when nothing is scheduled (a timer that never fires
    /// does not count). Fd, ping, channel and signal events are not scheduled work and do not count.
    /// </summary>
    /// <remarks>Any thread; a snapshot, which other threads may change at once. Inside a callback it also counts
    /// the work still to run in the dispatch in progress.</remarks>
    public DateTimeOffset? NextDeadline
    {
        get
        {
            long next;
            bool immediate;
            lock (Gate)
            {
                next = _work.Timers.NextDeadline;
                immediate = _work.QueuedCountLocked > 0 || _ready.HasDeferred;
            }

            if (immediate || (IsOnLoopThread && _cycle.HasTakenWork))
            {
                next = Math.Min(next, _time.NowTicks);
            }

            return next == long.MaxValue ? null : _time.ToDateTimeOffset(next);
        }
    }

    /// <summary>
    /// Virtual clock only: how many steps (non-blocking dispatches) <see cref="AdvanceBy(TimeSpan)"/>,
    /// <see cref="AdvanceTo(DateTimeOffset)"/> and <see cref="AdvanceUntilIdle"/> take at one instant before they
    /// decide that work re-schedules itself there forever and throw. Default 100,000; each step runs all the work
    /// due at that point, so only a chain of work that schedules its successor at the same instant (Rx's recursive
    /// scheduling of <c>Observable.Range</c> on the loop, one element per step) comes near it legitimately.
    /// Set it from the thread that advances the clock.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxStepsPerInstant
    {
        get => _time.MaxStepsPerInstant;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _time.MaxStepsPerInstant = value;
        }
    }

    /// <summary>
    /// Virtual clock only: whether <see cref="Scheduler"/> work that is due when it is scheduled (immediate work, a zero
    /// or negative delay, an absolute time at or before <see cref="Now"/>, a zero-period periodic action's first run)
    /// runs one tick (100 ns) later instead of at the current instant. This is the rule of Rx's <c>TestScheduler</c>,
    /// under which Rx.NET's published operator expectations are written (<c>Observable.Return(1, scheduler)</c> subscribed
    /// at tick 200 delivers at 201); Calloop.Rx.Testing's <c>LoopTestScheduler</c> turns it on. Such work then waits in
    /// the timer heap, so everything due at one tick runs in (deadline, scheduling order), whatever way it was scheduled.
    /// Off by default: then due work is immediate work. Timer sources, <see cref="TimeProvider"/> timers and
    /// continuations posted to the loop's <see cref="System.Threading.SynchronizationContext"/> are not affected. Set
    /// it before scheduling work, from the thread that advances the clock.
    /// </summary>
    /// <exception cref="InvalidOperationException">Set to true on a loop that is not virtual.</exception>
    public bool DueWorkWaitsOneTick
    {
        get => _time.DueWorkWaitsOneTick;
        set
        {
            if (value)
            {
                ThrowIfNotVirtual();
            }

            _time.DueWorkWaitsOneTick = value;
        }
    }

    /// <summary>
    /// Virtual clock only: moves time forward by <paramref name="delta"/>, firing what falls due in deadline order
    /// (the clock stands at each deadline while its work runs, and work scheduled by it inside the window runs too),
    /// each step being a non-blocking dispatch, so fd, ping, channel and signal events are delivered as well. The
    /// clock moves on only once a poll at the current time ran no timer or action, so an event that such work caused
    /// (a ping, a message) is delivered at the time it was caused. Call it from one thread at a time, not from a
    /// callback; the callbacks run on the calling thread.
    /// </summary>
    /// <remarks>An exception thrown by an observer or action comes out of this method as from
    /// <see cref="Dispatch(TimeSpan?)"/>, with the clock at the instant where it was thrown; the work not yet run
    /// stays scheduled, and the next advance runs it.</remarks>
    /// <exception cref="InvalidOperationException">The loop is not virtual; or this is called from a callback or while
    /// another thread dispatches; or work kept running at one instant for more than <see cref="MaxStepsPerInstant"/>
    /// steps (the message names the instant and the limit; the clock stays at that instant and the loop can still be
    /// used and disposed).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public void AdvanceBy(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        AdvanceTo(delta >= DateTimeOffset.MaxValue - Now ? DateTimeOffset.MaxValue : Now + delta);
    }

    /// <summary>Virtual clock only: moves time forward to <paramref name="target"/>; see <see cref="AdvanceBy(TimeSpan)"/>.</summary>
    /// <exception cref="InvalidOperationException">As for <see cref="AdvanceBy(TimeSpan)"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="target"/> is before <see cref="Now"/>.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public void AdvanceTo(DateTimeOffset target)
    {
        ThrowIfNotVirtual();
        ThrowIfDisposed();
        long to = _time.ToTicks(target);
        if (to < _time.NowTicks)
        {
            throw new ArgumentOutOfRangeException(nameof(target), target, $"Virtual time cannot go backwards (now {Now:O}).");
        }

        Advance(to, stopAtTarget: true);
    }

    /// <summary>
    /// Virtual clock only: moves time forward, firing everything in deadline order as <see cref="AdvanceBy(TimeSpan)"/>
    /// does, until no timer, timed or immediate action, or pending fd, ping, channel or signal event remains (the
    /// virtual-time counterpart of Rx's <c>TestScheduler.Start()</c>). The clock stays at the last instant where work
    /// ran. Timers that never fire are ignored; work that always schedules more later (a periodic timer) keeps it
    /// going, one instant after another, so bound such tests with <see cref="AdvanceTo(DateTimeOffset)"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">As for <see cref="AdvanceBy(TimeSpan)"/>.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public void AdvanceUntilIdle()
    {
        ThrowIfNotVirtual();
        ThrowIfDisposed();
        Advance(long.MaxValue, stopAtTarget: false);
    }

    /// <summary>
    /// Virtual clock only: lets <paramref name="duration"/> pass without running anything, like Rx's
    /// <c>TestScheduler.Sleep</c>: a callback that stands for slow work moves the clock on. Work that falls due
    /// meanwhile runs after the current item, in deadline order, within the advance in progress even past its
    /// target. Immediate work still runs before timers that fell due during the sleep.
    /// </summary>
    /// <remarks>Call it from a callback on the loop thread, or from any one thread while nobody dispatches.</remarks>
    /// <exception cref="InvalidOperationException">The loop is not virtual, or another thread is dispatching.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="duration"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public void Sleep(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        ThrowIfNotVirtual();
        ThrowIfDisposed();
        if (IsOnLoopThread)
        {
            _time.SetVirtualNow(_time.DeadlineAfter(duration));
            return;
        }

        // Taking the dispatch role keeps a dispatch on another thread from reading the clock while it moves.
        if (!_cycle.Enter())
        {
            ThrowHelper.ThrowLoopDisposed();
        }

        SynchronizationContext? current = System.Threading.SynchronizationContext.Current;
        try
        {
            _time.SetVirtualNow(_time.DeadlineAfter(duration));
        }
        finally
        {
            LeaveDispatch(current);
        }
    }

    private void ThrowIfNotVirtual()
    {
        if (!IsVirtual)
        {
            throw new InvalidOperationException("AdvanceBy, AdvanceTo, AdvanceUntilIdle, Sleep and DueWorkWaitsOneTick need a loop created with LoopClock.Virtual(...).");
        }
    }

    /// <summary>Steps the virtual clock up to <paramref name="to"/> (or until idle), leaving it there when <paramref name="stopAtTarget"/>.</summary>
    private void Advance(long to, bool stopAtTarget)
    {
        if (!_cycle.Enter())
        {
            ThrowHelper.ThrowLoopDisposed();
        }

        SynchronizationContext? previous = _async.InstallSynchronizationContext();
        try
        {
            // Settled: the last step at the current instant ran no timer or action. Until then the clock stays put and
            // the loop polls again, so real events, including pings and messages that timed work has just sent, are
            // delivered at the time they happen. Deliveries and idles alone do not unsettle an instant: an fd nobody
            // drains, or an idle that re-inserts itself, would otherwise hold the clock forever.
            bool settled = false;
            long instant = _time.NowTicks;
            int steps = 0;
            while (!_disposed)
            {
                long next;
                bool ready;
                lock (Gate)
                {
                    next = _work.Timers.NextDeadline;
                    ready = _work.QueuedCountLocked > 0 || _ready.HasDeferred;
                }

                // What is runnable now (immediate work, the rest of an interrupted dispatch) runs before the clock
                // moves on, as it would on the real clock: the next deadline is never reached while work is ready.
                if (settled && !ready && _cycle.IsIdle)
                {
                    // long.MaxValue: no timer, or only ones that never fire (even when the target is "forever").
                    // A Sleep may have carried the clock past the target: what fell due meanwhile still runs.
                    if (next > Math.Max(to, _time.NowTicks) || next == long.MaxValue)
                    {
                        break;
                    }

                    if (next > _time.NowTicks)
                    {
                        _time.SetVirtualNow(next);
                    }
                }

                CountStep(ref instant, ref steps);
                settled = !_cycle.Step();
            }

            if (stopAtTarget && to > _time.NowTicks)
            {
                _time.SetVirtualNow(to);
            }
        }
        finally
        {
            LeaveDispatch(previous);
        }
    }

    /// <summary>Counts a step at the current instant; throws once there have been more than <see cref="MaxStepsPerInstant"/>.</summary>
    private void CountStep(ref long instant, ref int steps)
    {
        long now = _time.NowTicks;
        if (now != instant)
        {
            instant = now;
            steps = 0;
        }

        if (++steps > _time.MaxStepsPerInstant)
        {
            throw new InvalidOperationException(
                $"Virtual time is stuck at {Now:O}: work kept running at that instant for more than {_time.MaxStepsPerInstant} steps " +
                "(MaxStepsPerInstant), so something re-schedules itself there forever, such as a zero-period SchedulePeriodic, " +
                "Repeat of an immediate value, or a timer re-armed at its own deadline. The clock stays at that instant.");
        }
    }
}
