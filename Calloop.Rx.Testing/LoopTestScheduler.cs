using System.Reactive.Concurrency;
using Microsoft.Reactive.Testing;

namespace Calloop.Rx.Testing;

/// <summary>
/// Rx's <see cref="TestScheduler"/> driving an <see cref="EventLoop"/> on its virtual clock: one clock and one queue
/// for both worlds, so Rx.NET's test idiom (<c>Start(create, created, subscribed, disposed)</c>,
/// <c>CreateHotObservable</c>, <c>CreateColdObservable</c>, <c>CreateObserver</c>, <c>AdvanceBy</c>, <c>AdvanceTo</c>,
/// <see cref="ReactiveTest"/> ticks) works unchanged on pipelines built on loop sources and <see cref="EventLoop.Scheduler"/>.
/// </summary>
/// <remarks>
/// <para>Design: the loop owns the only queue and the test scheduler follows it. Work scheduled on this scheduler (hot
/// and cold observables' messages, <c>Start</c>'s create/subscribe/dispose, operators given this scheduler) goes into
/// the loop's timer heap beside the loop's timers, <see cref="EventLoop.Scheduler"/> work and
/// <see cref="EventLoop.TimeProvider"/> timers, so all of them run in one (deadline, scheduling order). Driving the
/// scheduler (<c>Start</c>, <c>AdvanceBy</c>, <c>AdvanceTo</c>) advances the loop deadline by deadline with
/// <see cref="EventLoop.AdvanceTo(DateTimeOffset)"/>, and <see cref="VirtualTimeSchedulerBase{TAbsolute, TRelative}.Clock"/>
/// stands at each deadline while its work runs: <c>Clock</c> is the number of ticks since the loop's
/// <see cref="EventLoop.VirtualStart"/>, and <see cref="VirtualTimeSchedulerBase{TAbsolute, TRelative}.Now"/> equals
/// <see cref="EventLoop.Now"/>.</para>
/// <para>TestScheduler's rule holds on both schedulers: work scheduled at or before the clock runs at clock + 1 (the
/// loop's <see cref="EventLoop.DueWorkWaitsOneTick"/> is turned on), so Rx.NET's published expectations hold verbatim.</para>
/// <para>Real sources stay real: fd, ping, channel and signal events are delivered by the loop's dispatch inside the
/// same drive, on the driving thread, at the clock's current instant. Before each step the scheduler lets the loop
/// deliver what is pending at the current instant, so a message sent by the test between two drives is delivered at
/// the clock where the test sent it; <see cref="Script"/> sends input at a chosen tick.</para>
/// <para>Threads: drive it from one thread, as any <see cref="TestScheduler"/>; everything runs on that thread. Errors:
/// an exception thrown by work comes out of the drive with the clock at its instant, the scheduler is stopped (it can
/// be driven again), and the work not yet run stays scheduled. <see cref="EventLoop.MaxStepsPerInstant"/> still bounds
/// work that re-schedules itself at one instant without the clock + 1 rule (a zero-period periodic action); work that
/// re-schedules itself at clock + 1 forever makes <c>Start()</c> run forever, as on <see cref="TestScheduler"/>, so bound
/// such tests with <c>AdvanceTo</c>. Time passing inside an item: call <see cref="Sleep(long)"/> on this type, which
/// moves both clocks. <c>AdvanceBy</c>, <c>AdvanceTo</c> and <c>Sleep</c> are re-declared here only to move the loop's
/// clock with <c>Clock</c> at once; called through a <see cref="TestScheduler"/> reference they still work, and the
/// loop's clock catches up at the next step.</para>
/// </remarks>
public sealed class LoopTestScheduler : TestScheduler, IDisposable
{
    private readonly bool _ownsLoop;
    private readonly DateTimeOffset _start;

    /// <summary>Creates a scheduler with its own virtual loop, which starts at tick 0 (<c>new DateTimeOffset(0, TimeSpan.Zero)</c>, as <see cref="TestScheduler"/>'s clock) and is disposed with it.</summary>
    public LoopTestScheduler()
        : this(new EventLoop(LoopClock.Virtual(new DateTimeOffset(0, TimeSpan.Zero))), ownsLoop: true)
    {
    }

    /// <summary>
    /// Creates a scheduler driving <paramref name="loop"/>, which the caller keeps and disposes. <c>Clock</c> counts
    /// ticks from the loop's <see cref="EventLoop.VirtualStart"/> and starts where the loop's clock is.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="loop"/> is not on a virtual clock.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="loop"/> is disposed.</exception>
    public LoopTestScheduler(EventLoop loop)
        : this(loop, ownsLoop: false)
    {
    }

    private LoopTestScheduler(EventLoop loop, bool ownsLoop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ObjectDisposedException.ThrowIf(loop.IsDisposed, loop);
        _start = loop.VirtualStart ?? throw new InvalidOperationException("LoopTestScheduler needs a loop created with LoopClock.Virtual(...).");
        Loop = loop;
        _ownsLoop = ownsLoop;
        loop.DueWorkWaitsOneTick = true;
        Clock = LoopTicks;
        Script = new LoopScript(this);
    }

    /// <summary>The loop this scheduler drives. Its sources, <see cref="EventLoop.Scheduler"/> and <see cref="EventLoop.TimeProvider"/> run on this scheduler's clock.</summary>
    public EventLoop Loop { get; }

