using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Calloop.Rx.Loop;

/// <summary>
/// Sources signalled by producers on any thread (pings, channels, signals), waiting for the loop: a lock-free
/// stack producers push onto, and the batch the loop thread took from it, delivered in signalling order within a
/// time budget. Whatever the budget leaves stays at the front of the batch for the next dispatch.
/// </summary>
/// <remarks><see cref="Push"/> is for any thread; everything else is for the thread that holds the dispatch role.</remarks>
internal sealed class ReadyList
{
    /// <summary>
    /// How long one dispatch may spend on signalled sources before it leaves the rest for the next: a thousand busy
    /// channels each deliver up to a batch of messages, and without a bound a dispatch would take so long that timers
    /// fire late by as much. Checked only when more than <see cref="TimeCheckThreshold"/> sources are ready, so the
    /// usual dispatch pays nothing for it.
    /// </summary>
    private static readonly long s_timeBudgetTimestampTicks = TimeSpan.TicksPerMillisecond / 2 * Stopwatch.Frequency / TimeSpan.TicksPerSecond;

    private const int TimeCheckThreshold = 16;

    private readonly List<Notifier> _batch = [];
    private Notifier? _head;
    private int _cursor;

    /// <summary>Whether a producer queued a source since the loop last took the list.</summary>
    public bool HasQueued => Volatile.Read(ref _head) is not null;

    /// <summary>Whether the last dispatch left signalled sources undelivered because it ran out of time; the next dispatch must then not wait.</summary>
    public bool HasDeferred => _cursor < _batch.Count;

    /// <summary>Any thread: pushes a signalled source (a Treiber stack). The caller wakes the loop.</summary>
    public void Push(Notifier notifier)
    {
        Notifier? head;
        do
        {
            head = Volatile.Read(ref _head);
            notifier.Next = head;
        }
        while (Interlocked.CompareExchange(ref _head, notifier, head) != head);
    }

    /// <summary>
    /// Takes everything queued so far, in the order it was signalled, after what the last dispatch left over (those
    /// first, so a source deferred once is not deferred again by newer ones).
    /// </summary>
    public void Take()
    {
        if (_cursor > 0)
        {
            _batch.RemoveRange(0, _cursor);
            _cursor = 0;
        }

        // Nothing queued is the usual case in an fd-driven dispatch; a plain read spares the atomic exchange.
        if (Volatile.Read(ref _head) is null)
        {
            return;
        }

        int start = _batch.Count;
        Notifier? node = Interlocked.Exchange(ref _head, null);
        while (node is not null)
        {
            Notifier? next = node.Next;
            node.Next = null;
            _batch.Add(node);
            node = next;
        }

        _batch.Reverse(start, _batch.Count - start);
    }

    /// <summary>The timestamp at which the rest of this batch must yield to timers, or <see cref="long.MaxValue"/> when the batch is small.</summary>
    public long Deadline() =>
        _batch.Count - _cursor > TimeCheckThreshold ? Stopwatch.GetTimestamp() + s_timeBudgetTimestampTicks : long.MaxValue;

    /// <summary>
    /// The next source of the batch, unless none is left or <paramref name="deadline"/> (from <see cref="Deadline"/>)
    /// has passed: then the rest stay queued (their flags still set, so producers do not queue them again) and go
    /// first in the next dispatch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryNext(long deadline, [NotNullWhen(true)] out Notifier? notifier)
    {
        if (_cursor < _batch.Count && (deadline == long.MaxValue || Stopwatch.GetTimestamp() <= deadline))
        {
            notifier = _batch[_cursor++];
            return true;
        }

        notifier = null;
        return false;
    }

    /// <summary>Ends this dispatch's pass: forgets the batch unless the time budget deferred part of it.</summary>
    public void EndPass()
    {
        if (!HasDeferred)
        {
            _batch.Clear();
            _cursor = 0;
        }
    }
}
