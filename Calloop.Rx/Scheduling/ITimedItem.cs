using Calloop.Rx.Collections;

namespace Calloop.Rx.Scheduling;

/// <summary>
/// What the <see cref="TimerHeap"/> holds: something due at a loop time. <see cref="WorkItem"/>s implement it, and so
/// does <see cref="TimerSource"/> itself, so that a timer source needs no separate heap entry object.
/// </summary>
internal interface ITimedItem
{
    /// <summary>The item's id in the timer heap while it is in it, or -1.</summary>
    int HeapId { get; set; }

    /// <summary>
    /// Runs the item on the loop thread, outside the loop's lock. <paramref name="deadline"/> is the loop time it was
    /// due at, as inserted into the heap (kept by the heap's node, so a timer needs no field of its own for it).
    /// </summary>
    void Invoke(long deadline);
}
