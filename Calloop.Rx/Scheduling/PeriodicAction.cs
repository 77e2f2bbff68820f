
namespace Calloop.Rx.Scheduling;

/// <summary>
/// A periodic action (<see cref="System.Reactive.Concurrency.ISchedulerPeriodic"/>): one heap entry re-armed at
/// previous deadline + period, so ticks do not drift and nothing is allocated per tick. A loop that fell behind
/// catches up one tick per dispatch rather than in a burst.
/// </summary>
internal sealed class PeriodicAction<TState>(EventLoop loop, TState state, TimeSpan period, Func<TState, TState> action) : WorkItem, IDisposable
{
    private TState _state = state;
    private long? _grid; // where the next run falls on the period's grid: its deadline, unless TestScheduler's rule delays it
    private volatile bool _cancelled;

    internal override void Invoke()
    {
        if (_cancelled)
        {
            return;
        }

        try
        {
            _state = action(_state);
        }
        catch (Exception e)
        {
            loop.Cycle.RecordFailure(e);
        }

        lock (loop.Gate)
        {
            if (!_cancelled && !loop.IsDisposed)
            {
                _grid = (_grid ?? Deadline) + Math.Max(period.Ticks, 0);

                // Under TestScheduler's rule (EventLoop.DueWorkWaitsOneTick) a run already due waits one tick; the
                // grid it came from stays, so a late run does not shift the runs after it.
                Deadline = loop.DueWorkWaitsOneTick ? Math.Max(_grid.Value, loop.Time.NowTicks + 1) : _grid.Value;
                loop.InsertTimerLocked(this, Deadline);
            }
        }
    }

    public void Dispose()
    {
        lock (loop.Gate)
        {
            _cancelled = true;
            loop.Work.Timers.Remove(this);
        }
    }
}
