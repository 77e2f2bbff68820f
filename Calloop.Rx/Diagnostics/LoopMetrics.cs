using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reactive.Disposables;

namespace Calloop.Rx.Diagnostics;

/// <summary>
/// The process's <c>Calloop.Rx</c> meter and its instruments, fed by the loops that publish
/// (<see cref="LoopDiagnostics.PublishMetrics"/>). Observable instruments read the figures when a listener collects
/// (on the listener's thread, under each loop's gate, so their reads of loop-thread counters may be a dispatch old);
/// only the callback-duration histogram is recorded as it happens, and only while a listener enables it.
/// </summary>
internal static class LoopMetrics
{
    public const string MeterName = "Calloop.Rx";

    private const string KindTag = "calloop.source.kind";

    private static readonly Lock s_gate = new();
    private static readonly SourceKind[] s_kinds = Enum.GetValues<SourceKind>();
    private static readonly string[] s_kindNames = [.. s_kinds.Select(kind => kind.ToString())];
    private static readonly Meter s_meter = new(MeterName, typeof(LoopMetrics).Assembly.GetName().Version?.ToString());
    private static List<(EventLoop Loop, LoopMonitor Monitor)> s_published = [];

    private static readonly Histogram<double> s_callbackDuration = s_meter.CreateHistogram<double>(
        "calloop.rx.callback.duration", "s", "How long a source's callbacks took for one event.");

    static LoopMetrics()
    {
        s_meter.CreateObservableCounter("calloop.rx.events", () => ByKind((monitor, loop, kind) => monitor.EventsOfKind(kind, loop.Sources.TrackedLocked())), "{event}", "Values delivered by sources.");
        s_meter.CreateObservableCounter("calloop.rx.pings.coalesced", () => ByKind((monitor, loop, kind) => kind == SourceKind.Ping ? monitor.CoalescedOfKind(kind, loop.Sources.TrackedLocked()) : 0), "{ping}", "Ping sends that found a ping already pending.");
        s_meter.CreateObservableCounter("calloop.rx.iterations", () => Total(monitor => monitor.Iterations), "{iteration}", "Dispatches run.");
        s_meter.CreateObservableCounter("calloop.rx.wait.time", () => Seconds(monitor => monitor.WaitTimestampTicks), "s", "Time spent waiting for events.");
        s_meter.CreateObservableCounter("calloop.rx.work.time", () => Seconds(monitor => monitor.WorkTimestampTicks), "s", "Time spent dispatching other than waiting.");
        s_meter.CreateObservableGauge("calloop.rx.channel.queue_depth", () => ByKind((_, loop, kind) => kind == SourceKind.Channel ? loop.Sources.TrackedLocked().OfType<IQueuedSource>().Sum(queued => (long)queued.QueueDepth) : 0), "{message}", "Messages waiting in channels.");
        s_meter.CreateObservableGauge("calloop.rx.timers.live", () => Total(monitor => monitor.LiveTimersLocked()), "{timer}", "Timers and timed actions pending.");
        s_meter.CreateObservableGauge("calloop.rx.sources", () => ByKind((monitor, loop, kind) => loop.Sources.TrackedLocked().Count(source => source.Record?.Monitor == monitor && source.Record.Kind == kind)), "{source}", "Sources in the live model.");
    }

    /// <summary>Whether a listener records callback durations (read once per callback while monitoring).</summary>
    public static bool RecordsCallbacks => s_callbackDuration.Enabled;

    /// <summary>Records one callback's duration (loop thread).</summary>
    public static void RecordCallback(long stopwatchTicks, string kind) =>
        s_callbackDuration.Record(Stopwatch.GetElapsedTime(0, stopwatchTicks).TotalSeconds, new KeyValuePair<string, object?>(KindTag, kind));

    /// <summary>Adds a loop to the published set until the handle is disposed or the loop is.</summary>
    public static IDisposable Publish(EventLoop loop, LoopMonitor monitor)
    {
        lock (s_gate)
        {
            s_published = [.. s_published, (loop, monitor)];
        }

        monitor.PublishesMetrics = true;
        IDisposable removal = Disposable.Create(() =>
        {
            lock (s_gate)
            {
                s_published = [.. s_published.Where(entry => entry.Monitor != monitor)];
            }

            monitor.PublishesMetrics = false;
        });

        // A disposed loop leaves the meter (and the process-wide list) even if its handle is never disposed.
        CancellationTokenRegistration onLoopDisposal = loop.DisposalToken.Register(removal.Dispose);
        return new CompositeDisposable(onLoopDisposal, removal);
    }

    private static List<(EventLoop Loop, LoopMonitor Monitor)> Published
    {
        get
        {
            lock (s_gate)
            {
                return s_published;
            }
        }
    }

    private static IEnumerable<Measurement<long>> ByKind(Func<LoopMonitor, EventLoop, SourceKind, long> read)
    {
        var totals = new long[s_kinds.Length];
        foreach (var (loop, monitor) in Published)
        {
            lock (loop.Gate)
            {
                if (loop.IsDisposed)
                {
                    continue;
                }

                foreach (SourceKind kind in s_kinds)
                {
                    totals[(int)kind] += read(monitor, loop, kind);
                }
            }
        }

        var measurements = new List<Measurement<long>>();
        for (int i = 0; i < totals.Length; i++)
        {
            if (totals[i] != 0)
            {
                measurements.Add(new Measurement<long>(totals[i], new KeyValuePair<string, object?>(KindTag, s_kindNames[i])));
            }
        }

        return measurements;
    }

    private static long Total(Func<LoopMonitor, long> read)
    {
        long total = 0;
        foreach (var (loop, monitor) in Published)
        {
            lock (loop.Gate)
            {
                total += read(monitor);
            }
        }

        return total;
    }

    private static double Seconds(Func<LoopMonitor, long> readStopwatchTicks) =>
        Stopwatch.GetElapsedTime(0, Total(readStopwatchTicks)).TotalSeconds;
}
