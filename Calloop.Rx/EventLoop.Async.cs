using Calloop.Rx.Async;
using Calloop.Rx.Scheduling;

namespace Calloop.Rx;

public sealed partial class EventLoop
{
    // Async work owed an answer when the loop is disposed (see ILoopTeardown). Guarded by the gate.
    private readonly HashSet<ILoopTeardown> _asyncWork = [];
    private LoopSynchronizationContext? _synchronizationContext;
    private LoopTaskScheduler? _taskScheduler;
    private LoopTimeProvider? _timeProvider;

    /// <summary>
    /// The loop's <see cref="System.Threading.SynchronizationContext"/>. It is <see cref="System.Threading.SynchronizationContext.Current"/>
    /// on the loop thread for the whole of every <see cref="Dispatch(TimeSpan?)"/>, <see cref="Run(TimeSpan?, Action{EventLoop}?)"/>
    /// iteration and <see cref="AdvanceTo(DateTimeOffset)"/> (the previous context is restored afterwards, also when a
    /// dispatch throws), so an <c>await</c> in loop code continues on the loop thread.
    /// </summary>
    public LoopSynchronizationContext SynchronizationContext =>
        Volatile.Read(ref _synchronizationContext) ?? Publish(ref _synchronizationContext, new LoopSynchronizationContext(this));

    /// <summary>
    /// A <see cref="System.Threading.Tasks.TaskScheduler"/> that runs tasks on the loop thread during dispatch, one at
    /// a time (<see cref="System.Threading.Tasks.TaskScheduler.MaximumConcurrencyLevel"/> is 1), in the actions phase
    /// with scheduled work. A task is inlined only when the caller is on the loop thread.
    /// </summary>
    /// <remarks>Queuing a task on a disposed loop throws <see cref="ObjectDisposedException"/> (so <c>Task.Start</c> reports a <see cref="TaskSchedulerException"/>); tasks still queued when the loop is disposed never run.</remarks>
    public TaskScheduler TaskScheduler =>
        Volatile.Read(ref _taskScheduler) ?? Publish(ref _taskScheduler, new LoopTaskScheduler(this));

    /// <summary>
    /// The loop's clock and timer heap as a <see cref="System.TimeProvider"/>: <c>GetUtcNow</c> is <see cref="Now"/>,
    /// timestamps follow the loop clock (virtual time too), and timers fire on the loop thread in the timers phase.
    /// <c>Task.Delay(t, loop.TimeProvider)</c>, <c>new PeriodicTimer(t, loop.TimeProvider)</c> and
    /// <c>new CancellationTokenSource(t, loop.TimeProvider)</c> therefore run on the loop, and under
    /// <see cref="AdvanceBy(TimeSpan)"/> on a virtual loop.
    /// </summary>
    /// <remarks>Creating a timer on a disposed loop throws <see cref="ObjectDisposedException"/>; timers of a disposed loop never fire again.</remarks>
    public TimeProvider TimeProvider =>
        Volatile.Read(ref _timeProvider) ?? Publish(ref _timeProvider, new LoopTimeProvider(this));

    /// <summary>How many immediate items wait for the next actions phase (for tests that must know a cross-thread post has landed).</summary>
    internal int QueuedWorkCount
    {
        get
        {
            lock (Gate)
            {
                return _ready.Count;
            }
        }
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

            _ready.Enqueue(item);
        }

        WakeIfSleeping();
        return true;
    }

    /// <summary>Registers work to be told about the loop's disposal; false when the loop is already disposed.</summary>
    internal bool TryTrackAsyncWork(ILoopTeardown work)
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return false;
            }

            _asyncWork.Add(work);
            return true;
        }
    }

    /// <summary>The work no longer owes anything.</summary>
    internal void UntrackAsyncWork(ILoopTeardown work)
    {
        lock (Gate)
        {
            _asyncWork.Remove(work);
        }
    }

    /// <summary>Makes the loop's context current on this (the dispatching) thread; returns the one to restore.</summary>
    private System.Threading.SynchronizationContext? InstallSynchronizationContext()
    {
        System.Threading.SynchronizationContext? previous = System.Threading.SynchronizationContext.Current;
        System.Threading.SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
        return previous;
    }

    /// <summary>Part of teardown: everything still owed fails (after the queues were dropped, so nothing can run it any more).</summary>
    private void TearDownAsyncWork(List<Exception> errors)
    {
        ILoopTeardown[] work;
        lock (Gate)
        {
            if (_asyncWork.Count == 0)
            {
                return;
            }

            work = [.. _asyncWork];
            _asyncWork.Clear();
        }

        foreach (ILoopTeardown item in work)
        {
            try
            {
                item.OnLoopTeardown(errors);
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        }
    }

    private static T Publish<T>(ref T? field, T value)
        where T : class =>
        Interlocked.CompareExchange(ref field, value, null) ?? value;
}
