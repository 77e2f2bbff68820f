using System.Reactive;
using Calloop.Rx.Async;

namespace Calloop.Rx;

public sealed partial class EventLoop
{
    /// <summary>
    /// The loop's <see cref="System.Threading.SynchronizationContext"/>. It is <see cref="System.Threading.SynchronizationContext.Current"/>
    /// on the loop thread for the whole of every <see cref="Dispatch(TimeSpan?)"/>, <see cref="Run(TimeSpan?, Action{EventLoop}?)"/>
    /// iteration and <see cref="AdvanceTo(DateTimeOffset)"/> (the previous context is restored afterwards, also when a
    /// dispatch throws), so an <c>await</c> in loop code continues on the loop thread.
    /// </summary>
    public LoopSynchronizationContext SynchronizationContext => _async.SynchronizationContext;

    /// <summary>
    /// A <see cref="System.Threading.Tasks.TaskScheduler"/> that runs tasks on the loop thread during dispatch, one at
    /// a time (<see cref="System.Threading.Tasks.TaskScheduler.MaximumConcurrencyLevel"/> is 1), in the actions phase
    /// with scheduled work. A task is inlined only when the caller is on the loop thread.
    /// </summary>
    /// <remarks>Queuing a task on a disposed loop throws <see cref="ObjectDisposedException"/> (so <c>Task.Start</c> reports a <see cref="TaskSchedulerException"/>); tasks still queued when the loop is disposed never run.</remarks>
    public TaskScheduler TaskScheduler => _async.TaskScheduler;

    /// <summary>
    /// The loop's clock and timer heap as a <see cref="System.TimeProvider"/>: <c>GetUtcNow</c> is <see cref="Now"/>,
    /// timestamps follow the loop clock (virtual time too), and timers fire on the loop thread in the timers phase.
    /// <c>Task.Delay(t, loop.TimeProvider)</c>, <c>new PeriodicTimer(t, loop.TimeProvider)</c> and
    /// <c>new CancellationTokenSource(t, loop.TimeProvider)</c> therefore run on the loop, and under
    /// <see cref="AdvanceBy(TimeSpan)"/> on a virtual loop.
    /// </summary>
    /// <remarks>Creating a timer on a disposed loop throws <see cref="ObjectDisposedException"/>; timers of a disposed loop never fire again.</remarks>
    public TimeProvider TimeProvider => _async.TimeProvider;

