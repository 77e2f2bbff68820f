using System.Reactive.Concurrency;
using Calloop.Rx.Scheduling;

namespace Calloop.Rx;

/// <summary>
/// The loop as an Rx scheduler. Work runs on the loop thread, during dispatch: due timed work with the timers
/// (by deadline, then scheduling order), immediate work after the events of the dispatch. Work scheduled while
/// work runs goes to a later phase or dispatch, never inline. Work due when it is scheduled (a zero or negative
/// delay, an absolute time equal to <see cref="Now"/>, the first run of a zero-period periodic action) is immediate
/// work, so immediate and zero-delay work run in one FIFO, in the order they were scheduled, as on Rx's
/// virtual-time schedulers. Under <see cref="EventLoop.DueWorkWaitsOneTick"/> (a virtual loop driven as Rx's
/// <c>TestScheduler</c>) such work runs one tick later instead, in the timer heap.
/// </summary>
/// <remarks>
/// <para>Rules callers may rely on: equal due times run in scheduling order, whether scheduled as immediate or as
/// due now; timed work never runs early;
/// negative relative due times are treated as zero (as Rx operators expect); an absolute due time is turned into
/// a loop deadline once, when scheduled; cancelled timed work leaves the heap at once; scheduling is thread-safe
/// and wakes a blocked dispatch; an exception thrown by work comes out of <see cref="EventLoop.Dispatch(TimeSpan?)"/>.</para>
/// <para>It offers <see cref="ISchedulerPeriodic"/> and <see cref="IStopwatchProvider"/> but never
/// <see cref="ISchedulerLongRunning"/>, which would let Rx park the loop thread.</para>
/// </remarks>
public sealed class LoopScheduler : IScheduler, ISchedulerPeriodic, IStopwatchProvider, IServiceProvider
{
    private readonly EventLoop _loop;

    internal LoopScheduler(EventLoop loop) => _loop = loop;

    /// <summary>The loop's clock (see <see cref="EventLoop.Now"/>).</summary>
    public DateTimeOffset Now => _loop.Now;

    /// <summary>Schedules <paramref name="action"/> to run in the next dispatch's actions phase.</summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IDisposable Schedule<TState>(TState state, Func<IScheduler, TState, IDisposable> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return EnqueueDue(new ScheduledAction<TState>(_loop, state, action));
    }

    /// <summary>
    /// Schedules <paramref name="action"/> after <paramref name="dueTime"/>; zero or negative is immediate work
    /// (queued behind the immediate work already scheduled, as by <see cref="Schedule{TState}(TState, Func{IScheduler, TState, IDisposable})"/>).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IDisposable Schedule<TState>(TState state, TimeSpan dueTime, Func<IScheduler, TState, IDisposable> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var item = new ScheduledAction<TState>(_loop, state, action);
        return dueTime <= TimeSpan.Zero ? EnqueueDue(item) : ScheduleAt(item, _loop.Time.DeadlineAfter(dueTime));
    }

    /// <summary>
    /// Schedules <paramref name="action"/> at <paramref name="dueTime"/> on the loop's clock. Exactly <see cref="Now"/>
    /// is immediate work (see <see cref="Schedule{TState}(TState, TimeSpan, Func{IScheduler, TState, IDisposable})"/>);
    /// a past time runs in the next dispatch's timers phase, in deadline order with the timers, before immediate work.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IDisposable Schedule<TState>(TState state, DateTimeOffset dueTime, Func<IScheduler, TState, IDisposable> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var item = new ScheduledAction<TState>(_loop, state, action);
        long deadline = _loop.Time.ToTicks(dueTime);
        long now = _loop.Time.NowTicks;
        return deadline == now || (deadline < now && _loop.DueWorkWaitsOneTick) ? EnqueueDue(item) : ScheduleAt(item, deadline);
    }

    /// <summary>Runs <paramref name="action"/> every <paramref name="period"/>, threading the state; runs never overlap and do not drift.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IDisposable SchedulePeriodic<TState>(TState state, TimeSpan period, Func<TState, TState> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentOutOfRangeException.ThrowIfLessThan(period, TimeSpan.Zero);
        var item = new PeriodicAction<TState>(_loop, state, period, action);
        if (period == TimeSpan.Zero)
        {
            // Its first run is due now, like any zero-delay work; later runs re-arm from this deadline.
            item.Deadline = _loop.Time.NowTicks;
            return EnqueueDue(item);
        }

        return ScheduleAt(item, _loop.Time.DeadlineAfter(period));
    }

    /// <summary>A stopwatch on the loop's clock (virtual in a virtual-clock loop).</summary>
    public IStopwatch StartStopwatch() => new LoopStopwatch(_loop);

    /// <summary>Answers <see cref="ISchedulerPeriodic"/> and <see cref="IStopwatchProvider"/>; null for anything else, including <see cref="ISchedulerLongRunning"/>.</summary>
    public object? GetService(Type serviceType) =>
        serviceType == typeof(ISchedulerPeriodic) || serviceType == typeof(IStopwatchProvider) ? this : null;

    /// <summary>Work due now: immediate work, or the next tick's under <see cref="EventLoop.DueWorkWaitsOneTick"/>.</summary>
    private TItem EnqueueDue<TItem>(TItem item)
        where TItem : WorkItem
    {
        if (_loop.DueWorkWaitsOneTick)
        {
            return ScheduleAt(item, _loop.Time.NowTicks + 1);
        }

        _loop.Enqueue(item);
        return item;
    }

    private TItem ScheduleAt<TItem>(TItem item, long deadline)
        where TItem : WorkItem
    {
        lock (_loop.Gate)
        {
            _loop.ThrowIfDisposed();
            item.Deadline = deadline;
            if (deadline != long.MaxValue)
            {
                _loop.InsertTimerLocked(item, deadline);
            }
        }

        return item;
    }
}
