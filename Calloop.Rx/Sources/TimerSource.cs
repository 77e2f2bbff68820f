using Calloop.Rx.Scheduling;

namespace Calloop.Rx;

/// <summary>
/// A deadline timer (calloop's <c>Timer</c>): each event is the deadline that fired (not "now", so lateness can
/// be measured). Without a <see cref="TimeoutAction"/> callback it fires once and completes. No fd per timer: all
/// timers share the loop's heap, and the loop's wait is bounded by the earliest one.
/// </summary>
/// <remarks>A deadline of <see cref="DateTimeOffset.MaxValue"/> (from <see cref="TimeSpan.MaxValue"/>) never fires. Timers
/// with equal deadlines fire in the order they were armed, on the real and the virtual clock alike.</remarks>
public sealed class TimerSource : LoopSource<DateTimeOffset>, ITimedItem
{
    private readonly Func<DateTimeOffset, TimeoutAction>? _next;
    private long _deadline;

    // The source is its own timer-heap entry (one object less per timer than a separate entry; 100,000 live timers
    // are a lot of garbage-collector work): its id there, and whether it may still fire (false once disarmed, so an
    // entry already popped as due in this dispatch does not). The heap's node keeps the deadline it was inserted
    // with and hands it back when it fires, and the order among equal deadlines.
    private int _heapId = -1;
    private int _fireArmed;

    internal TimerSource(EventLoop loop, long deadline, Func<DateTimeOffset, TimeoutAction>? next)
        : base(loop)
    {
        _deadline = deadline;
        _next = next;
    }

    /// <summary>
    /// The next deadline. Setting it takes effect on <see cref="LoopSource{T}.Update"/> (or, from inside the
    /// timer's own callback, when it returns).
    /// </summary>
    public DateTimeOffset Deadline
    {
        get => Loop.Time.ToDateTimeOffset(Volatile.Read(ref _deadline));
        set => Volatile.Write(ref _deadline, Loop.Time.ToTicks(value));
    }

    internal override string Name => "Timer";

    int ITimedItem.HeapId
    {
        get => _heapId;
        set => _heapId = value;
    }

    private protected override bool UsesToken => false;

    void ITimedItem.Invoke(long deadline)
    {
        // Taken atomically rather than under the gate: a Disarm from another thread either comes first (no event) or
        // finds the event already under way, which may finish (the rule for disposal from another thread).
        if (Interlocked.Exchange(ref _fireArmed, 0) == 1)
        {
            Loop.Cycle.DeliverTimer(this, deadline);
        }
    }

    private protected override void Arm()
    {
        long deadline = Volatile.Read(ref _deadline);
        if (deadline != long.MaxValue)
        {
            InsertLocked(deadline);
        }
    }

    private protected override void Disarm()
    {
        Volatile.Write(ref _fireArmed, 0);
        Loop.Work.Timers.Remove(this);
    }

    private protected override void OnEvent(Readiness readiness, Token token)
    {
        long fired = Loop.Cycle.FiredDeadline;
        Emit(Loop.Time.ToDateTimeOffset(fired));
        TimeoutAction action = _next?.Invoke(Loop.Time.ToDateTimeOffset(fired)) ?? TimeoutAction.Drop;
        switch (action.Kind)
        {
            case TimeoutActionKind.ToInstant:
                Reschedule(Loop.Time.ToTicks(action.Instant));
                break;
            case TimeoutActionKind.ToDuration:
                Reschedule(Loop.Time.DeadlineAfter(action.Duration));
                break;
            default:
                Complete();
                break;
        }
    }

    private void Reschedule(long deadline)
    {
        Volatile.Write(ref _deadline, deadline);
        if (deadline == long.MaxValue)
        {
            // An overflowing re-arm never fires, so the timer is over (calloop removes it too).
            Complete();
            return;
        }

        lock (Loop.Gate)
        {
            // A Disable or Remove made inside the callback is applied after this returns and takes the entry out again.
            if (IsArmed && _heapId < 0)
            {
                InsertLocked(deadline);
            }
        }
    }

    private void InsertLocked(long deadline)
    {
        Volatile.Write(ref _fireArmed, 1);
        Loop.InsertTimerLocked(this, deadline);
    }
}
