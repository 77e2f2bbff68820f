using System.Runtime.ExceptionServices;
using Calloop.Rx.Diagnostics;
using Calloop.Rx.Scheduling;

namespace Calloop.Rx;

/// <summary>
/// A hot event source of an <see cref="EventLoop"/>, and the handle to control it (calloop's registration token
/// with <c>enable</c>, <c>disable</c>, <c>update</c> and <c>remove</c>).
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
/// <remarks>
/// <para>Subscribing registers the source with the loop; every subscriber shares that one registration; disposing
/// the last subscription unregisters it. What the kernel or a queue holds before anyone subscribes (readiness,
/// a ping, channel messages, signals) is delivered once someone does. Several subscribers each receive every
/// event (broadcast).</para>
/// <para>Notifications arrive only on the loop thread, inside a dispatch, one at a time, never nested: whatever a
/// callback causes (a send, a ping, a schedule) is delivered later. <c>Subscribe</c> and subscription disposal are
/// thread-safe, idempotent and never wait for the loop. Disposal on the loop thread is exact; from another thread
/// no delivery starts after it returns, though one already running on the loop thread may finish.</para>
/// <para>A source ends with <c>OnCompleted</c> when it finishes (a one-shot timer fired, every sender is gone, <see cref="Remove"/>,
/// the loop is disposed) or with <c>OnError</c> when it can no longer work; either way it is unregistered, and a
/// later subscriber gets the same terminal notification on the loop thread.</para>
/// <para>A source ends once, so Rx's re-subscribing operators cannot restart it: a subscription made from inside the
/// source's own end (<c>Repeat</c>, <c>Retry</c>, <c>Concat</c> of the same source) gets <c>OnError</c> with an
/// <see cref="InvalidOperationException"/> that says so, instead of the same end over and over with the loop never
/// blocking. Make a new source per subscription instead: <c>Observable.Defer(() =&gt; loop.Timer(delay)).Repeat()</c>.
/// (A <c>Retry</c> without a count still re-subscribes after that error too, as it does with any observable that
/// fails every time: give it a count.)</para>
/// </remarks>
public abstract class LoopSource<T> : IObservable<T>, ILoopSource
{
    // Null, one Subscription, or a Subscription[] of two or more: the lone subscriber (the usual case, and every
    // timer) needs no array. Replaced, never mutated, so the loop thread reads it without the gate. Once the source
    // has ended it holds the error it ended with, if any, for late subscribers. The fields are kept few and small
    // because a program may hold 100,000 live timers, each a source: every byte of them is garbage-collector work.
    private object? _subscribers;
    private SourceRecord? _record; // diagnostics: null unless someone observes them
    private Token _token;
    private State _state;
    private Request _deferred;
    private bool _enabled = true;
    private bool _armed;

    private protected LoopSource(EventLoop loop)
    {
        Loop = loop;
    }

    private enum State : byte
    {
        Inactive,
        Active,
        Terminated,
    }

    private enum Request : byte
    {
        None,
        Enable,
        Disable,
        Update,
        Remove,
    }

    /// <summary>The loop this source belongs to.</summary>
    public EventLoop Loop { get; }

    /// <summary>Whether the source is enabled (see <see cref="Disable"/>). A new source is enabled.</summary>
    public bool IsEnabled
    {
        get
        {
            lock (Loop.Gate)
            {
                return _enabled;
            }
        }
    }

    /// <summary>Whether the source is registered with the loop, that is, has subscribers and has not ended.</summary>
    public bool IsActive
    {
        get
        {
            lock (Loop.Gate)
            {
                return _state == State.Active;
            }
        }
    }

    /// <summary>Whether the source has ended (completed or failed).</summary>
    public bool IsTerminated
    {
        get
        {
            lock (Loop.Gate)
            {
                return _state == State.Terminated;
            }
        }
    }

    /// <summary>A short description used in exception messages, e.g. <c>Fd 7</c>.</summary>
    internal abstract string Name { get; }

    Token ILoopSource.Token => _token;

    bool ILoopSource.OwnsResources => OwnsResources;

    int ILoopSource.TrackedSlot { get; set; }

    string ILoopSource.Name => Name;

    SourceRecord? ILoopSource.Record
    {
        get => _record;
        set => _record = value;
    }

    SourceState ILoopSource.DiagnosticState => _state switch
    {
        State.Terminated => SourceState.Ended,
        State.Active => _enabled ? SourceState.Active : SourceState.Disabled,
        _ => SourceState.Idle,
    };

    int ILoopSource.SubscriberCount => _subscribers switch
    {
        Subscription => 1,
        Subscription[] many => many.Length,
        _ => 0,
    };

