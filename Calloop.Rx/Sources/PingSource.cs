using System.Reactive;
using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// The receiving side of <see cref="EventLoop.Ping"/>: any number of <see cref="Ping.Send"/> calls between two
/// dispatches produce one event. When the last <see cref="Ping"/> is disposed the source completes, after
/// delivering a ping that was still pending.
/// </summary>
public sealed class PingSource : LoopSource<Unit>
{
    // The eventfd counter carries two facts: each ping adds 2, the last sender's disposal adds 1, so one read
    // tells both "pinged" (>= 2) and "closed" (odd) without a race between them.
    internal const ulong PingValue = 2;
    internal const ulong CloseValue = 1;

    private readonly Notifier _notifier;

    internal PingSource(EventLoop loop)
        : base(loop, "Ping")
    {
        _notifier = new Notifier("Ping");
    }

    internal Notifier Notifier => _notifier;

    private protected override bool OwnsResources => true;

    private protected override void Arm() => Loop.Epoll.Add(_notifier.Fd, Sys.EpollIn, RegistrationToken.Value, Name);

    private protected override void Disarm() => Loop.Epoll.Delete(_notifier.Fd);

    private protected override void OnEvent(Readiness readiness, Token token)
    {
        ulong value = _notifier.Drain();
        if (value >= PingValue)
        {
            Emit(Unit.Default);
        }

        if ((value & CloseValue) != 0)
        {
            Complete();
        }
    }

    private protected override void ReleaseResources() => _notifier.Dispose();
}
