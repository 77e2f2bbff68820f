using System.Diagnostics;

namespace Calloop.Rx.Diagnostics;

/// <summary>
/// What the loop keeps about one source while its diagnostics are observed: its id in the live model and its
/// figures. The source's only diagnostics field points here; it is null whenever nobody observes.
/// </summary>
internal sealed class SourceRecord(LoopMonitor monitor, long id, SourceKind kind, long createdTicks)
{
    public LoopMonitor Monitor { get; } = monitor;

    public long Id { get; } = id;

    public SourceKind Kind { get; } = kind;

    /// <summary>The kind as the metrics' tag value (cached: no string per measurement).</summary>
    public string KindTag { get; } = kind.ToString();

    public long CreatedTicks { get; } = createdTicks;

    /// <summary>Values emitted (loop thread).</summary>
    public long Delivered;

    /// <summary>Pings sent while one was pending (any thread, interlocked).</summary>
    public long Coalesced;

    /// <summary>Callback runs, their total and longest duration in <see cref="Stopwatch"/> ticks, and the last one's loop time (loop thread).</summary>
    public long Callbacks;

    public long CallbackTimestampTicks;

    public long MaxCallbackTimestampTicks;

    public long LastEventTicks = -1;

    /// <summary>The row last shown for the source, for its <see cref="SourceChangeReason.Removed"/> change. Under the gate.</summary>
    public SourceInfo? LastRow;

    public void AddCallback(long elapsed, long now)
    {
        Callbacks++;
        CallbackTimestampTicks += elapsed;
        if (elapsed > MaxCallbackTimestampTicks)
        {
            MaxCallbackTimestampTicks = elapsed;
        }

        LastEventTicks = now;
    }
}
