namespace Calloop.Rx.Diagnostics;

/// <summary>
/// Delivers the live model's changes on the loop thread: every change noted (on any thread, under the gate) queues
/// this source once, and its event takes them all as one <see cref="SourceChangeSet"/>. Being a loop source, it ends
/// with <c>OnCompleted</c> when the loop is disposed, and shows in the model itself.
/// </summary>
internal sealed class SourceChangeFeed : LoopSource<SourceChangeSet>
{
    private readonly LoopMonitor _monitor;
    private readonly Notifier _notifier;

    public SourceChangeFeed(EventLoop loop, LoopMonitor monitor)
        : base(loop)
    {
        _monitor = monitor;
        _notifier = new Notifier(loop, this);
    }

    internal override string Name => "Diagnostics";

    private protected override bool UsesToken => false;

    /// <summary>Queues a delivery (any thread), also with no change pending, so a new observer gets its snapshot.</summary>
    public void Signal() => _notifier.Signal();

    private protected override void Arm() => _notifier.ArmLocked();

    private protected override void Disarm() => _notifier.DisarmLocked();

    private protected override void OnEvent(Readiness readiness, Token token)
    {
        SourceChangeSet changes;
        lock (Loop.Gate)
        {
            changes = _monitor.TakeChanges();
        }

        Emit(changes);
    }

    private protected override void ReleaseResources() => _notifier.Close();
}