    /// <summary>
    /// Runs an async function on the loop (calloop's executor): it starts in the actions phase of the next dispatch
    /// with the loop's <see cref="SynchronizationContext"/> current, so each of its <c>await</c>s continues on the loop
    /// thread. Callable from any thread.
    /// </summary>
    /// <returns>
    /// A hot observable of the function's result: the function runs whether or not anyone subscribes; subscribers get
    /// <c>OnNext(result)</c> then <c>OnCompleted</c>, or <c>OnError</c> with the task's exception (unwrapped; an
    /// <see cref="OperationCanceledException"/> when it was cancelled), on the loop thread in an actions phase; a
    /// subscriber arriving afterwards gets the same outcome, also on the loop thread. An outcome nobody subscribed to
    /// is dropped. Disposing a subscription does not stop the function.
    /// </returns>
    /// <remarks>If the loop is disposed before the outcome is delivered, subscribers get <c>OnError</c> with an <see cref="ObjectDisposedException"/>.</remarks>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IObservable<T> Spawn<T>(Func<Task<T>> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Spawn(_ => function(), CancellationToken.None);
    }

    /// <summary>
    /// Runs an async function on the loop, passing it <paramref name="cancellationToken"/>; see <see cref="Spawn{T}(Func{Task{T}})"/>.
    /// If the token is cancelled before the function starts, it never starts and subscribers get an <see cref="OperationCanceledException"/>;
    /// afterwards, cancellation is up to the function.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IObservable<T> Spawn<T>(Func<CancellationToken, Task<T>> function, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(function);
        var spawned = new SpawnedTask<T>(this, function, cancellationToken);
        spawned.Start();
        return spawned;
    }

    /// <summary>Runs an async function without a result on the loop; the observable gives one <see cref="Unit"/> when it ends. See <see cref="Spawn{T}(Func{Task{T}})"/>.</summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IObservable<Unit> Spawn(Func<Task> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Spawn(_ => function(), CancellationToken.None);
    }

    /// <summary>Runs an async function without a result on the loop, passing it <paramref name="cancellationToken"/>. See <see cref="Spawn{T}(Func{CancellationToken, Task{T}}, CancellationToken)"/>.</summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IObservable<Unit> Spawn(Func<CancellationToken, Task> function, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Spawn(token => AsUnit(function(token)), cancellationToken);
    }

    /// <summary>
    /// Dispatches until <paramref name="task"/> completes and returns its result (calloop's <c>block_on</c>). Call it
    /// on the thread that drives the loop, outside any dispatch. The task's own exception is rethrown unwrapped.
    /// </summary>
    /// <remarks>
    /// A task created outside the loop runs its continuations wherever it captured; prefer
    /// <see cref="BlockOn{T}(Func{Task{T}}, CancellationToken)"/>, which starts the function on the loop. Like
    /// <see cref="Run(TimeSpan?, Action{EventLoop}?)"/>, a <see cref="Stop"/> made before the call is forgotten.
    /// A virtual-clock loop does not advance time by itself, so a task waiting for one of its timers (say
    /// <c>Task.Delay(t, loop.TimeProvider)</c>) would wait forever here: drive such a loop with <see cref="AdvanceBy(TimeSpan)"/>.
    /// </remarks>
    /// <exception cref="LoopStoppedException"><see cref="Stop"/> was called before the task completed (a task that completes in the same dispatch wins).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the task completed.</exception>
    /// <exception cref="ObjectDisposedException">The loop is, or was during the wait, disposed.</exception>
    /// <exception cref="InvalidOperationException">Called from a callback of this loop, or while another thread dispatches.</exception>
    public T BlockOn<T>(Task<T> task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        BlockOnCore(task, cancellationToken);
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Dispatches until <paramref name="task"/> completes; see <see cref="BlockOn{T}(Task{T}, CancellationToken)"/>.</summary>
    /// <exception cref="LoopStoppedException"><see cref="Stop"/> was called before the task completed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the task completed.</exception>
    /// <exception cref="ObjectDisposedException">The loop is, or was during the wait, disposed.</exception>
    public void BlockOn(Task task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        BlockOnCore(task, cancellationToken);
        task.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Starts <paramref name="function"/> on the loop, as <see cref="Spawn{T}(Func{Task{T}})"/> does, and dispatches
    /// until it completes; returns its result or rethrows its exception unwrapped. See <see cref="BlockOn{T}(Task{T}, CancellationToken)"/>.
    /// </summary>
    /// <remarks>When the wait ends early (stop, cancellation), the function is not cancelled: it goes on when the loop next dispatches.</remarks>
    /// <exception cref="LoopStoppedException"><see cref="Stop"/> was called before the function completed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the function completed (if before it started, it never starts).</exception>
    /// <exception cref="ObjectDisposedException">The loop is, or was during the wait, disposed.</exception>
    public T BlockOn<T>(Func<Task<T>> function, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(function);
        var spawned = new SpawnedTask<T>(this, _ => function(), cancellationToken);
        spawned.Start();
        BlockUntil(static s => ((SpawnedTask<T>)s).IsDelivered, spawned, cancellationToken);
        return spawned.GetResult();
    }

    /// <summary>Starts <paramref name="function"/> on the loop and dispatches until it completes; see <see cref="BlockOn{T}(Func{Task{T}}, CancellationToken)"/>.</summary>
    /// <exception cref="LoopStoppedException"><see cref="Stop"/> was called before the function completed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the function completed.</exception>
    /// <exception cref="ObjectDisposedException">The loop is, or was during the wait, disposed.</exception>
    public void BlockOn(Func<Task> function, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(function);
        BlockOn<Unit>(() => AsUnit(function()), cancellationToken);
    }

    private static async Task<Unit> AsUnit(Task? task)
    {
        // Continue where the task completed: the spawned-task wrapper queues the delivery onto the loop anyway.
        await (task ?? throw new InvalidOperationException("The async function returned a null task.")).ConfigureAwait(false);
        return Unit.Default;
    }

    private void BlockOnCore(Task task, CancellationToken cancellationToken)
    {
        if (!task.IsCompleted)
        {
            // A task completed by another thread must wake a blocked dispatch.
            task.ContinueWith(
                static (_, s) => ((EventLoop)s!).WakeUp(),
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        BlockUntil(static s => ((Task)s).IsCompleted, task, cancellationToken);
    }

    /// <summary>Dispatches (waiting as long as needed) until <paramref name="done"/>, a stop or a cancellation.</summary>
    private void BlockUntil(Func<object, bool> done, object state, CancellationToken cancellationToken)
    {
        _waiter.ClearStop();
        using CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static s => ((EventLoop)s!).WakeUp(), this);
        while (!done(state))
        {
            if (_waiter.StopRequested)
            {
                throw new LoopStoppedException();
            }

            cancellationToken.ThrowIfCancellationRequested();
            Dispatch(null);
        }
    }
}
