using System.Runtime.ExceptionServices;
using Calloop.Rx.Scheduling;

namespace Calloop.Rx.Async;

/// <summary>
/// An async function run on the loop by <see cref="EventLoop.Spawn{T}(Func{CancellationToken, Task{T}}, CancellationToken)"/>
/// (calloop's executor): started in the actions phase of a dispatch, with the loop's context current, and observed
/// as a hot <see cref="IObservable{T}"/> of its result.
/// </summary>
/// <remarks>
/// The outcome is delivered on the loop thread in an actions phase (never nested in another callback): the
/// subscribers present then get <c>OnNext(result)</c> and <c>OnCompleted</c>, or <c>OnError</c>; a later subscriber
/// gets the same outcome replayed on the loop thread. Disposing a subscription only stops delivery to it; the task
/// keeps running. Disposing the loop before the outcome is delivered sends <c>OnError(ObjectDisposedException)</c>.
/// </remarks>
internal sealed class SpawnedTask<T> : WorkItem, IObservable<T>, ILoopTeardown
{
    private static readonly IObserver<T>[] s_none = [];
    private readonly EventLoop _loop;
    private readonly CancellationToken _cancellationToken;
    private readonly Lock _lock = new();
    private Func<CancellationToken, Task<T>>? _function;
    private IObserver<T>[] _observers = s_none;
    private Stage _stage;
    private T? _value;
    private ExceptionDispatchInfo? _error;

    internal SpawnedTask(EventLoop loop, Func<CancellationToken, Task<T>> function, CancellationToken cancellationToken)
    {
        _loop = loop;
        _function = function;
        _cancellationToken = cancellationToken;
    }

    private enum Stage
    {
        Queued,
        Running,
        Finished,
        Delivered,
    }

    /// <summary>Whether the outcome has been delivered to the subscribers (what BlockOn waits for).</summary>
    internal bool IsDelivered
    {
        get
        {
            lock (_lock)
            {
                return _stage == Stage.Delivered;
            }
        }
    }

    /// <summary>Tracks and queues the start; throws <see cref="ObjectDisposedException"/> on a disposed loop.</summary>
    internal void Start()
    {
        if (!_loop.Async.TryTrack(this))
        {
            ThrowHelper.ThrowLoopDisposed();
        }

        if (!_loop.TryEnqueue(this))
        {
            _loop.Async.Untrack(this);
            ThrowHelper.ThrowLoopDisposed();
        }
    }

    /// <summary>The delivered result, or its exception rethrown with its original stack. Only after <see cref="IsDelivered"/>.</summary>
    internal T GetResult()
    {
        _error?.Throw();
        return _value!;
    }

    public IDisposable Subscribe(IObserver<T> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _loop.ThrowIfDisposed();
        lock (_lock)
        {
            if (_stage != Stage.Delivered)
            {
                _observers = [.. _observers, observer];
                return new Subscription(this, observer);
            }
        }

        // Late subscriber: the outcome is replayed on the loop thread, like a terminated source's.
        var replay = new Replay(this, observer);
        _loop.Enqueue(replay);
        return replay;
    }

    internal override void Invoke()
    {
        Stage stage;
        lock (_lock)
        {
            stage = _stage;
        }

        if (stage == Stage.Queued)
        {
            Run();
        }
        else if (stage == Stage.Finished)
        {
            Deliver();
        }
    }

    public void OnLoopTeardown(List<Exception> errors)
    {
        IObserver<T>[] observers;
        lock (_lock)
        {
            if (_stage == Stage.Delivered)
            {
                return;
            }

            _stage = Stage.Delivered;
            _error = ExceptionDispatchInfo.Capture(new ObjectDisposedException(nameof(EventLoop), "The event loop was disposed before the spawned task's result was delivered."));
            observers = _observers;
            _observers = s_none;
        }

        foreach (IObserver<T> observer in observers)
        {
            try
            {
                observer.OnError(_error.SourceException);
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        }
    }

    /// <summary>Runs the function (loop thread, actions phase, loop context current).</summary>
    private void Run()
    {
        Func<CancellationToken, Task<T>> function;
        lock (_lock)
        {
            _stage = Stage.Running;
            function = _function!;
            _function = null;
        }

        Task<T> task;
        try
        {
            _cancellationToken.ThrowIfCancellationRequested();
            task = function(_cancellationToken) ?? throw new InvalidOperationException("The spawned function returned a null task.");
        }
        catch (Exception e)
        {
            Finish(default, ExceptionDispatchInfo.Capture(e));
            Deliver();
            return;
        }

        if (task.IsCompleted)
        {
            FinishFrom(task);
            Deliver();
            return;
        }

        // Runs where the task completes (usually the loop thread) and only queues the delivery.
        task.ContinueWith(
            static (t, s) => ((SpawnedTask<T>)s!).OnTaskCompleted(t),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void OnTaskCompleted(Task<T> task)
    {
        FinishFrom(task);

        // On a disposed loop the teardown has failed (or will fail) the subscribers instead.
        _loop.TryEnqueue(this);
    }

    private void FinishFrom(Task<T> task)
    {
        if (task.IsCompletedSuccessfully)
        {
            Finish(task.Result, null);
            return;
        }

        if (task.Exception is { InnerExceptions.Count: > 1 } many)
        {
            Finish(default, ExceptionDispatchInfo.Capture(many));
            return;
        }

        try
        {
            // Rethrows the task's own exception (or its OperationCanceledException) unwrapped.
            task.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Finish(default, ExceptionDispatchInfo.Capture(e));
        }
    }

    private void Finish(T? value, ExceptionDispatchInfo? error)
    {
        lock (_lock)
        {
            if (_stage != Stage.Running)
            {
                return;
            }

            _value = value;
            _error = error;
            _stage = Stage.Finished;
        }
    }

    private void Deliver()
    {
        IObserver<T>[] observers;
        lock (_lock)
        {
            if (_stage != Stage.Finished)
            {
                return;
            }

            _stage = Stage.Delivered;
            observers = _observers;
            _observers = s_none;
        }

        _loop.Async.Untrack(this);
        foreach (IObserver<T> observer in observers)
        {
            DeliverTo(observer);
        }
    }

    private void DeliverTo(IObserver<T> observer)
    {
        try
        {
            if (_error is { } error)
            {
                observer.OnError(error.SourceException);
                return;
            }

            observer.OnNext(_value!);
            observer.OnCompleted();
        }
        catch (Exception e)
        {
            // Like a source's observer: the exception comes out of Dispatch once every subscriber was served.
            _loop.Cycle.RecordFailure(e);
        }
    }

    private void Unsubscribe(IObserver<T> observer)
    {
        lock (_lock)
        {
            int index = Array.IndexOf(_observers, observer);
            if (index >= 0)
            {
                _observers = [.. _observers[..index], .. _observers[(index + 1)..]];
            }
        }
    }

    private sealed class Subscription(SpawnedTask<T> owner, IObserver<T> observer) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(observer);
            }
        }
    }

    /// <summary>The outcome owed to a subscriber that came after delivery.</summary>
    private sealed class Replay(SpawnedTask<T> owner, IObserver<T> observer) : WorkItem, IDisposable
    {
        private volatile bool _disposed;

        public void Dispose() => _disposed = true;

        internal override void Invoke()
        {
            if (!_disposed)
            {
                owner.DeliverTo(observer);
            }
        }
    }
}
