namespace Calloop.Rx.Scheduling;

/// <summary>
/// A periodic action (<see cref="System.Reactive.Concurrency.ISchedulerPeriodic"/>): one heap entry re-armed at
/// previous deadline + period, so ticks do not drift and nothing is allocated per tick. A loop that fell behind
/// catches up one tick per dispatch rather than in a burst.
/// </summary>
internal sealed class PeriodicAction<TState>(EventLoop loop, TState state, TimeSpan period, Func<TState, TState> action) : WorkItem, IDisposable
{
    private TState _state = state;
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
            loop.RecordFailure(e);
        }

        lock (loop.Gate)
        {
            if (!_cancelled && !loop.IsDisposed)
            {
                Deadline += Math.Max(period.Ticks, 0);
                loop.InsertTimerLocked(this);
            }
        }
    }

    public void Dispose()
    {
        lock (loop.Gate)
        {
            _cancelled = true;
            loop.RemoveTimerLocked(this);
        }
    }
}
