using System.Diagnostics;
using Calloop.Rx.Diagnostics;

namespace Calloop.Rx;

public sealed partial class EventLoop
{
    /// <summary>
    /// The loop's live model of sources, statistics and metrics (see <see cref="LoopDiagnostics"/>). Reading it costs
    /// nothing; recording starts when something is observed. Any thread.
    /// </summary>
    public LoopDiagnostics Diagnostics
    {
        get
        {
            LoopDiagnostics? diagnostics = Volatile.Read(ref _diagnostics);
            return diagnostics ?? Interlocked.CompareExchange(ref _diagnostics, new LoopDiagnostics(this), null) ?? _diagnostics!;
        }
    }

    /// <summary>The installed monitor, or null when nobody observes the diagnostics.</summary>
    internal LoopMonitor? Monitor => _cycle.Monitor;

    /// <summary>A statistics sample (loop thread).</summary>
    internal LoopStatistics SampleStatistics(LoopMonitor monitor)
    {
        lock (Gate)
        {
            return new LoopStatistics(
                Now,
                monitor.Iterations,
                Stopwatch.GetElapsedTime(0, monitor.WaitTimestampTicks),
                Stopwatch.GetElapsedTime(0, monitor.WorkTimestampTicks),
                monitor.Events,
                _work.Timers.Count,
                monitor.SampleSources(_sources.TrackedLocked()));
        }
    }
}
