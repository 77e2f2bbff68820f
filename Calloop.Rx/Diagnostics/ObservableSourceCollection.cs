using System.Collections.ObjectModel;

namespace Calloop.Rx.Diagnostics;

/// <summary>
/// The live model as a read-only observable collection for UI binding: each <see cref="SourceChangeSet"/> is posted
/// to a <see cref="SynchronizationContext"/> (the UI thread's) and applied there, so the collection and its
/// <c>CollectionChanged</c> events belong to that thread. Rows are kept in the order they joined.
/// </summary>
/// <remarks>
/// Added rows are appended, removed ones removed, and every other change replaces the row in place (a
/// <c>Replace</c> notification). Dispose it to stop following the model; sets already posted are then ignored.
/// </remarks>
public sealed class ObservableSourceCollection : ReadOnlyObservableCollection<SourceInfo>, IDisposable
{
    private readonly ObservableCollection<SourceInfo> _rows;
    private readonly IDisposable _subscription;
    private volatile bool _disposed;

    /// <summary>Follows <paramref name="changes"/> (usually <see cref="LoopDiagnostics.Changes"/>), applying them on <paramref name="context"/>.</summary>
    /// <exception cref="ObjectDisposedException">Subscribing to <paramref name="changes"/> threw it (the loop is disposed).</exception>
    public ObservableSourceCollection(IObservable<SourceChangeSet> changes, SynchronizationContext context)
        : this(changes, context, [])
    {
    }

    private ObservableSourceCollection(IObservable<SourceChangeSet> changes, SynchronizationContext context, ObservableCollection<SourceInfo> rows)
        : base(rows)
    {
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(context);
        _rows = rows;
        _subscription = changes.Subscribe(set => context.Post(state => Apply((SourceChangeSet)state!), set));
    }

    /// <summary>Stops following the model. Any thread; idempotent.</summary>
    public void Dispose()
    {
        _disposed = true;
        _subscription.Dispose();
    }

    private void Apply(SourceChangeSet changes)
    {
        if (_disposed)
        {
            return;
        }

        foreach (SourceChange change in changes)
        {
            int index = IndexOf(change.Source.Id);
            if (change.Reason == SourceChangeReason.Added && index < 0)
            {
                _rows.Add(change.Source);
            }
            else if (change.Reason == SourceChangeReason.Removed)
            {
                if (index >= 0)
                {
                    _rows.RemoveAt(index);
                }
            }
            else if (index >= 0)
            {
                _rows[index] = change.Source;
            }
        }
    }

    private int IndexOf(long id)
    {
        for (int i = 0; i < _rows.Count; i++)
        {
            if (_rows[i].Id == id)
            {
                return i;
            }
        }

        return -1;
    }
}
