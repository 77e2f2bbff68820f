using System.Reactive.Concurrency;

namespace Calloop.Rx;

/// <summary>
/// A loop source made of other loop sources composed with Rx operators: derive from it to give a pipeline of
/// fds, channels, pings and timers the same face as a built-in source (hot, shared, with
/// <see cref="LoopSource{T}.Enable"/>, <see cref="LoopSource{T}.Disable"/>, <see cref="LoopSource{T}.Update"/> and
/// <see cref="LoopSource{T}.Remove"/>, a terminal notification for late subscribers, and an end when the loop is disposed).
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
/// <remarks>
/// <para>The loop calls <see cref="Connect"/> when the source is registered (its first subscriber, or
/// <see cref="LoopSource{T}.Enable"/> after <see cref="LoopSource{T}.Disable"/>) and subscribes to the observable it
/// returns; every value is broadcast to the subscribers, and its <c>OnError</c> or <c>OnCompleted</c> ends the source.
/// When the source is unregistered (last subscriber gone, <c>Disable</c>, or its end) that subscription is disposed,
/// which unregisters the inner sources, and <see cref="OnDisconnected"/> runs. Values the pipeline produces while it
/// is being subscribed (<c>StartWith</c>, <c>Return</c>) reach no one, since the subscriber that registers the source
/// is added once registration succeeded; values of inner loop sources always arrive in a later dispatch. Build the inner sources once, in the
/// constructor, so that what they hold (queued messages, pending readiness) survives unregistration; build the
/// pipeline in <see cref="Connect"/>. <see cref="LoopSource{T}.Remove"/> or <see cref="LoopSource{T}.Disable"/> called
/// from inside the pipeline stops it at once: values it had not emitted yet are not delivered (emit, then remove).</para>
/// <para>The source is tracked from construction until it ends: <see cref="OnEnded"/> runs exactly once, when it is
/// removed, completes, fails, or the loop is disposed, even if nobody ever subscribed. Release there what the source
/// owns (its inner sources, a socket). Exceptions thrown by <see cref="OnEnded"/> or by the pipeline's disposal do not
/// stop the loop's cleanup: they come out of <c>Remove</c> or the subscription's <c>Dispose</c>, or, at loop disposal,
/// in the <see cref="AggregateException"/> that <see cref="EventLoop.Dispose"/> throws once everything is released.</para>
/// <para>All the hooks run on the thread that caused them, under the loop's lock: the loop thread for whatever a
/// callback does, the subscribing or disposing thread otherwise. They must not block. The inner sources deliver on the
/// loop thread, inside a dispatch, so the pipeline does too.</para>
/// </remarks>
public abstract class CompositeSource<T> : LoopSource<T>
{
    private readonly string _name;
    private Connection? _connection;
    private Exception? _hookFailure;

