using System.Runtime.ExceptionServices;
using Calloop.Rx.Diagnostics;

namespace Calloop.Rx;

/// <summary>
/// The registration state machine of one source: inactive until its first subscriber, active (a token, and armed with
/// epoll, the timer heap or a notifier unless disabled) until its last subscriber leaves, terminated once it ends.
/// It also keeps the enabled flag, the source's place in the loop's teardown table, and the change requested from
/// inside the source's own callback, which is applied when the callback returns.
/// </summary>
/// <remarks>
/// A mutable struct held in place by <see cref="LoopSource{T}"/>, so that a source costs no heap object more (a program
/// may hold 100,000 live timers): never copy it, because the loop writes into it through the source too
/// (<see cref="EventLoop.TrackLocked"/> sets <see cref="TrackedSlot"/>). It drives the source through
/// <see cref="IRegistrationHooks"/>. Every member runs under the loop's gate, except <see cref="TryDefer"/> (any
/// thread: it defers only inside the source's own callback), and <see cref="TakeDeferred"/> and
/// <see cref="InterruptsDelivery"/>, which the loop thread uses while it delivers the source.
/// </remarks>
internal struct SourceRegistration
{
    // Declared largest first so the struct packs into 16 bytes without padding. The teardown slot lives here, not in
    // LoopSource<T>, because an int beside this struct would add 8 bytes of padding to every source.
    private Token _token;
    private int _trackedSlot;
    private State _state;
    private RegistrationRequest _deferred;
    private bool _disabled;
    private bool _armed;

    private enum State : byte
    {
        Inactive,
        Active,
        Terminated,
    }

    /// <summary>The current registration's base token; default while inactive or for a source without a token.</summary>
    public readonly Token Token => _token;

    /// <summary>1 + the source's id in the loop's table of sources to tear down, 0 when not in it (<see cref="ILoopSource.TrackedSlot"/>).</summary>
    public int TrackedSlot
    {
        readonly get => _trackedSlot;
        set => _trackedSlot = value;
    }

    /// <summary>Whether the source is enabled; a new source is.</summary>
    public readonly bool IsEnabled => !_disabled;

    /// <summary>Whether the source is registered: it has subscribers and has not ended.</summary>
    public readonly bool IsActive => _state == State.Active;

    /// <summary>Whether the source has ended.</summary>
    public readonly bool IsTerminated => _state == State.Terminated;

    /// <summary>Whether the source is registered with epoll, the heap or its notifier right now (active and enabled).</summary>
    public readonly bool IsArmed => _armed;

    /// <summary>Whether a Disable or Remove was requested inside the callback running now (loop thread): deliver nothing more.</summary>
    public readonly bool InterruptsDelivery => _deferred is RegistrationRequest.Disable or RegistrationRequest.Remove;

    /// <summary>The state the live model shows.</summary>
    public readonly SourceState DiagnosticState => _state switch
    {
        State.Terminated => SourceState.Ended,
        State.Active => _disabled ? SourceState.Disabled : SourceState.Active,
        _ => SourceState.Idle,
    };

    /// <summary>
    /// Inside <paramref name="source"/>'s own callback (on the loop thread), records <paramref name="request"/> for the
    /// loop to apply when the callback returns (<see cref="TakeDeferred"/>) and returns true; elsewhere returns false.
    /// </summary>
    /// <exception cref="InvalidOperationException">Inside the callback of an ended source, for anything but Remove.</exception>
    public bool TryDefer(IRegistrationHooks source, RegistrationRequest request)
    {
        if (!ReferenceEquals(source.Loop.Cycle.CurrentSource, source) || !source.Loop.IsOnLoopThread)
        {
            return false;
        }

        // Only the loop thread ends a source it is delivering, so this read is not stale here.
        if (_state == State.Terminated && request != RegistrationRequest.Remove)
        {
            ThrowEnded(source, request);
        }

        // calloop's rule: the last call made inside the callback wins, except that nothing undoes a Remove
        // (calloop empties the slot at once, so later calls on that token fail).
        if (_deferred != RegistrationRequest.Remove)
        {
            _deferred = request;
        }

        return true;
    }

    /// <summary>The change requested inside the callback that just returned, now cleared (loop thread).</summary>
    public RegistrationRequest TakeDeferred()
    {
        RegistrationRequest request = _deferred;
        _deferred = RegistrationRequest.None;
        return request;
    }

    /// <summary>Applies an Enable, Disable or Update (Remove ends the source: <see cref="End"/>).</summary>
    /// <exception cref="LoopException">The kernel refused the registration or the change.</exception>
    /// <exception cref="InvalidOperationException">The source has ended.</exception>
    public void Apply(IRegistrationHooks source, RegistrationRequest request)
    {
        if (_state == State.Terminated)
        {
            ThrowEnded(source, request);
        }

        switch (request)
        {
            case RegistrationRequest.Enable:
                _disabled = false;
                if (_state == State.Active && !_armed)
                {
                    source.Arm();
                    _armed = true;
                }

                break;
            case RegistrationRequest.Disable:
                _disabled = true;
                if (_armed)
                {
                    _armed = false;
                    source.Disarm();
                    if (source.TakeDisarmFailure() is { } failure)
                    {
                        ExceptionDispatchInfo.Throw(failure);
                    }
                }

                break;
            case RegistrationRequest.Update:
                if (_armed)
                {
                    source.Rearm();
                }

                break;
        }
    }

    /// <summary>
    /// Registers for a first subscriber: a token if the source uses one, armed unless disabled, tracked for teardown.
    /// On refusal it throws and stays inactive.
    /// </summary>
    /// <exception cref="LoopException">The kernel refused the registration (or a custom source's own Register threw).</exception>
    public void Activate(IRegistrationHooks source)
    {
        if (source.UsesToken)
        {
            _token = source.Loop.Sources.AllocateLocked(source);
        }

        if (!_disabled)
        {
            try
            {
                source.Arm();
            }
            catch
            {
                if (source.UsesToken)
                {
                    source.Loop.Sources.FreeLocked(_token);
                    _token = default;
                }

                throw;
            }

            _armed = true;
        }

        _state = State.Active;
        source.Loop.TrackLocked(source);
    }

    /// <summary>Unregisters; returns what a custom source's unregistration hook threw, after finishing regardless.</summary>
    public Exception? Deactivate(IRegistrationHooks source)
    {
        Exception? failure = null;
        if (_armed)
        {
            _armed = false;
            source.Disarm();
            failure = source.TakeDisarmFailure();
        }

        if (source.UsesToken)
        {
            source.Loop.Sources.FreeLocked(_token);
            _token = default;
        }

        _state = State.Inactive;
        if (!source.OwnsResources)
        {
            source.Loop.UntrackLocked(source);
        }

        source.OnDeactivated();
        return failure;
    }

    /// <summary>
    /// Moves a source that has not ended to Terminated, unregistering it first if active; returns what a custom
    /// source's unregistration hook threw. Releasing what the source owns is the caller's.
    /// </summary>
    public Exception? End(IRegistrationHooks source)
    {
        Exception? failure = _state == State.Active ? Deactivate(source) : null;
        _state = State.Terminated;
        return failure;
    }

    private static void ThrowEnded(ILoopSource source, RegistrationRequest request) =>
        throw new InvalidOperationException($"{source.Name} has ended (removed, completed or failed): {request} is not possible any more. Subscribe to learn how it ended.");
}
