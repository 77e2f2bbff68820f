using Calloop.Rx.Scheduling;

namespace Calloop.Rx;

/// <summary>
/// A deadline timer (calloop's <c>Timer</c>): each event is the deadline that fired (not "now", so lateness can
/// be measured). Without a <see cref="TimeoutAction"/> callback it fires once and completes. No fd per timer: all
/// timers share the loop's heap, and the loop's wait is bounded by the earliest one.
/// </summary>
/// <remarks>A deadline of <see cref="DateTimeOffset.MaxValue"/> (from <see cref="TimeSpan.MaxValue"/>) never fires. Timers
/// with equal deadlines fire in the order they were armed, on the real and the virtual clock alike.</remarks>
public sealed class TimerSource : LoopSource<DateTimeOffset>
{
    private readonly Func<DateTimeOffset, TimeoutAction>? _next;
    private readonly Entry _entry;
    private long _deadline;

    internal TimerSource(EventLoop loop, long deadline, Func<DateTimeOffset, TimeoutAction>? next)
        : base(loop, "Timer")
    {
        _deadline = deadline;
        _next = next;
        _entry = new Entry(this);
    }

    /// <summary>
    /// The next deadline. Setting it takes effect on <see cref="LoopSource{T}.Update"/> (or, from inside the
    /// timer's own callback, when it returns).
    /// </summary>
    public DateTimeOffset Deadline
    {
        get => Loop.ToDateTimeOffset(Volatile.Read(ref _deadline));
        set => Volatile.Write(ref _deadline, Loop.ToTicks(value));
    }

    private protected override bool UsesToken => false;

    private protected override void Arm()
    {
        long deadline = Volatile.Read(ref _deadline);
        if (deadline != long.MaxValue)
        {
            _entry.Deadline = deadline;
            _entry.Armed = true;
            Loop.InsertTimerLocked(_entry);
        }
    }

    private protected override void Disarm()
    {
        _entry.Armed = false;
        Loop.RemoveTimerLocked(_entry);
    }

    private protected override void OnEvent(Readiness readiness, Token token)
    {
        long fired = _entry.Deadline;
        Emit(Loop.ToDateTimeOffset(fired));
        TimeoutAction action = _next?.Invoke(Loop.ToDateTimeOffset(fired)) ?? TimeoutAction.Drop;
        switch (action.What)
        {
            case TimeoutAction.Kind.ToInstant:
                Reschedule(Loop.ToTicks(action.Instant));
                break;
            case TimeoutAction.Kind.ToDuration:
                Reschedule(Loop.DeadlineAfter(action.Duration));
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
            if (IsArmed && _entry.HeapId < 0)
            {
                _entry.Deadline = deadline;
                _entry.Armed = true;
                Loop.InsertTimerLocked(_entry);
            }
        }
    }

    /// <summary>The heap entry; firing it delivers through the loop so deferral rules match fd events.</summary>
    private sealed class Entry(TimerSource source) : WorkItem
    {
        /// <summary>False once disarmed, so an entry already popped as due in this dispatch does not fire.</summary>
        internal bool Armed;

        internal override void Invoke()
        {
            lock (source.Loop.Gate)
            {
                if (!Armed)
                {
                    return;
                }

                Armed = false;
            }

            source.Loop.DeliverTimer(source);
        }
    }
}
