using System.Diagnostics;
using Calloop.Rx.Diagnostics;

namespace Calloop.Rx;

public sealed partial class EventLoop
{
    // Null unless someone observes the diagnostics: the hot paths test this one field and take the plain path.
    private LoopMonitor? _monitor;
    private int _monitorUsers;
    private LoopDiagnostics? _diagnostics;

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
    internal LoopMonitor? Monitor => _monitor;

    /// <summary>Timers and timed actions pending. Caller holds the gate.</summary>
    internal int LiveTimersLocked => _timers.Count;

    /// <summary>Installs the monitor for its first user. Caller holds the gate.</summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    internal LoopMonitor AcquireMonitorLocked()
    {
        ThrowIfDisposed();
        if (_monitorUsers++ == 0)
        {
            var monitor = new LoopMonitor(this);
            monitor.Adopt(TrackedSourcesLocked());
            _monitor = monitor;
        }

        return _monitor!;
    }

    /// <summary>Removes the monitor after its last user. Caller holds the gate.</summary>
    internal void ReleaseMonitorLocked()
    {
        if (--_monitorUsers == 0)
        {
            LoopMonitor.Release(TrackedSourcesLocked());
            _monitor = null;
        }
    }

    /// <summary>The sources the loop can reach (those teardown would end). Caller holds the gate.</summary>
    internal IEnumerable<ILoopSource> TrackedSourcesLocked()
    {
        for (int id = 0; id < _tracked.HighWater; id++)
        {
            if (_tracked[id] is { } source)
            {
                yield return source;
            }
        }
    }

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
                _timers.Count,
                monitor.SampleSources(TrackedSourcesLocked()));
        }
    }

    /// <summary>One dispatch, timed (the monitor is installed).</summary>
    private void DispatchMeasured(long timeoutTicks, LoopMonitor monitor)
    {
        long start = Stopwatch.GetTimestamp();
        monitor.DispatchStart = start;
        DispatchCore(timeoutTicks);
        monitor.DispatchStart = 0;
        monitor.Iterations++;
        monitor.DispatchTimestampTicks += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>One event, timed and counted against its source (the monitor is installed).</summary>
    private void DeliverMeasured(ILoopSource source, Readiness readiness, Token token, LoopMonitor monitor)
    {
        long start = Stopwatch.GetTimestamp();
        DeliverCore(source, readiness, token);
        long elapsed = Stopwatch.GetTimestamp() - start;
        monitor.Events++;
        if (source.Record is { } record)
        {
            record.AddCallback(elapsed, NowTicks);
            if (monitor.PublishesMetrics && LoopMetrics.RecordsCallbacks)
            {
                LoopMetrics.RecordCallback(elapsed, record.KindTag);
            }
        }
    }
}
