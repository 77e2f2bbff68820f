namespace Calloop.Rx.Diagnostics;

/// <summary>
/// A sample of a loop's figures since they were first observed (cumulative: iterations per second is the difference
/// of <see cref="Iterations"/> between two samples over the difference of <see cref="At"/>).
/// </summary>
/// <param name="At">When the sample was taken (loop time).</param>
/// <param name="Iterations">Dispatches run.</param>
/// <param name="WaitTime">Time spent waiting for events (in epoll, including the spin before a wait).</param>
/// <param name="WorkTime">Time spent dispatching otherwise: delivering events, timers, actions and idles.</param>
/// <param name="EventsDelivered">Source events (callback runs) delivered.</param>
/// <param name="LiveTimers">Timers and timed actions pending in the loop's timer heap.</param>
/// <param name="Sources">Each source in the live model, in the order of their ids.</param>
public sealed record LoopStatistics(
    DateTimeOffset At,
    long Iterations,
    TimeSpan WaitTime,
    TimeSpan WorkTime,
    long EventsDelivered,
    int LiveTimers,
    IReadOnlyList<SourceStatistics> Sources)
{
    /// <summary>Events per iteration on average (0 before the first iteration).</summary>
    public double EventsPerIteration => Iterations == 0 ? 0 : (double)EventsDelivered / Iterations;
}