    /// <summary>
    /// Whether the source holds OS resources from creation until it ends (a socket it owns), so loop disposal must
    /// reach it even while unsubscribed. Other sources are reachable from the loop only while registered, so one
    /// nobody subscribes to is collected with its senders; those learn of the loop's disposal from the loop itself.
    /// </summary>
    private protected virtual bool OwnsResources => false;

    /// <summary>Whether the source needs a token (a slab slot) for epoll events; timers do not.</summary>
    private protected virtual bool UsesToken => true;

    /// <summary>Whether the calling code runs inside this source's own callback, where changes are deferred.</summary>
    private bool InOwnCallback => ReferenceEquals(Loop.CurrentSource, this) && Loop.IsOnLoopThread;

    /// <summary>
    /// Subscribes an observer; the first subscriber registers the source with the loop. If the kernel refuses that
    /// registration (an fd that is closed, already registered, or a regular file), <paramref name="observer"/> gets
    /// <c>OnError</c> with the <see cref="LoopException"/> on the loop thread, so <c>Catch</c> and <c>Retry</c> handle
    /// it; the source stays unregistered and a later subscription tries again. An exception thrown by a custom
    /// source's <see cref="IEventSource{T}.Register"/> is delivered the same way.
    /// </summary>
    /// <returns>A handle whose disposal stops delivery to <paramref name="observer"/> (and unregisters the source when it was the last).</returns>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IDisposable Subscribe(IObserver<T> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var subscription = new Subscription(this, observer);
        bool ended = false;
        lock (Loop.Gate)
        {
            Loop.ThrowIfDisposed();
            if (_state == State.Terminated)
            {
                // Queued under the gate, so loop disposal either finds it owed or came first (and Subscribe threw).
                Loop.EnqueueOwedLocked(new TerminalDelivery(this, subscription, ReplayedEnd()));
                ended = true;
            }
            else
            {
                if (_state == State.Inactive && !TryActivate(subscription))
                {
                    return subscription;
                }

                _subscribers = _subscribers switch
                {
                    null => subscription,
                    Subscription one => new[] { one, subscription },
                    Subscription[] many => (Subscription[])[.. many, subscription],
                    _ => throw new InvalidOperationException(),
                };
                Loop.Monitor?.OnChanged(this, SourceChangeReason.Updated);
            }
        }

        if (ended)
        {
            Loop.WakeIfSleeping();
        }

