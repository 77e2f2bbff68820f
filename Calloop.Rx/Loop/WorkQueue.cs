using Calloop.Rx.Collections;
using Calloop.Rx.Scheduling;

namespace Calloop.Rx.Loop;

/// <summary>
/// Everything scheduled to run on the loop rather than caused by an event: immediate work for the actions phase,
/// timed work in the timer heap, and idle callbacks. The gate guards it; the loop thread drains the immediate work
/// from a second queue swapped in under the gate, so producers and the running actions never share a queue.
/// </summary>
internal sealed class WorkQueue
{
    private Queue<WorkItem> _queued = new();
    private Queue<WorkItem> _running = new();
    private bool _closed;

    /// <summary>Timers and timed actions by (deadline, scheduling order). Caller holds the gate.</summary>
    public TimerHeap Timers { get; } = new();

    /// <summary>Idle callbacks for the end of a dispatch.</summary>
    public IdleQueue Idles { get; } = new();

    /// <summary>Whether teardown has dropped the queues for good.</summary>
    public bool IsClosed => _closed;

    /// <summary>Any thread, without the gate: a hint that immediate work is queued (checked again under the gate before the loop sleeps).</summary>
    public bool HasQueued => _queued.Count > 0;

    /// <summary>Immediate items queued for the next actions phase. Caller holds the gate.</summary>
    public int QueuedCountLocked => _queued.Count;

    /// <summary>Loop thread: items taken for the actions phase in progress and not run yet.</summary>
    public bool HasRunning => _running.Count > 0;

    /// <summary>Queues work for the next actions phase. Caller holds the gate and wakes the loop after releasing it.</summary>
    public void EnqueueLocked(WorkItem item) => _queued.Enqueue(item);

    /// <summary>
    /// Queues an owed notification even on a disposed loop whose teardown has not run yet (teardown delivers it then).
    /// False once teardown has taken the queues: the caller delivers it itself. Caller holds the gate.
    /// </summary>
    public bool TryEnqueueOwedLocked(OwedCompletion item)
    {
        if (_closed)
        {
            return false;
        }

        _queued.Enqueue(item);
        return true;
    }

    /// <summary>Loop thread: makes the queued work the running work of this actions phase. Caller holds the gate.</summary>
    public void BeginActionsLocked() => (_queued, _running) = (_running, _queued);

    /// <summary>Loop thread: the next item of the actions phase in progress.</summary>
    public bool TryTakeRunning([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out WorkItem? item) => _running.TryDequeue(out item);

    /// <summary>Moves the timed items due at <paramref name="now"/> to <paramref name="due"/>, in order. Caller holds the gate.</summary>
    public void CollectDueLocked(long now, List<(ITimedItem Item, long Deadline)> due)
    {
        while (Timers.PopDue(now, out long deadline) is { } item)
        {
            due.Add((item, deadline));
        }
    }

    /// <summary>
    /// Teardown: drops every queue for good, handing over the items that owe someone an answer (a source's end).
    /// Caller holds the gate.
    /// </summary>
    public void CloseLocked(List<OwedCompletion> owed)
    {
        _closed = true;
        TakeOwed(_running, owed);
        TakeOwed(_queued, owed);
        Idles.ClearLocked();
        Timers.Release();
    }

    private static void TakeOwed(Queue<WorkItem> queue, List<OwedCompletion> owed)
    {
        while (queue.TryDequeue(out WorkItem? item))
        {
            if (item is OwedCompletion completion)
            {
                owed.Add(completion);
            }
        }
    }
}
