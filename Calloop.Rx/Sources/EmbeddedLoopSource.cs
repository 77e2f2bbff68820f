using System.Reactive;
using System.Reactive.Linq;

namespace Calloop.Rx;

/// <summary>
/// Another <see cref="EventLoop"/> driven by this one (GLib's nested <c>GMainContext</c>, calloop's event loop as an
/// fd): while subscribed, whenever the inner loop has something to do (a ready fd, a due timer, a message, scheduled
/// work) the outer loop thread runs one <c>Dispatch(TimeSpan.Zero)</c> of it, then <see cref="EventLoop.PrepareExternalWait"/>.
/// Each value is one such dispatch, delivered after it.
/// </summary>
/// <remarks>
/// <para>The inner loop's notifications therefore run on the outer loop's thread, inside the outer dispatch; nobody
/// else may dispatch the inner loop meanwhile. An exception an inner observer throws comes out of the outer
/// <c>Dispatch</c> (as from a nested <c>Run</c>); what the inner dispatch had not delivered yet is delivered next time.</para>
/// <para>Disposing the inner loop removes this source (its subscribers get <c>OnCompleted</c>) before the inner
/// epoll fd closes; disposing the outer loop ends it too and leaves the inner loop open, to dispose by its owner.
/// Either order closes every fd.</para>
/// </remarks>
public sealed class EmbeddedLoopSource : CompositeSource<Unit>
{
    private readonly EventLoop _inner;
    private readonly FdSource _readable;
    private readonly CancellationTokenRegistration _innerDisposal;

    internal EmbeddedLoopSource(EventLoop outer, EventLoop inner)
        : base(outer, $"Embedded loop on epoll fd {inner.PollFd}")
    {
        _inner = inner;
        _readable = outer.Fd(inner.PollFd);

        // Runs on the disposing thread before the inner loop closes its epoll fd, so the fd leaves the outer epoll first.
        _innerDisposal = inner.DisposalToken.Register(Remove);
    }

    /// <summary>The loop being driven.</summary>
    public EventLoop Inner => _inner;

    /// <inheritdoc/>
    protected override IObservable<Unit> Connect()
    {
        // A first dispatch soon, which arms the inner loop's wake-ups for the outer wait.
        _inner.WakeExternalWaiter();
        return Observable.Create<Unit>(observer => _readable.Subscribe(_ =>
        {
            if (DispatchInner())
            {
                observer.OnNext(Unit.Default);
            }
        }));
    }

    /// <inheritdoc/>
    protected override void OnEnded()
    {
        // Unregister, not Dispose: Dispose waits for a callback running on another thread, which waits for this lock.
        _innerDisposal.Unregister();
        _readable.Remove();
    }

    private bool DispatchInner()
    {
        if (_inner.IsDisposed)
        {
            return false;
        }

        try
        {
            _inner.Dispatch(TimeSpan.Zero);
        }
        catch (ObjectDisposedException) when (_inner.IsDisposed)
        {
            return false;
        }
        finally
        {
            // Also after an observer threw: the rest of that dispatch must make the fd readable again.
            _inner.PrepareExternalWait();
        }

        return true;
    }
}