        return subscription;
    }

    /// <summary>
    /// Resumes delivery after <see cref="Disable"/>. Readiness or messages that arrived meanwhile are delivered.
    /// Inside the source's own callback it takes effect when the callback returns (unlike calloop, this is allowed).
    /// </summary>
    /// <exception cref="LoopException">The kernel refused the registration.</exception>
    /// <exception cref="InvalidOperationException">The source has ended (removed, completed or failed).</exception>
    public void Enable() => Change(Request.Enable);

    /// <summary>
    /// Pauses delivery without ending the source: the registration is kept and nothing is delivered until
    /// <see cref="Enable"/>, not even <c>OnCompleted</c> (a channel or ping whose senders are gone completes once it
    /// is enabled again, or when it is removed or the loop is disposed). Inside the source's own callback it takes
    /// effect when the callback returns, and nothing of the event in progress reaches a later subscriber.
    /// </summary>
    /// <exception cref="InvalidOperationException">The source has ended (removed, completed or failed).</exception>
    public void Disable() => Change(Request.Disable);

    /// <summary>
    /// Applies changed settings (an fd's <see cref="FdSource.Interest"/> or <see cref="FdSource.Mode"/>, a timer's
    /// deadline) and re-arms a one-shot fd. Inside the source's own callback it takes effect when the callback returns.
    /// </summary>
    /// <exception cref="LoopException">The kernel refused the change (for example the fd was closed).</exception>
    /// <exception cref="InvalidOperationException">The source has ended (removed, completed or failed).</exception>
    public void Update() => Change(Request.Update);

    /// <summary>
    /// Ends the source: it is unregistered and its subscribers get <c>OnCompleted</c>. Inside the source's own
    /// callback, every subscriber still gets the event in progress, then <c>OnCompleted</c>; from elsewhere,
    /// <c>OnCompleted</c> arrives on the next dispatch (or from loop disposal, if that comes first). Removing an
    /// ended source does nothing.
    /// </summary>
    public void Remove() => Change(Request.Remove);

    private void Change(Request request)
    {
        if (InOwnCallback)
        {
            // Only the loop thread ends a source it is delivering, so this read is not stale here.
            if (_state == State.Terminated && request != Request.Remove)
            {
                ThrowEnded(request);
            }

            // calloop's rule: the last call made inside the callback wins, except that nothing undoes a Remove
            // (calloop empties the slot at once, so later calls on that token fail).
            if (_deferred != Request.Remove)
            {
                _deferred = request;
            }

            return;
        }

        Apply(request, deliverNow: false);
    }

    private void Apply(Request request, bool deliverNow)
    {
        if (request == Request.Remove)
        {
            Terminate(null, deliverNow);
            return;
        }

        lock (Loop.Gate)
        {
            if (_state == State.Terminated)
            {
                ThrowEnded(request);
            }

            switch (request)
            {
                case Request.Enable:
                    _enabled = true;
                    if (_state == State.Active && !_armed)
                    {
                        Arm();
                        _armed = true;
                    }

                    break;
                case Request.Disable:
                    _enabled = false;
                    if (_armed)
                    {
                        _armed = false;
                        Disarm();
                        if (TakeDisarmFailure() is { } failure)
                        {
                            ExceptionDispatchInfo.Throw(failure);
                        }
                    }

                    break;
                case Request.Update:
                    if (_armed)
                    {
                        Rearm();
                    }

                    break;
            }

            Loop.Monitor?.OnChanged(this, request switch
            {
                Request.Enable => SourceChangeReason.Enabled,
                Request.Disable => SourceChangeReason.Disabled,
                _ => SourceChangeReason.Updated,
            });
        }
    }

    private void ThrowEnded(Request request) =>
        throw new InvalidOperationException($"{Name} has ended (removed, completed or failed): {request} is not possible any more. Subscribe to learn how it ended.");

    void ILoopSource.AfterCallback()
    {
        Request request = _deferred;
        _deferred = Request.None;
        if (request != Request.None)
        {
            try
            {
                Apply(request, deliverNow: true);
            }
            catch (Exception e)
            {
                // The kernel refused, or a custom source's own (un)registration threw: the source cannot go on.
                // (Apply only throws InvalidOperationException when the source has ended already; then this does nothing.)
                Terminate(e, deliverNow: true);
            }
        }
    }

    void ILoopSource.OnReady(Readiness readiness, Token token) => OnEvent(readiness, token);

    void ILoopSource.Fail(Exception error) => Terminate(error, deliverNow: true);

    OwedCompletion? ILoopSource.End(List<Exception> errors)
    {
        if (!EndLocked(null, out object? subscribers, out Exception? failure))
        {
            return null;
        }

        if (failure is not null)
        {
            errors.Add(failure);
        }

        return subscribers is null ? null : new TerminalDelivery(this, subscribers, null);
    }

    bool ILoopSource.BeforeSleep(out Token token, out Readiness readiness) => BeforeSleep(out token, out readiness);

    void ILoopSource.BeforeHandleEvents(IReadOnlyList<(Readiness Readiness, Token Token)> events) => BeforeHandleEvents(events);

    /// <summary>Registers with epoll or the timer heap. Called under the gate; throws <see cref="LoopException"/> on refusal.</summary>
    private protected abstract void Arm();

    /// <summary>Unregisters. Called under the gate; must not throw (see <see cref="TakeDisarmFailure"/>).</summary>
    private protected abstract void Disarm();

    /// <summary>
    /// What the last <see cref="Disarm"/> or <see cref="ReleaseResources"/> caught from user code (a custom source's
    /// own unregistration, a composite source's hooks), to be reported once the source is unregistered or released
    /// regardless; null for the built-in sources, which cannot fail there.
    /// (A try/catch around every Disarm cost a timer's cancellation a third of its time.)
    /// </summary>
    private protected virtual Exception? TakeDisarmFailure() => null;

    /// <summary>Applies changed settings while armed. Called under the gate.</summary>
    private protected virtual void Rearm()
    {
        Disarm();
        Arm();
    }

    /// <summary>Handles one event on the loop thread; exceptions escaping it fail the source.</summary>
    private protected abstract void OnEvent(Readiness readiness, Token token);

    /// <summary>The source was unregistered (last subscriber gone, or ending). Called under the gate; must not throw.</summary>
    private protected virtual void OnDeactivated()
    {
    }

    /// <summary>Releases what the source owns (its eventfd, its signal registrations) once it has ended. Called under the gate.</summary>
    private protected virtual void ReleaseResources()
    {
    }

    private protected virtual bool BeforeSleep(out Token token, out Readiness readiness)
    {
        token = default;
        readiness = default;
        return false;
    }

    private protected virtual void BeforeHandleEvents(IReadOnlyList<(Readiness Readiness, Token Token)> events)
    {
    }

    /// <summary>The source's diagnostics record while they are observed, else null.</summary>
    private protected SourceRecord? DiagnosticsRecord => _record;

    /// <summary>Whether the source is registered with epoll or the heap right now. Caller holds the gate.</summary>
    private protected bool IsArmed => _armed;

    /// <summary>The current registration's base token (valid while active).</summary>
    private protected Token RegistrationToken => _token;

    /// <summary>
    /// Whether a source delivering several items for one event (channel messages, signal numbers) must stop at the
    /// next item boundary: an observer threw (the rest stays pending), or a callback called <see cref="Disable"/> or
    /// <see cref="Remove"/> (nothing is delivered after the callback that asked).
    /// </summary>
    private protected bool BatchInterrupted => Loop.HasPendingFailures || _deferred is Request.Disable or Request.Remove;

    /// <summary>Delivers <paramref name="value"/> to every live subscriber (loop thread). Observer exceptions are recorded, not thrown.</summary>
    private protected void Emit(T value)
    {
        if (_record is { } record)
        {
            record.Delivered++;
        }

        object? subscribers = Volatile.Read(ref _subscribers);
        if (subscribers is Subscription one)
        {
            Deliver(one, value);
        }
        else if (subscribers is Subscription[] many)
        {
            for (int i = 0; i < many.Length; i++)
            {
                Deliver(many[i], value);
            }
        }
    }

    private void Deliver(Subscription subscription, T value)
    {
        if (subscription.IsDisposed)
        {
            return;
        }

        try
        {
            subscription.Observer.OnNext(value);
        }
        catch (Exception e)
        {
            Loop.RecordFailure(e);
        }
    }

    /// <summary>Ends the source from its own event processing (loop thread): OnCompleted or OnError now.</summary>
    private protected void Complete(Exception? error = null) => Terminate(error, deliverNow: true);

    /// <summary>
    /// Ends the source: now on the loop thread (<paramref name="deliverNow"/>), else queued for the next dispatch.
    /// A custom source's unregistration hook that threw comes out of here once the source has ended regardless.
    /// </summary>
    private void Terminate(Exception? error, bool deliverNow)
    {
        Exception? failure;
        object? subscribers;
        bool queued = false;
        lock (Loop.Gate)
        {
            if (!EndLocked(error, out subscribers, out failure))
            {
                return;
            }

            // Queued under the gate, so that loop disposal, which empties the queue, finds it owed; once disposal
            // has emptied it, the notification is delivered here instead.
            if (!deliverNow && subscribers is not null)
            {
                queued = Loop.EnqueueOwedLocked(new TerminalDelivery(this, subscribers, error));
            }
        }

        if (queued)
        {
            Loop.WakeIfSleeping();
        }
        else
        {
            DeliverTerminal(subscribers, error, null);
        }

        if (failure is not null)
        {
            if (deliverNow)
            {
                Loop.RecordFailure(failure);
            }
            else
            {
                ExceptionDispatchInfo.Throw(failure);
            }
        }
    }

    /// <summary>
    /// Moves to Terminated and hands over the subscribers to notify; false when it had already ended.
    /// <paramref name="failure"/> is what a custom source's unregistration hook threw, if anything.
    /// </summary>
    private bool EndLocked(Exception? error, out object? subscribers, out Exception? failure)
    {
        lock (Loop.Gate)
        {
            failure = null;
            if (_state == State.Terminated)
            {
                subscribers = null;
                return false;
            }

            Loop.Monitor?.OnChanged(this, SourceChangeReason.Ended);
            if (_state == State.Active)
            {
                failure = Deactivate();
            }

            _state = State.Terminated;
            subscribers = _subscribers;
            _subscribers = error;
            Loop.UntrackLocked(this);
            ReleaseResources();
            failure ??= TakeDisarmFailure();
            return true;
        }
    }

    private void DeliverTerminal(object? subscribers, Exception? error, List<Exception>? errors)
    {
        ILoopSource? outer = Loop.EndingSource;
        Loop.EndingSource = this;
        try
        {
            if (subscribers is Subscription one)
            {
                End(one, error, errors);
            }
            else if (subscribers is Subscription[] many)
            {
                foreach (Subscription subscription in many)
                {
                    End(subscription, error, errors);
                }
            }
        }
        finally
        {
            Loop.EndingSource = outer;
        }
    }

    /// <summary>
    /// What a late subscriber hears (caller holds the gate): how the source ended; but a re-subscription from inside
    /// that very notification (Rx's <c>Repeat</c>, <c>Retry</c>, <c>Concat</c> of the same source) would be told
    /// the same end again and again, a loop that never blocks, so it is told why instead.
    /// </summary>
    private Exception? ReplayedEnd()
    {
        if (!ReferenceEquals(Loop.EndingSource, this) || !Loop.IsOnLoopThread)
        {
            return _subscribers as Exception;
        }

        return new InvalidOperationException(
            $"{Name} has ended and was subscribed to again from inside its own end (Repeat, Retry or Concat of one loop source): " +
            "a hot source ends once. To start over, make a new source per subscription, e.g. Observable.Defer(() => loop.Timer(delay)).Repeat().");
    }

    private void End(Subscription subscription, Exception? error, List<Exception>? errors)
    {
        if (subscription.TryEnd())
        {
            try
            {
                if (error is null)
                {
                    subscription.Observer.OnCompleted();
                }
                else
                {
                    subscription.Observer.OnError(error);
                }
            }
            catch (Exception e)
            {
                if (errors is not null)
                {
                    errors.Add(e);
                }
                else
                {
                    Loop.RecordFailure(e);
                }
            }
        }
    }

    /// <summary>Activates for a first subscriber; a refused registration is owed to it as OnError. Caller holds the gate.</summary>
    private bool TryActivate(Subscription subscription)
    {
        try
        {
            Activate();
            return true;
        }
        catch (Exception e)
        {
            // The kernel's refusal (LoopException), or a custom source's Register that threw.
            Loop.EnqueueOwedLocked(new TerminalDelivery(this, subscription, e));
            Loop.WakeIfSleeping();
            return false;
        }
    }

    private void Activate()
    {
        if (UsesToken)
        {
            _token = Loop.AllocateSlotLocked(this);
        }

        if (_enabled)
        {
            try
            {
                Arm();
            }
            catch
            {
                if (UsesToken)
                {
                    Loop.FreeSlotLocked(_token);
                    _token = default;
                }

                throw;
            }

            _armed = true;
        }

        _state = State.Active;
        Loop.TrackLocked(this);
    }

    /// <summary>Unregisters; returns what a custom source's unregistration hook threw, after finishing regardless.</summary>
    private Exception? Deactivate()
    {
        Exception? failure = null;
        if (_armed)
        {
            _armed = false;
            Disarm();
            failure = TakeDisarmFailure();
        }

        if (UsesToken)
        {
            Loop.FreeSlotLocked(_token);
            _token = default;
        }

        _state = State.Inactive;
        if (!OwnsResources)
        {
            Loop.UntrackLocked(this);
        }

        OnDeactivated();
        return failure;
    }

    /// <summary>Removes a subscriber; the last one unregisters the source (a custom source's hook that threw comes out here, after that).</summary>
    private void Unsubscribe(Subscription subscription)
    {
        Exception? failure = null;
        lock (Loop.Gate)
        {
            if (ReferenceEquals(_subscribers, subscription))
            {
                _subscribers = null;
                if (_state == State.Active && !Loop.IsDisposed)
                {
                    failure = Deactivate();
                }
            }
            else
            {
                RemoveOneOfMany(subscription);
            }

            Loop.Monitor?.OnChanged(this, SourceChangeReason.Updated);
        }

        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>Drops one subscriber of several (a no-op when it is not one of them). Caller holds the gate.</summary>
    private void RemoveOneOfMany(Subscription subscription)
    {
        if (_subscribers is not Subscription[] many || Array.IndexOf(many, subscription) is var index && index < 0)
        {
            return;
        }

        if (many.Length == 2)
        {
            _subscribers = many[1 - index];
            return;
        }

        var next = new Subscription[many.Length - 1];
        Array.Copy(many, next, index);
        Array.Copy(many, index + 1, next, index, next.Length - index);
        _subscribers = next;
    }

    private sealed class Subscription(LoopSource<T> source, IObserver<T> observer) : IDisposable
    {
        private int _state;

        public IObserver<T> Observer { get; } = observer;

        public bool IsDisposed => Volatile.Read(ref _state) != 0;

        /// <summary>Marks the subscription ended by a terminal notification; false if it was already disposed or ended.</summary>
        public bool TryEnd() => Interlocked.Exchange(ref _state, 2) == 0;

        public void Dispose()
        {
            if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
            {
                source.Unsubscribe(this);
            }
        }
    }

    /// <summary>A terminal notification owed to subscribers: delivered on the loop thread, or by loop disposal.</summary>
    private sealed class TerminalDelivery(LoopSource<T> source, object subscribers, Exception? error) : OwedCompletion
    {
        internal override void Deliver(List<Exception>? errors) => source.DeliverTerminal(subscribers, error, errors);
    }
}
