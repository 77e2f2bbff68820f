using System.Reactive;

namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>
/// A custom source with no fds whose before-sleep hook reports that the loop thread is inside a dispatch and about
/// to wait. Tests use it to act from another thread only once the loop is (about to be) blocked, without sleeping:
/// whatever they then do must wake the wait, whether or not epoll_wait was already entered.
/// </summary>
public sealed class WaitProbe : IEventSource<Unit>, IDisposable
{
    private readonly ManualResetEventSlim _waiting = new();
    private readonly IDisposable _subscription;

    public WaitProbe(EventLoop loop)
    {
        Source = loop.Insert(this);
        _subscription = Source.Subscribe(_ => { });
    }

    public LoopSource<Unit> Source { get; }

    public bool NeedsExtraLifecycleEvents => true;

    /// <summary>Blocks until the loop thread is about to wait (at most <see cref="LoopExtensions.Patience"/>), then re-arms.</summary>
    public void WaitUntilLoopWaits()
    {
        Assert.True(_waiting.Wait(LoopExtensions.Patience), "the loop thread never reached its wait");
        _waiting.Reset();
    }

    public void Register(Poller poller, TokenFactory tokens)
    {
    }

    public void Reregister(Poller poller, TokenFactory tokens)
    {
    }

    public void Unregister(Poller poller)
    {
    }

    public PostAction ProcessEvents(Readiness readiness, Token token, Action<Unit> emit) => PostAction.Continue;

    public bool BeforeSleep(out Token token, out Readiness readiness)
    {
        _waiting.Set();
        token = default;
        readiness = default;
        return false;
    }

    // The event is not disposed: a dispatch on another thread may still be running the hook.
    public void Dispose() => _subscription.Dispose();
}
