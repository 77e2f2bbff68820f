using Calloop.Rx.Collections;

namespace Calloop.Rx.Scheduling;

/// <summary>
/// Something the loop runs on its thread: an immediate action in the ready queue, or a timed entry in the
/// <see cref="TimerHeap"/> (a scheduled action, a periodic action, a timer source). One type for both so that
/// timer sources and scheduled actions with equal deadlines run in the order they were scheduled.
/// </summary>
internal abstract class WorkItem : ITimedItem
{
    /// <summary>Loop time (ticks since the loop's origin) when the item is due.</summary>
    internal long Deadline;

    /// <summary>The item's id in the timer heap while it is in it, or -1.</summary>
    internal int HeapId = -1;

    int ITimedItem.HeapId
    {
        get => HeapId;
        set => HeapId = value;
    }

    /// <summary>Runs the item on the loop thread, outside the loop's lock.</summary>
    internal abstract void Invoke();

    void ITimedItem.Invoke(long deadline) => Invoke();
}
