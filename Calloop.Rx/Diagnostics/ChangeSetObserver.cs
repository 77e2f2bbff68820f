namespace Calloop.Rx.Diagnostics;

/// <summary>
/// One observer of the live model: its snapshot first, then only the changes made after that snapshot was taken
/// (the feed's next set may hold earlier ones, already part of the snapshot). Loop thread only.
/// </summary>
internal sealed class ChangeSetObserver(IObserver<SourceChangeSet> downstream, SourceChangeSet? snapshot, long snapshotSequence) : IObserver<SourceChangeSet>
{
    private SourceChangeSet? _snapshot = snapshot;

    public void OnNext(SourceChangeSet value)
    {
        if (_snapshot is { } snapshot)
        {
            _snapshot = null;
            downstream.OnNext(snapshot);
        }

        if (value.After(snapshotSequence) is { } changes)
        {
            downstream.OnNext(changes);
        }
    }

    public void OnError(Exception error) => downstream.OnError(error);

    public void OnCompleted() => downstream.OnCompleted();
}