    /// <summary>Scripted input for real sources: bytes written to an fd, channel messages, signals, pings, at chosen ticks.</summary>
    public LoopScript Script { get; }

    private long LoopTicks => (Loop.Now - _start).Ticks;

    /// <summary>
    /// Schedules <paramref name="action"/> at tick <paramref name="dueTime"/> in the loop's timer heap; at or before
    /// <c>Clock</c> means <c>Clock + 1</c> (TestScheduler's rule). The action gets this scheduler as its
    /// <see cref="IScheduler"/>, so recursive scheduling stays on it. Any thread.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public override IDisposable ScheduleAbsolute<TState>(TState state, long dueTime, Func<IScheduler, TState, IDisposable> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        long at = Math.Max(dueTime, Clock + 1);
        return Loop.Scheduler.Schedule(
            (Scheduler: this, State: state, Action: action),
            ToDateTimeOffset(at),
            static (_, work) => work.Action(work.Scheduler, work.State));
    }

    /// <summary>
    /// <see cref="VirtualTimeSchedulerBase{TAbsolute, TRelative}.AdvanceTo(TAbsolute)"/>, after which the loop's clock
    /// stands at <paramref name="time"/> too (called through a <see cref="TestScheduler"/> reference, the loop catches
    /// up at the next drive instead).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="time"/> is before <c>Clock</c>.</exception>
    /// <exception cref="InvalidOperationException">Called while the scheduler runs work (from an item).</exception>
    public new void AdvanceTo(long time)
    {
        base.AdvanceTo(time);
        FollowClock();
    }

    /// <summary>
    /// <see cref="VirtualTimeSchedulerBase{TAbsolute, TRelative}.AdvanceBy(TRelative)"/>, after which the loop's clock
    /// stands at the new <c>Clock</c> too (see <see cref="AdvanceTo(long)"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="time"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Called while the scheduler runs work (from an item).</exception>
    public new void AdvanceBy(long time)
    {
        base.AdvanceBy(time);
        FollowClock();
    }

    /// <summary>
    /// <see cref="VirtualTimeSchedulerBase{TAbsolute, TRelative}.Sleep(TRelative)"/> on both clocks: time passes without
    /// running anything, as slow work inside an item would take; what falls due meanwhile runs after the item. Called
    /// from an item or between drives, on the driving thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="time"/> is negative.</exception>
    public new void Sleep(long time)
    {
        base.Sleep(time);
        FollowClock();
    }

    /// <summary>Disposes the loop when this scheduler created it; a loop passed in is left to its owner.</summary>
    public void Dispose()
    {
        if (_ownsLoop)
        {
            Loop.Dispose();
        }
    }

    /// <summary>Tick <paramref name="absolute"/> as the loop's time: its virtual start plus that many ticks.</summary>
    protected override DateTimeOffset ToDateTimeOffset(long absolute) => _start.AddTicks(absolute);

    /// <summary>
    /// The loop's next step: first what is pending at the current instant (real events, work left by a test between
    /// drives) is delivered at <c>Clock</c>, then the next deadline becomes an item whose invocation advances the loop
    /// to it. Null when the loop has nothing scheduled.
    /// </summary>
    protected override IScheduledItem<long>? GetNext()
    {
        Settle();
        DateTimeOffset? next = Loop.NextDeadline;
        return next is null ? null : new LoopStep(this, Math.Max((next.Value - _start).Ticks, Clock));
    }

    /// <summary>Moves the loop's clock up to <c>Clock</c> without running anything (the drive that moved <c>Clock</c> ran what was due).</summary>
    private void FollowClock()
    {
        long behind = Clock - LoopTicks;
        if (behind > 0)
        {
            Loop.Sleep(TimeSpan.FromTicks(behind));
        }
    }

    /// <summary>Brings the two clocks together (a Sleep on either side, or an AdvanceTo that ended past the last work) and delivers what is pending there.</summary>
    private void Settle()
    {
        long loopTicks = LoopTicks;
        if (loopTicks > Clock)
        {
            Clock = loopTicks;
        }
        else
        {
            // TestScheduler.Sleep moved Clock inside an item: what fell due meanwhile runs at the new time, as there.
            FollowClock();
        }

        Run(Clock);
    }

    /// <summary>Advances the loop to tick <paramref name="tick"/>, running what is due there; stops this scheduler when work throws.</summary>
    private void Run(long tick)
    {
        try
        {
            Loop.AdvanceTo(ToDateTimeOffset(tick));
            if (Script.AwaitSignals(Loop))
            {
                Loop.AdvanceTo(Loop.Now);
            }
        }
        catch
        {
            Stop();
            throw;
        }

        // A loop Sleep inside the step carried the loop past the tick: the scheduler's clock follows.
        long loopTicks = LoopTicks;
        if (loopTicks > Clock)
        {
            Clock = loopTicks;
        }
    }

    /// <summary>One step of the drive: the loop's work at one deadline.</summary>
    private sealed class LoopStep(LoopTestScheduler scheduler, long dueTime) : IScheduledItem<long>
    {
        public long DueTime => dueTime;

        public void Invoke() => scheduler.Run(Math.Max(dueTime, scheduler.Clock));
    }
}