    /// <summary>Makes the source and tracks it on <paramref name="loop"/>, so that loop disposal ends it.</summary>
    /// <param name="loop">The loop the inner sources belong to.</param>
    /// <param name="name">A short description for exception messages, e.g. <c>Line reader on fd 7</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="name"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
#pragma warning disable RS0022 // Deliberately the one way to derive a source: LoopSource<T>'s machinery stays private protected.
    protected CompositeSource(EventLoop loop, string name)
#pragma warning restore RS0022
        : base(loop ?? throw new ArgumentNullException(nameof(loop)))
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _name = name;
        loop.TrackNew(this);
    }

    /// <summary>
    /// Whether an observer threw during this dispatch. A pipeline that produces many values for one inner event
    /// should stop at the next value and go on in the next dispatch (for example by pinging itself): the loop
    /// rethrows the observer's exception from <see cref="EventLoop.Dispatch"/> once this delivery returns.
    /// </summary>
    protected bool IsDeliveryInterrupted => BatchInterrupted;

    internal sealed override string Name => _name;

    private protected sealed override bool OwnsResources => true;

    // Nothing of its own is registered with epoll: the inner sources have their tokens.
    private protected sealed override bool UsesToken => false;

    /// <summary>
    /// Builds the pipeline this source delivers, from inner loop sources and Rx operators. Called on each
    /// registration, under the loop's lock; the returned observable is subscribed at once.
    /// </summary>
    /// <returns>The values to broadcast; its end (<c>OnError</c> or <c>OnCompleted</c>) ends this source.</returns>
    protected abstract IObservable<T> Connect();

    /// <summary>The pipeline's subscription was disposed (unregistration). The default does nothing.</summary>
    protected virtual void OnDisconnected()
    {
    }

    /// <summary>
    /// <see cref="LoopSource{T}.Update"/> on a registered source: apply changed settings. The default disconnects and
    /// connects again.
    /// </summary>
    protected virtual void OnUpdate()
    {
        Disarm();
        Arm();
    }

    /// <summary>The source has ended: release what it owns. Runs exactly once, whether or not anyone subscribed.</summary>
    protected virtual void OnEnded()
    {
    }

    private protected sealed override void Arm()
    {
        var connection = new Connection(this);
        _connection = connection;
        connection.Start(Connect());
        if (connection.CompletedWhileStarting)
        {
            // Ending here would pull the registration from under the subscription being made: end in a moment.
            Loop.Scheduler.Schedule(Remove);
        }

        if (connection.StartError is { } error)
        {
            // The pipeline failed while being subscribed (Rx reports a throwing Subscribe as OnError): as a kernel
            // refusal does for a built-in source, this fails the subscriber that asked for the registration.
            Disarm();
            throw error;
        }
    }

    private protected sealed override void Disarm()
    {
        Connection? connection = _connection;
        _connection = null;
        if (connection is null)
        {
            return;
        }

        try
        {
            connection.Stop();
            OnDisconnected();
        }
        catch (Exception e)
        {
            // User code: reported once the source is unregistered all the same (see TakeDisarmFailure).
            _hookFailure ??= e;
        }
    }

    private protected sealed override Exception? TakeDisarmFailure()
    {
        Exception? failure = _hookFailure;
        _hookFailure = null;
        return failure;
    }

    private protected sealed override void Rearm() => OnUpdate();

    /// <summary>Never called: the inner sources deliver.</summary>
    private protected sealed override void OnEvent(Readiness readiness, Token token)
    {
    }

    private protected sealed override void ReleaseResources()
    {
        try
        {
            OnEnded();
        }
        catch (Exception e)
        {
            _hookFailure ??= e;
        }
    }

    /// <summary>One registration: the pipeline's subscription, and whether it still speaks for this source.</summary>
    private sealed class Connection(CompositeSource<T> owner) : IObserver<T>
    {
        private IDisposable? _subscription;
        private bool _started;
        private volatile bool _stopped;

        public Exception? StartError { get; private set; }

        public bool CompletedWhileStarting { get; private set; }

        public void Start(IObservable<T> pipeline)
        {
            ArgumentNullException.ThrowIfNull(pipeline, nameof(Connect));
            _subscription = pipeline.Subscribe(this);
            _started = true;
            if (_stopped)
            {
                // Stopped from inside the pipeline's own Subscribe.
                _subscription.Dispose();
            }
        }

        public void Stop()
        {
            _stopped = true;
            _subscription?.Dispose();
        }

        public void OnNext(T value)
        {
            if (!_stopped)
            {
                owner.Emit(value);
            }
        }

        public void OnError(Exception error)
        {
            if (!_started)
            {
                StartError = error;
            }
            else if (!_stopped)
            {
                owner.Complete(error);
            }
        }

        public void OnCompleted()
        {
            // Inner sources all complete when the loop is disposed, whose teardown ends this source itself (collecting
            // observer exceptions); otherwise the pipeline's end is the source's.
            if (!_started)
            {
                CompletedWhileStarting = true;
            }
            else if (!_stopped && !owner.Loop.IsDisposed)
            {
                owner.Complete();
            }
        }
    }
}
