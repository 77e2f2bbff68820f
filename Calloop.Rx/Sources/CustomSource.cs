namespace Calloop.Rx;

/// <summary>The <see cref="LoopSource{T}"/> of an <see cref="IEventSource{T}"/> given to <see cref="EventLoop.Insert{T}(IEventSource{T})"/>.</summary>
internal sealed class CustomSource<T> : LoopSource<T>
{
    private readonly IEventSource<T> _inner;
    private readonly Action<T> _emit;
    private Exception? _unregisterFailure;

    internal CustomSource(EventLoop loop, IEventSource<T> inner)
        : base(loop)
    {
        _inner = inner;
        _emit = Emit;
    }

    internal override string Name => _inner.GetType().Name;

    private protected override void Arm()
    {
        _inner.Register(Loop.Poller, new TokenFactory(RegistrationToken));
        if (_inner.NeedsExtraLifecycleEvents)
        {
            Loop.Hooks.AddLocked(this);
        }
    }

    private protected override void Disarm()
    {
        Loop.Hooks.RemoveLocked(this);
        try
        {
            _inner.Unregister(Loop.Poller);
        }
        catch (LoopException)
        {
            // A vanished fd is already unregistered.
        }
        catch (Exception e)
        {
            // The user's own code: reported by the caller once the source is unregistered all the same.
            _unregisterFailure = e;
        }
    }

    private protected override Exception? TakeDisarmFailure()
    {
        Exception? failure = _unregisterFailure;
        _unregisterFailure = null;
        return failure;
    }

    private protected override void Rearm() => _inner.Reregister(Loop.Poller, new TokenFactory(RegistrationToken));

    private protected override void OnEvent(Readiness readiness, Token token)
    {
        PostAction action = _inner.ProcessEvents(readiness, token, _emit);

        // As in calloop, a returned action other than Continue wins over a Disable or Update requested from inside
        // the callback; a Remove requested there stays (LoopSource never lets a later change undo it).
        switch (action)
        {
            case PostAction.Reregister:
                Update();
                break;
            case PostAction.Disable:
                Disable();
                break;
            case PostAction.Remove:
                Remove();
                break;
        }
    }

    private protected override bool BeforeSleep(out Token token, out Readiness readiness) => _inner.BeforeSleep(out token, out readiness);

    private protected override void BeforeHandleEvents(IReadOnlyList<(Readiness Readiness, Token Token)> events) => _inner.BeforeHandleEvents(events);
}
