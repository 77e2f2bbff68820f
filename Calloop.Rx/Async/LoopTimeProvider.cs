
namespace Calloop.Rx.Async;

/// <summary>
/// <see cref="EventLoop.TimeProvider"/>: the loop's clock and timer heap behind the BCL's time abstraction, so
/// <c>Task.Delay</c>, <c>PeriodicTimer</c>, <c>CancellationTokenSource</c> and <c>Task.WaitAsync</c> given this
/// provider fire on the loop thread, in virtual time as well.
/// </summary>
internal sealed class LoopTimeProvider(EventLoop loop) : TimeProvider
{
    /// <summary>Timestamps are loop ticks (100 ns), so <see cref="TimeProvider.GetElapsedTime(long)"/> is exact.</summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => loop.Now.ToUniversalTime();

    public override long GetTimestamp() => loop.Time.NowTicks;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        LoopTimer.Validate(dueTime, nameof(dueTime));
        LoopTimer.Validate(period, nameof(period));
        var timer = new LoopTimer(loop, callback, state);
        if (!timer.Change(dueTime, period))
        {
            ThrowHelper.ThrowLoopDisposed();
        }

        return timer;
    }
}
