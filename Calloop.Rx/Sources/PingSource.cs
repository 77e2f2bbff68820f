using System.Reactive;

namespace Calloop.Rx;

/// <summary>
/// The receiving side of <see cref="EventLoop.Ping"/>: any number of <see cref="Ping.Send"/> calls between two
/// dispatches produce one event. When the last <see cref="Ping"/> is disposed the source completes, after
/// delivering a ping that was still pending.
/// </summary>
public sealed class PingSource : LoopSource<Unit>
{
    private readonly Notifier _notifier;
    private int _pinged;
    private volatile bool _sendersGone;

    internal PingSource(EventLoop loop)
        : base(loop)
    {
        _notifier = new Notifier(loop, this);
    }

    internal override string Name => "Ping";

    private protected override bool UsesToken => false;

    /// <summary>Any thread: records a ping and queues the source. False once the source has ended.</summary>
    internal bool Send()
    {
        if (DiagnosticsRecord is { } record)
        {
            if (Interlocked.Exchange(ref _pinged, 1) == 1)
            {
                Interlocked.Increment(ref record.Coalesced);
            }
        }
        else
        {
            Volatile.Write(ref _pinged, 1);
        }

        return _notifier.Signal();
    }

    /// <summary>The last sender is gone: the source completes after delivering a pending ping.</summary>
    internal void SendersGone()
    {
        _sendersGone = true;
        _notifier.Signal();
    }

    private protected override void Arm() => _notifier.ArmLocked();

    private protected override void Disarm() => _notifier.DisarmLocked();

    private protected override void OnEvent(Readiness readiness, Token token)
    {
        if (Interlocked.Exchange(ref _pinged, 0) == 1)
        {
            Emit(Unit.Default);
        }

        if (_sendersGone)
        {
            // A Disable from this callback holds back the completion too, until Enable re-signals the source.
            if (BatchInterrupted)
            {
                _notifier.Signal();
            }
            else
            {
                Complete();
            }
        }
    }

    private protected override void ReleaseResources() => _notifier.Close();
}
