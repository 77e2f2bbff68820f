using System.Diagnostics;
using System.Reactive;
using Calloop.Rx.Benchmarks.Interop;

namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>
/// The anchor workloads on Calloop.Rx, used the way a user would: sources created and subscribed, callbacks as
/// observers, the loop driven by <see cref="EventLoop.Run"/> or <see cref="EventLoop.Dispatch"/>.
/// </summary>
internal static class LoopWorkloads
{
    public const string Impl = "calloop-rx";

    /// <summary>
    /// A loop for a workload; with CALLOOP_RX_DIAGNOSTICS=1 its statistics are observed (sampled every second) and its
    /// metrics published, so that the anchors state what diagnostics cost when switched on.
    /// </summary>
    private static EventLoop NewLoop()
    {
        var loop = new EventLoop();
        if (Environment.GetEnvironmentVariable("CALLOOP_RX_DIAGNOSTICS") == "1")
        {
            // Both end with the loop's disposal.
            loop.Diagnostics.Sample(TimeSpan.FromSeconds(1)).Subscribe(_ => { });
            loop.Diagnostics.PublishMetrics();
        }

        return loop;
    }

    public static void Channel(long n)
    {
        using var loop = NewLoop();
        var (sender, messages) = loop.Channel<ulong>();
        ulong sum = 0;
        long count = 0;
        long end = 0;
        messages.Subscribe(new Observer<ulong>(value =>
        {
            sum += value;
            if (++count == n)
            {
                end = Stopwatch.GetTimestamp();
                loop.Stop();
            }
        }));
        long start = RunFed(loop, sender, n);
        Check(sum == (ulong)n * ((ulong)n - 1) / 2, "channel sum");
        Result.Print(Impl, "channel", n, Seconds(start, end));
    }

    /// <summary>
    /// Runs <paramref name="loop"/> until it is stopped while a producer thread sends 0..n-1 into
    /// <paramref name="sender"/>; returns the timestamp taken just before the producer started.
    /// </summary>
    public static long RunFed(EventLoop loop, Sender<ulong> sender, long n)
    {
        long start = Stopwatch.GetTimestamp();
        var producer = new Thread(() => Produce(sender, (ulong)n));
        producer.Start();
        loop.Run();
        producer.Join();
        return start;
    }

    // A method of its own so that the producer keeps the sender and the count in registers: read from the lambda's
    // closure, they shared a cache line with the sum and count the loop writes per message (false sharing).
    internal static void Produce(Sender<ulong> sender, ulong n)
    {
        for (ulong i = 0; i < n; i++)
        {
            sender.Send(i);
        }
    }

    public static void PingPong(string workload, long n)
    {
        using var loopA = NewLoop();
        using var loopB = NewLoop();
        var (pingA, pingsA) = loopA.Ping();
        var (pingB, pingsB) = loopB.Ping();
        var stamps = new long[n + 1];
        long i = 0;
        pingsB.Subscribe(new Observer<Unit>(_ => pingA.Send()));
        pingsA.Subscribe(new Observer<Unit>(_ =>
        {
            stamps[++i] = Stopwatch.GetTimestamp();
            if (i == n)
            {
                loopA.Stop();
            }
            else
            {
                pingB.Send();
            }
        }));
        using var ready = new Barrier(2);
        var threadB = new Thread(() =>
        {
            loopB.Dispatch(TimeSpan.Zero);
            ready.SignalAndWait();
            loopB.Run();
        });
        threadB.Start();
        loopA.Dispatch(TimeSpan.Zero);
        ready.SignalAndWait();
        stamps[0] = Stopwatch.GetTimestamp();
        pingB.Send();
        loopA.Run();
        loopB.Stop();
        threadB.Join();
        var trips = new double[n];
        for (long k = 1; k <= n; k++)
        {
            trips[k - 1] = Stopwatch.GetElapsedTime(stamps[k - 1], stamps[k]).TotalMicroseconds;
        }

        Array.Sort(trips);
        Result.Print(Impl, workload, n, Seconds(stamps[0], stamps[n]), ("p50_us", Percentile(trips, 50)), ("p99_us", Percentile(trips, 99)));
    }

    public static void Timers(long n)
    {
        using var loop = NewLoop();
        long fired = 0;
        double lateTicks = 0;
        var observer = new Observer<DateTimeOffset>(deadline =>
        {
            lateTicks += (loop.Now - deadline).Ticks;
            fired++;
        });
        var lcg = new Lcg();
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        var p0 = GC.GetTotalPauseDuration();
        long start = Stopwatch.GetTimestamp();
        DateTimeOffset t0 = loop.Now;
        for (long k = 0; k < n; k++)
        {
            loop.Timer(t0.AddTicks(lcg.NextOffsetNs() / 100)).Subscribe(observer);
        }

        long inserted = Stopwatch.GetTimestamp();
        // Diagnostics on stderr: garbage collections that ran while the timers were inserted.
        Console.Error.WriteLine($"timers: collections during insert gen0={GC.CollectionCount(0) - g0} gen1={GC.CollectionCount(1) - g1} gen2={GC.CollectionCount(2) - g2} pause_ms={(GC.GetTotalPauseDuration() - p0).TotalMilliseconds:F1}");
        while (fired < n)
        {
            loop.Dispatch();
        }

        long end = Stopwatch.GetTimestamp();
        Result.Print(Impl, "timers", n, Seconds(start, end),
            ("insert_ns", Stopwatch.GetElapsedTime(start, inserted).TotalNanoseconds / n),
            ("late_us", lateTicks / n / 10));
    }

