using System.Runtime.ExceptionServices;
using Calloop.Rx.Diagnostics;

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
public abstract class LoopSource<T> : IObservable<T>, ILoopSource, IRegistrationHooks
{
    // The subscriber list and the registration are structs held in place (never copied), so that a source is one
    // object: a program may hold 100,000 live timers, each a source, and every byte of them is garbage-collector work.
    private SubscriberList<T> _subscribers;
    private SourceRegistration _registration;
    private SourceRecord? _record; // diagnostics: null unless someone observes them

    private protected LoopSource(EventLoop loop)
    {
        Loop = loop;
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
                return _registration.IsEnabled;
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
                return _registration.IsActive;
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
                return _registration.IsTerminated;
            }
        }
    }

    /// <summary>A short description used in exception messages, e.g. <c>Fd 7</c>.</summary>
    internal abstract string Name { get; }

    Token ILoopSource.Token => _registration.Token;

    bool ILoopSource.OwnsResources => OwnsResources;

    int ILoopSource.TrackedSlot
    {
        get => _registration.TrackedSlot;
        set => _registration.TrackedSlot = value;
    }

    string ILoopSource.Name => Name;

    SourceRecord? ILoopSource.Record
    {
        get => _record;
        set => _record = value;
    }

    SourceState ILoopSource.DiagnosticState => _registration.DiagnosticState;

    int ILoopSource.SubscriberCount => _subscribers.Count;

    bool IRegistrationHooks.UsesToken => UsesToken;

    /// <summary>
    /// Whether the source holds OS resources from creation until it ends (a socket it owns), so loop disposal must
    /// reach it even while unsubscribed. Other sources are reachable from the loop only while registered, so one
    /// nobody subscribes to is collected with its senders; those learn of the loop's disposal from the loop itself.
    /// </summary>
    private protected virtual bool OwnsResources => false;

    /// <summary>Whether the source needs a token (a slab slot) for epoll events; timers do not.</summary>
    private protected virtual bool UsesToken => true;

    /// <summary>The source's diagnostics record while they are observed, else null.</summary>
    private protected SourceRecord? DiagnosticsRecord => _record;

    /// <summary>Whether the source is registered with epoll or the heap right now. Caller holds the gate.</summary>
    private protected bool IsArmed => _registration.IsArmed;

    /// <summary>The current registration's base token (valid while active).</summary>
    private protected Token RegistrationToken => _registration.Token;

    /// <summary>
    /// Whether a source delivering several items for one event (channel messages, signal numbers) must stop at the
    /// next item boundary: an observer threw (the rest stays pending), or a callback called <see cref="Disable"/> or
    /// <see cref="Remove"/> (nothing is delivered after the callback that asked).
    /// </summary>
    private protected bool BatchInterrupted => Loop.Cycle.HasPendingFailures || _registration.InterruptsDelivery;

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
        var subscription = new Subscription<T>(this, observer);
        bool ended = false;
        lock (Loop.Gate)
        {
            Loop.ThrowIfDisposed();
            if (_registration.IsTerminated)
            {
                // Queued under the gate, so loop disposal either finds it owed or came first (and Subscribe threw).
                Loop.Work.TryEnqueueOwedLocked(new TerminalDelivery<T>(this, new SubscriberList<T>(subscription), _subscribers.ReplayedEnd(this)));
                ended = true;
            }
            else
            {
                if (!_registration.IsActive && !TryActivate(subscription))
                {
                    return subscription;
                }

                _subscribers.Add(subscription);
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
    public void Enable() => Change(RegistrationRequest.Enable);

    /// <summary>
    /// Pauses delivery without ending the source: the registration is kept and nothing is delivered until
    /// <see cref="Enable"/>, not even <c>OnCompleted</c> (a channel or ping whose senders are gone completes once it
    /// is enabled again, or when it is removed or the loop is disposed). Inside the source's own callback it takes
    /// effect when the callback returns, and nothing of the event in progress reaches a later subscriber.
    /// </summary>
    /// <exception cref="InvalidOperationException">The source has ended (removed, completed or failed).</exception>
    public void Disable() => Change(RegistrationRequest.Disable);

    /// <summary>
    /// Applies changed settings (an fd's <see cref="FdSource.Interest"/> or <see cref="FdSource.Mode"/>, a timer's
    /// deadline) and re-arms a one-shot fd. Inside the source's own callback it takes effect when the callback returns.
    /// </summary>
    /// <exception cref="LoopException">The kernel refused the change (for example the fd was closed).</exception>
    /// <exception cref="InvalidOperationException">The source has ended (removed, completed or failed).</exception>
    public void Update() => Change(RegistrationRequest.Update);

    /// <summary>
    /// Ends the source: it is unregistered and its subscribers get <c>OnCompleted</c>. Inside the source's own
    /// callback, every subscriber still gets the event in progress, then <c>OnCompleted</c>; from elsewhere,
    /// <c>OnCompleted</c> arrives on the next dispatch (or from loop disposal, if that comes first). Removing an
    /// ended source does nothing.
    /// </summary>
    public void Remove() => Change(RegistrationRequest.Remove);

    /// <summary>Removes a subscriber; the last one unregisters the source (a custom source's hook that threw comes out here, after that).</summary>
    internal void Unsubscribe(Subscription<T> subscription)
    {
        Exception? failure = null;
        lock (Loop.Gate)
        {
            if (_subscribers.Remove(subscription) && _registration.IsActive && !Loop.IsDisposed)
            {
                failure = _registration.Deactivate(this);
            }

            Loop.Monitor?.OnChanged(this, SourceChangeReason.Updated);
        }

        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    void ILoopSource.AfterCallback()
    {
        RegistrationRequest request = _registration.TakeDeferred();
        if (request != RegistrationRequest.None)
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
        if (!TryEnd(null, out SubscriberList<T> subscribers, out Exception? failure))
        {
            return null;
        }

        if (failure is not null)
        {
            errors.Add(failure);
        }

        return subscribers.Count == 0 ? null : new TerminalDelivery<T>(this, subscribers, null);
    }

    bool ILoopSource.BeforeSleep(out Token token, out Readiness readiness) => BeforeSleep(out token, out readiness);

    void ILoopSource.BeforeHandleEvents(IReadOnlyList<(Readiness Readiness, Token Token)> events) => BeforeHandleEvents(events);

    void IRegistrationHooks.Arm() => Arm();

    void IRegistrationHooks.Disarm() => Disarm();

    void IRegistrationHooks.Rearm() => Rearm();

    Exception? IRegistrationHooks.TakeDisarmFailure() => TakeDisarmFailure();

    void IRegistrationHooks.OnDeactivated() => OnDeactivated();

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

    /// <summary>Delivers <paramref name="value"/> to every live subscriber (loop thread). Observer exceptions are recorded, not thrown.</summary>
    private protected void Emit(T value)
    {
        if (_record is { } record)
        {
            record.Delivered++;
        }

        _subscribers.OnNext(value, this);
    }

    /// <summary>Ends the source from its own event processing (loop thread): OnCompleted or OnError now.</summary>
    private protected void Complete(Exception? error = null) => Terminate(error, deliverNow: true);

    private void Change(RegistrationRequest request)
    {
        if (!_registration.TryDefer(this, request))
        {
            Apply(request, deliverNow: false);
        }
    }

    private void Apply(RegistrationRequest request, bool deliverNow)
    {
        if (request == RegistrationRequest.Remove)
        {
            Terminate(null, deliverNow);
            return;
        }

        lock (Loop.Gate)
        {
            _registration.Apply(this, request);
            Loop.Monitor?.OnChanged(this, request switch
            {
                RegistrationRequest.Enable => SourceChangeReason.Enabled,
                RegistrationRequest.Disable => SourceChangeReason.Disabled,
                _ => SourceChangeReason.Updated,
            });
        }
    }

    /// <summary>
    /// Ends the source: now on the loop thread (<paramref name="deliverNow"/>), else queued for the next dispatch.
    /// A custom source's unregistration hook that threw comes out of here once the source has ended regardless.
    /// </summary>
    private void Terminate(Exception? error, bool deliverNow)
    {
        Exception? failure;
        SubscriberList<T> subscribers;
        bool queued = false;
        lock (Loop.Gate)
        {
            if (!TryEnd(error, out subscribers, out failure))
            {
                return;
            }

            // Queued under the gate, so that loop disposal, which empties the queue, finds it owed; once disposal
            // has emptied it, the notification is delivered here instead.
            if (!deliverNow && subscribers.Count != 0)
            {
                queued = Loop.Work.TryEnqueueOwedLocked(new TerminalDelivery<T>(this, subscribers, error));
            }
        }

        if (queued)
        {
            Loop.WakeIfSleeping();
        }
        else
        {
            subscribers.DeliverEnd(this, error, null);
        }

        if (failure is not null)
        {
            if (deliverNow)
            {
                Loop.Cycle.RecordFailure(failure);
            }
            else
            {
                ExceptionDispatchInfo.Throw(failure);
            }
        }
    }

    /// <summary>
    /// Ends the registration and the subscriber list, then releases what the source owns; hands over the subscribers
    /// to notify; false when it had already ended. <paramref name="failure"/> is what a custom source's unregistration
    /// hook threw, if anything. Takes the gate itself (callers that hold it already re-enter it).
    /// </summary>
    private bool TryEnd(Exception? error, out SubscriberList<T> subscribers, out Exception? failure)
    {
        lock (Loop.Gate)
        {
            if (_registration.IsTerminated)
            {
                subscribers = default;
                failure = null;
                return false;
            }

            Loop.Monitor?.OnChanged(this, SourceChangeReason.Ended);
            failure = _registration.End(this);
            subscribers = _subscribers.End(error);
            Loop.UntrackLocked(this);
            ReleaseResources();
            failure ??= TakeDisarmFailure();
            return true;
        }
    }

    /// <summary>Activates for a first subscriber; a refused registration is owed to it as OnError. Caller holds the gate.</summary>
    private bool TryActivate(Subscription<T> subscription)
    {
        try
        {
            _registration.Activate(this);
            return true;
        }
        catch (Exception e)
        {
            // The kernel's refusal (LoopException), or a custom source's Register that threw.
            Loop.Work.TryEnqueueOwedLocked(new TerminalDelivery<T>(this, new SubscriberList<T>(subscription), e));
            Loop.WakeIfSleeping();
            return false;
        }
    }
}
