using System.Diagnostics;
using System.Reactive.Concurrency;

namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>
/// How users compose on Calloop.Rx: one channel with several subscribers (<c>broadcast-8</c>), a chain of Rx operators
/// over a channel (<c>pipeline</c>), and many channels flooded at once beside a 1 ms timer (<c>fairness-1000</c>).
/// Values come from producer threads through <see cref="EventLoop.Channel{T}"/>; everything else runs on the loop.
/// </summary>
internal static class LoopCompositionWorkloads
{
    /// <summary>Subscribers of the one channel in <c>broadcast-8</c>.</summary>
    public const int Subscribers = 8;

    /// <summary>Channels in <c>fairness-1000</c>.</summary>
    public const int Channels = 1000;

    /// <summary>
    /// Producer threads in <c>fairness-1000</c>, each feeding every Producers-th channel: 4, or <c>ANCHOR_PRODUCERS</c>.
    /// With more busy threads than cores, how late the timer runs depends on when the kernel puts the loop thread
    /// back on a core as much as on the loop; one producer per spare core shows the loop's own share.
    /// </summary>
    public static int Producers { get; } = PositiveSetting("ANCHOR_PRODUCERS") ?? 4;

    /// <summary>
    /// Messages sent to each channel and delivered before <c>fairness-1000</c> starts timing (<c>ANCHOR_PREFILL</c>,
    /// default 0): each channel's queue has then grown as a long-running channel's would, so the timed flood
    /// allocates only when it goes deeper than that.
    /// </summary>
    public static int Prefill { get; } = PositiveSetting("ANCHOR_PREFILL") ?? 0;

    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(1);

    /// <summary>n messages to 8 subscribers of one channel; <c>deliveries_s</c> counts each subscriber's OnNext.</summary>
    public static void Broadcast(long n)
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<ulong>();
        var sums = new ulong[Subscribers];
        long deliveries = 0;
        long end = 0;
        for (int s = 0; s < Subscribers; s++)
        {
            int index = s;
            messages.Subscribe(new Observer<ulong>(value =>
            {
                sums[index] += value;
                if (++deliveries == n * Subscribers)
                {
                    end = Stopwatch.GetTimestamp();
                    loop.Stop();
                }
            }));
        }

        long start = LoopWorkloads.RunFed(loop, sender, n);
        LoopWorkloads.Check(sums.All(sum => sum == (ulong)n * ((ulong)n - 1) / 2), "broadcast sums");
        double secs = LoopWorkloads.Seconds(start, end);
        Result.Print(LoopWorkloads.Impl, "broadcast-8", n, secs, ("deliveries_s", n * Subscribers / secs));
    }

    /// <summary>n channel messages through <see cref="Pipeline"/>, observed on the loop thread.</summary>
    public static void Pipe(long n)
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<ulong>();
        long expected = Pipeline.Outputs(n);
        ulong sum = 0;
        long count = 0;
        long end = 0;
        Pipeline.Apply(messages).Subscribe(new Observer<ulong>(value =>
        {
            sum += value;
            if (++count == expected)
            {
                end = Stopwatch.GetTimestamp();
                loop.Stop();
            }
        }));
        long start = LoopWorkloads.RunFed(loop, sender, n);
        LoopWorkloads.Check(sum == Pipeline.Sum(n), "pipeline sum");
        Result.Print(LoopWorkloads.Impl, "pipeline", n, LoopWorkloads.Seconds(start, end));
    }

    /// <summary>
    /// n messages from <see cref="Producers"/> threads spread over <see cref="Channels"/> channels, while a timer
    /// re-armed at deadline + 1 ms records how late each firing ran (<c>timer_p99_us</c>, <c>timer_max_us</c>).
    /// </summary>
    public static void Fairness(long n)
    {
        using var loop = new EventLoop();
        long perProducer = n / Producers;
        long total = perProducer * Producers;
        long received = 0;
        long end = 0;
        var observer = new Observer<ulong>(_ =>
        {
            if (++received == total)
            {
                end = Stopwatch.GetTimestamp();
                loop.Stop();
            }
        });
        var senders = new Sender<ulong>[Channels];
        for (int c = 0; c < Channels; c++)
        {
            (senders[c], var messages) = loop.Channel<ulong>();
            messages.Subscribe(observer);
        }

        Fill(loop, senders, Prefill, ref received);

        // The timer and the producers start in the loop's first dispatch: started before Run, the producers would
        // keep the calling thread (the loop thread to be) off the cores, and the first tick would measure that.
        var delays = new List<double>(100_000);
        var producers = new Thread[Producers];
        long start = 0;
        loop.Scheduler.Schedule(() =>
        {
            loop.Timer(s_tick, deadline => TimeoutAction.ToInstant(deadline + s_tick))
                .Subscribe(new Observer<DateTimeOffset>(deadline => delays.Add((loop.Now - deadline).TotalMicroseconds)));
            start = Stopwatch.GetTimestamp();
            for (int p = 0; p < Producers; p++)
            {
                int first = p;
                producers[p] = new Thread(() => Flood(senders, first, perProducer));
                producers[p].Start();
            }
        });

        loop.Run();
        foreach (Thread producer in producers)
        {
            producer.Join();
        }

        double[] sorted = [.. delays];
        Array.Sort(sorted);
        Result.Print(LoopWorkloads.Impl, "fairness-1000", total, LoopWorkloads.Seconds(start, end),
            ("timer_p99_us", LoopWorkloads.Percentile(sorted, 99)), ("timer_max_us", sorted.Length == 0 ? 0 : sorted[^1]), ("ticks", sorted.Length));
    }

    /// <summary>Sends <paramref name="perChannel"/> values to each channel and dispatches until the observer has counted them all (from minus their number back to 0).</summary>
    private static void Fill(EventLoop loop, Sender<ulong>[] senders, int perChannel, ref long received)
    {
        received = -(long)perChannel * senders.Length;
        foreach (Sender<ulong> sender in senders)
        {
            for (int i = 0; i < perChannel; i++)
            {
                sender.Send(0);
            }
        }

        while (Volatile.Read(ref received) < 0)
        {
            loop.Dispatch(TimeSpan.FromMilliseconds(10));
        }

        GC.Collect();
    }

    private static int? PositiveSetting(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) && value > 0 ? value : null;

    /// <summary>Sends <paramref name="count"/> values round-robin to the channels first, first + Producers, ...</summary>
    private static void Flood(Sender<ulong>[] senders, int first, long count)
    {
        int channel = first;
        for (long i = 0; i < count; i++)
        {
            senders[channel].Send((ulong)i);
            channel += Producers;
            if (channel >= senders.Length)
            {
                channel = first;
            }
        }
    }
}
