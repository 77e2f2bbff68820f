using Calloop.Rx.Async;

namespace Calloop.Rx.Loop;

/// <summary>
/// The loop as seen by .NET's async machinery: its synchronization context, task scheduler and time provider (made
/// on first use, one of each per loop), and the async work that is owed an answer when the loop is disposed.
/// </summary>
/// <remarks>The accessors and tracking are for any thread; the tracked set is guarded by the gate.</remarks>
internal sealed class AsyncIntegration(EventLoop loop)
{
    private readonly HashSet<ILoopTeardown> _owed = [];
    private LoopSynchronizationContext? _synchronizationContext;
    private LoopTaskScheduler? _taskScheduler;
    private LoopTimeProvider? _timeProvider;

    /// <summary>The loop's synchronization context, made on first use.</summary>
    public LoopSynchronizationContext SynchronizationContext =>
        Volatile.Read(ref _synchronizationContext) ?? Publish(ref _synchronizationContext, new LoopSynchronizationContext(loop));

    /// <summary>The loop's task scheduler, made on first use.</summary>
    public LoopTaskScheduler TaskScheduler =>
        Volatile.Read(ref _taskScheduler) ?? Publish(ref _taskScheduler, new LoopTaskScheduler(loop));

    /// <summary>The loop's time provider, made on first use.</summary>
    public LoopTimeProvider TimeProvider =>
        Volatile.Read(ref _timeProvider) ?? Publish(ref _timeProvider, new LoopTimeProvider(loop));

    /// <summary>Registers work to be told about the loop's disposal; false when the loop is already disposed.</summary>
    public bool TryTrack(ILoopTeardown work)
    {
        lock (loop.Gate)
        {
            if (loop.IsDisposed)
            {
                return false;
            }

            _owed.Add(work);
            return true;
        }
    }

    /// <summary>The work no longer owes anything.</summary>
    public void Untrack(ILoopTeardown work)
    {
        lock (loop.Gate)
        {
            _owed.Remove(work);
        }
    }

    /// <summary>Makes the loop's context current on this (the dispatching) thread; returns the one to restore.</summary>
    public SynchronizationContext? InstallSynchronizationContext()
    {
        SynchronizationContext? previous = System.Threading.SynchronizationContext.Current;
        System.Threading.SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
        return previous;
    }

    /// <summary>Part of teardown: everything still owed fails (after the queues were dropped, so nothing can run it any more).</summary>
    public void TearDown(List<Exception> errors)
    {
        ILoopTeardown[] work;
        lock (loop.Gate)
        {
            if (_owed.Count == 0)
            {
                return;
            }

            work = [.. _owed];
            _owed.Clear();
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