    public static void TimerCancel(long n)
    {
        using var loop = NewLoop();
        long fired = 0;
        var observer = new Observer<DateTimeOffset>(_ => fired++);
        var lcg = new Lcg();
        DateTimeOffset t0 = loop.Now + TimeSpan.FromSeconds(10);
        var subscriptions = new IDisposable[n];
        for (long k = 0; k < n; k++)
        {
            subscriptions[k] = loop.Timer(t0.AddTicks(lcg.NextOffsetNs() / 100)).Subscribe(observer);
        }

        long start = Stopwatch.GetTimestamp();
        foreach (IDisposable subscription in subscriptions)
        {
            subscription.Dispose();
        }

        long end = Stopwatch.GetTimestamp();
        loop.Dispatch(TimeSpan.Zero);
        Result.Print(Impl, "timer-cancel", n, Seconds(start, end),
            ("cancel_ns", Stopwatch.GetElapsedTime(start, end).TotalNanoseconds / n), ("fired", fired));
    }

    public static void Fds(string workload, int pipes, long n)
    {
        using var loop = NewLoop();
        var fds = new (int Read, int Write)[pipes];
        long reads = 0;
        for (int p = 0; p < pipes; p++)
        {
            fds[p] = BenchSys.Pipe();
            int readFd = fds[p].Read;
            loop.Fd(readFd, Interest.Read, TriggerMode.Level).Subscribe(new Observer<Readiness>(_ => reads += BenchSys.ReadByte(readFd)));
        }

        int write0 = fds[0].Write;
        long start = Stopwatch.GetTimestamp();
        for (long k = 0; k < n; k++)
        {
            BenchSys.WriteByte(write0);
            loop.Dispatch(TimeSpan.Zero);
        }

        long end = Stopwatch.GetTimestamp();
        Check(reads == n, "fd reads");
        loop.Dispose();
        foreach (var (read, write) in fds)
        {
            BenchSys.Close(read);
            BenchSys.Close(write);
        }

        Result.Print(Impl, workload, n, Seconds(start, end), ("ns_iter", Stopwatch.GetElapsedTime(start, end).TotalNanoseconds / n));
    }

    public static void Idle(long n)
    {
        using var loop = NewLoop();
        var counter = new Counter();
        Action increment = counter.Increment;
        long start = Stopwatch.GetTimestamp();
        for (long k = 0; k < n; k++)
        {
            loop.InsertIdle(increment);
        }

        loop.Dispatch(TimeSpan.Zero);
        long end = Stopwatch.GetTimestamp();
        Check(counter.Value == n, "idle count");
        Result.Print(Impl, "idle", n, Seconds(start, end), ("ns_cb", Stopwatch.GetElapsedTime(start, end).TotalNanoseconds / n));
    }

    /// <summary>Two seconds of <see cref="EventLoop.Run"/> with only a far timer registered: the process CPU it costs.</summary>
    public static void IdleCpu()
    {
        using var loop = NewLoop();
        loop.Timer(TimeSpan.FromHours(1)).Subscribe(new Observer<DateTimeOffset>(_ => { }));
        // Let the runtime settle (background tiered compilation of the warm-up run) before the measured window, which
        // should see the idle loop only: strace shows the loop itself makes 3 epoll calls in the whole window.
        GC.Collect();
        Thread.Sleep(1000);
        using var process = Process.GetCurrentProcess();
        var stopper = new Thread(() =>
        {
            Thread.Sleep(2000);
            loop.Stop();
        });
        process.Refresh();
        TimeSpan cpuBefore = process.TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        stopper.Start();
        loop.Run();
        long end = Stopwatch.GetTimestamp();
        process.Refresh();
        double cpuMs = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds;
        Result.Print(Impl, "idle-cpu", 1, Seconds(start, end), ("cpu_ms", cpuMs));
    }

    internal static double Seconds(long start, long end) => Stopwatch.GetElapsedTime(start, end).TotalSeconds;

    internal static double Percentile(double[] sorted, int percent) => sorted[Math.Min(sorted.Length * percent / 100, sorted.Length - 1)];

    internal static void Check(bool ok, string what)
    {
        if (!ok)
        {
            throw new InvalidOperationException($"workload check failed: {what}");
        }
    }

    private sealed class Counter
    {
        public long Value;

        public void Increment() => Value++;
    }
}
