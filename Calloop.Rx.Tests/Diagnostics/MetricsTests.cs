using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Calloop.Rx.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Diagnostics;

/// <summary>
/// The Calloop.Rx meter, read in-process with a <see cref="MeterListener"/>: counters, the callback-duration
/// histogram and the gauges, tagged by source kind, for the loops that publish. Serial: the meter is process-wide.
/// </summary>
[Collection("Serial")]
public class MetricsTests
{
    [Fact]
    public void PublishedLoop_FeedsTheCalloopRxMeter_TaggedBySourceKind()
    {
        using var loop = new EventLoop();
        using var publication = loop.Diagnostics.PublishMetrics();
        var measurements = new ConcurrentQueue<(string Instrument, double Value, string? Kind)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LoopDiagnostics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, KindOf(tags))));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, KindOf(tags))));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, KindOf(tags))));
        listener.Start();

        var (sender, channel) = loop.Channel<int>();
        int received = 0;
        using var messages = channel.Subscribe(_ => received++);
        var (ping, pingSource) = loop.Ping();
        using var pings = pingSource.Subscribe();
        using var far = loop.Timer(TimeSpan.FromMinutes(1)).Subscribe();
        for (int i = 0; i < 10; i++)
        {
            sender.Send(i);
        }

        ping.Send();
        ping.Send();
        loop.DispatchUntil(() => received == 10, "the messages");
        channel.Disable();
        sender.Send(10);
        listener.RecordObservableInstruments();

        Assert.Contains(measurements, m => m is { Instrument: "calloop.rx.events", Kind: "Channel", Value: >= 10 });
        Assert.Contains(measurements, m => m is { Instrument: "calloop.rx.events", Kind: "Ping", Value: >= 1 });
        Assert.Contains(measurements, m => m is { Instrument: "calloop.rx.pings.coalesced", Kind: "Ping", Value: >= 1 });
        Assert.Contains(measurements, m => m is { Instrument: "calloop.rx.callback.duration", Kind: "Channel", Value: > 0 });
        Assert.Contains(measurements, m => m is { Instrument: "calloop.rx.channel.queue_depth", Kind: "Channel", Value: >= 1 });
        Assert.Contains(measurements, m => m is { Instrument: "calloop.rx.timers.live", Value: >= 1 });
        Assert.Contains(measurements, m => m is { Instrument: "calloop.rx.sources", Kind: "Timer", Value: >= 1 });
        Assert.Contains(measurements, m => m is { Instrument: "calloop.rx.iterations", Value: >= 1 });
        Assert.Contains(measurements, m => m is { Instrument: "calloop.rx.wait.time", Value: > 0 });
        Assert.Contains(measurements, m => m.Instrument == "calloop.rx.work.time");
    }

    [Fact]
    public void UnpublishedLoop_RecordsNoCallbackDurations()
    {
        using var loop = new EventLoop();
        var durations = new ConcurrentQueue<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LoopDiagnostics.MeterName && instrument.Name == "calloop.rx.callback.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => durations.Enqueue(value));
        listener.Start();

        var (sender, channel) = loop.Channel<int>();
        int received = 0;
        using var messages = channel.Subscribe(_ => received++);
        IDisposable publication = loop.Diagnostics.PublishMetrics();
        sender.Send(1);
        loop.DispatchUntil(() => received == 1, "the published message");
        Assert.NotEmpty(durations);

        publication.Dispose();
        durations.Clear();
        sender.Send(2);
        loop.DispatchUntil(() => received == 2, "the unpublished message");
        Assert.Empty(durations);
    }

    [Fact]
    public void DisposedLoop_LeavesTheMeter_EvenIfItsPublicationIsNotDisposed()
    {
        var loop = new EventLoop();
        var iterations = new ConcurrentQueue<long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LoopDiagnostics.MeterName && instrument.Name == "calloop.rx.iterations")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => iterations.Enqueue(value));
        listener.Start();
        IDisposable publication = loop.Diagnostics.PublishMetrics();
        loop.Dispatch(TimeSpan.Zero);
        listener.RecordObservableInstruments();
        Assert.True(Assert.Single(iterations) >= 1);

        // No other loop publishes meanwhile (serial collection): the total is this loop's, or nothing once it left.
        loop.Dispose();
        iterations.Clear();
        listener.RecordObservableInstruments();
        Assert.Equal(0, Assert.Single(iterations));
        publication.Dispose();
    }

    private static string? KindOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "calloop.source.kind")
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
