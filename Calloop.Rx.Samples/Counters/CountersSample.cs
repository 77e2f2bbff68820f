using System.Diagnostics.Metrics;
using System.Globalization;
using System.Reactive.Linq;
using Calloop.Rx.Diagnostics;

namespace Calloop.Rx.Samples.Counters;

/// <summary>
/// A busy loop that publishes its figures through the <c>Calloop.Rx</c> meter, for <c>dotnet-counters</c>: a producer
/// thread feeding a channel, a periodic timer and a ping. It prints its pid, then runs for the given number of seconds
/// (default 60). <c>--self-test</c> runs one second and reads the meter in-process with a <see cref="MeterListener"/>.
/// </summary>
public static class CountersSample
{
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        bool selfTest = args.Contains("--self-test");
        TimeSpan duration = TimeSpan.FromSeconds(selfTest ? 1 : 60);
        if (!selfTest && args.Length > 0)
        {
            if (!int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int seconds))
            {
                output.WriteLine($"counters: expected a duration in seconds, got '{args[0]}'");
                return 2;
            }

            duration = TimeSpan.FromSeconds(seconds);
        }

        using var loop = new EventLoop();

        // From here until the handle is disposed, dotnet-counters (or any MeterListener) sees this loop's figures.
        using IDisposable metrics = loop.Diagnostics.PublishMetrics();
        Dictionary<string, double> readings = [];
        using MeterListener? listener = selfTest ? Listen(readings) : null;

        var (sender, messages) = loop.Channel<int>();
        using IDisposable received = messages.Subscribe(_ => { });
        using IDisposable ticks = Observable.Interval(TimeSpan.FromMilliseconds(10), loop.Scheduler).Subscribe(_ => { });
        var (ping, pings) = loop.Ping();
        using IDisposable pinged = pings.Subscribe(_ => { });
        using IDisposable stop = loop.Timer(duration).Subscribe(_ => loop.Stop());
        using var producing = new CancellationTokenSource();
        var producer = new Thread(() =>
        {
            for (int i = 0; !producing.IsCancellationRequested; i++)
            {
                sender.Send(i);
                ping.Send();
                producing.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(1));
            }
        }) { IsBackground = true, Name = "producer" };
        producer.Start();

        output.WriteLine($"counters: pid {Environment.ProcessId}, meter {LoopDiagnostics.MeterName}, running {duration.TotalSeconds:0} s");
        output.Flush();
        loop.Run();
        producing.Cancel();
        producer.Join();

        if (listener is not null)
        {
            listener.RecordObservableInstruments();
            foreach (var (name, value) in readings.OrderBy(r => r.Key))
            {
                output.WriteLine($"{name} {value.ToString(CultureInfo.InvariantCulture)}");
            }

            return readings.GetValueOrDefault("calloop.rx.events[Channel]") > 0 ? 0 : 1;
        }

        return 0;
    }

    /// <summary>A listener of the Calloop.Rx meter that keeps the last value of each instrument and kind.</summary>
    private static MeterListener Listen(Dictionary<string, double> last)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == LoopDiagnostics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Keep(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string kind = tags.Length > 0 ? $"[{tags[0].Value}]" : string.Empty;
            lock (last)
            {
                last[instrument.Name + kind] = value;
            }
        }

        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Keep(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Keep(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Keep(instrument, value, tags));
        listener.Start();
        return listener;
    }
}
