using System.Collections;

namespace Calloop.Rx.Diagnostics;

/// <summary>
/// The changes to the live model since the previous notification, in the order they happened (DynamicData's
/// shape): apply them in order to a list keyed by <see cref="SourceInfo.Id"/> and it matches the loop.
/// </summary>
public sealed class SourceChangeSet : IReadOnlyList<SourceChange>
{
    private readonly SourceChange[] _changes;

    internal SourceChangeSet(SourceChange[] changes, long firstSequence)
    {
        _changes = changes;
        FirstSequence = firstSequence;
    }

    /// <summary>The sequence number of the first change; the others follow one by one.</summary>
    internal long FirstSequence { get; }

    /// <summary>How many changes the set holds (at least one).</summary>
    public int Count => _changes.Length;

    /// <summary>The change at <paramref name="index"/>, in the order the changes happened.</summary>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public SourceChange this[int index] => _changes[index];

    /// <summary>Enumerates the changes in the order they happened.</summary>
    public IEnumerator<SourceChange> GetEnumerator() => ((IEnumerable<SourceChange>)_changes).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The changes made after sequence number <paramref name="sequence"/>: this set, part of it, or null when none.</summary>
    internal SourceChangeSet? After(long sequence)
    {
        long skip = sequence - FirstSequence + 1;
        if (skip <= 0)
        {
            return _changes.Length == 0 ? null : this;
        }

        return skip >= _changes.Length ? null : new SourceChangeSet(_changes[(int)skip..], sequence + 1);
    }
}
