
namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// The model of one one-shot timer with one subscriber: its deadline, its place among equal deadlines (the order it
/// was last armed in), and whether it is armed, fired, cancelled or removed.
/// </summary>
internal sealed class ModelTimer(int id, long deadlineMs, TimerSource source, ModelSubscriber<DateTimeOffset> subscriber)
{
    public int Id { get; } = id;

    public long DeadlineMs { get; } = deadlineMs;

    public TimerSource Source { get; } = source;

    public ModelSubscriber<DateTimeOffset> Subscriber { get; } = subscriber;

    /// <summary>The loop's arming order: among equal deadlines, the timer armed first fires first.</summary>
    public long ArmSequence { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Neither fired, cancelled (unsubscribed) nor removed: control calls still apply.</summary>
    public bool Live { get; set; } = true;

    public bool Armed => Live && Enabled;
}
