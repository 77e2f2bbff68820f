using System.Reactive.Concurrency;

namespace Calloop.Rx.Scheduling;

/// <summary>
/// One action scheduled on <see cref="LoopScheduler"/>, immediate or timed. Disposing it before it runs cancels
/// it (a timed one leaves the heap at once); after it ran, disposing it disposes what the action returned, which
/// is how Rx cancels recursive chains through the first handle.
/// </summary>
internal sealed class ScheduledAction<TState>(EventLoop loop, TState state, Func<IScheduler, TState, IDisposable> action) : WorkItem, IDisposable
{
    private const int Pending = 0;
    private const int Running = 1;
    private const int Done = 2;
    private const int Cancelled = 3;

    private int _status;
    private IDisposable? _result;

    internal override void Invoke()
    {
        if (Interlocked.CompareExchange(ref _status, Running, Pending) != Pending)
        {
            return;
        }

        IDisposable? result = null;
        try
        {
            result = action(loop.Scheduler, state);
        }
        catch (Exception e)
        {
            loop.Cycle.RecordFailure(e);
        }

        _result = result;
        if (Interlocked.CompareExchange(ref _status, Done, Running) != Running)
        {
            // Disposed while running: what it returned is disposed now.
            result?.Dispose();
        }
    }

    public void Dispose()
    {
        int previous = Interlocked.Exchange(ref _status, Cancelled);
        switch (previous)
        {
            case Pending:
                lock (loop.Gate)
                {
                    loop.Work.Timers.Remove(this);
                }

                break;
            case Done:
                _result?.Dispose();
                break;
        }
    }
}
