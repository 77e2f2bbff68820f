using System.Diagnostics;
using System.Reactive.Concurrency;

namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>
/// The same workloads on System.Reactive's <see cref="EventLoopScheduler"/>, what a .NET user would pick today:
/// channel = Schedule from the producer thread, pingpong = two schedulers scheduling onto each other, timers =
/// Schedule(dueTime), cancel = disposing the handles, idle = Schedule from the loop thread. It has no fds.
/// </summary>
internal static class EventLoopSchedulerWorkloads
{
    public const string Impl = "rx-els";

    public static void Channel(long n)
    {
        using var scheduler = new EventLoopScheduler();
        using var done = new ManualResetEventSlim();
        ulong sum = 0;
        long count = 0;
        long end = 0;
        long start = Stopwatch.GetTimestamp();
        var producer = new Thread(() =>
        {
            // Locals, not closure fields: those share a cache line with the sum and count the loop writes.
            IScheduler target = scheduler;
            ulong total = (ulong)n;
            for (ulong i = 0; i < total; i++)
            {
                ulong value = i;
                target.Schedule(() =>
                {
                    sum += value;
                    if (++count == n)
                    {
                        end = Stopwatch.GetTimestamp();
                        done.Set();
                    }
                });
            }
        });
        producer.Start();
        done.Wait();
        producer.Join();
        LoopWorkloads.Check(sum == (ulong)n * ((ulong)n - 1) / 2, "channel sum");
        Result.Print(Impl, "channel", n, LoopWorkloads.Seconds(start, end));
    }

    public static void PingPong(long n)
    {
        using var a = new EventLoopScheduler();
        using var b = new EventLoopScheduler();
        using var done = new ManualResetEventSlim();
        var stamps = new long[n + 1];
        long i = 0;
        Action onA = null!;
        Action onB = () => a.Schedule(onA);
        onA = () =>
        {
            stamps[++i] = Stopwatch.GetTimestamp();
            if (i == n)
            {
                done.Set();
            }
            else
            {
                b.Schedule(onB);
            }
        };

        // Both threads exist before t0 (EventLoopScheduler starts its thread on first use).
        using var warm = new CountdownEvent(2);
        a.Schedule(() => warm.Signal());
        b.Schedule(() => warm.Signal());
        warm.Wait();
        stamps[0] = Stopwatch.GetTimestamp();
        b.Schedule(onB);
        done.Wait();
        var trips = new double[n];
        for (long k = 1; k <= n; k++)
        {
            trips[k - 1] = Stopwatch.GetElapsedTime(stamps[k - 1], stamps[k]).TotalMicroseconds;
        }

        Array.Sort(trips);
        Result.Print(Impl, "pingpong", n, LoopWorkloads.Seconds(stamps[0], stamps[n]),
            ("p50_us", LoopWorkloads.Percentile(trips, 50)), ("p99_us", LoopWorkloads.Percentile(trips, 99)));
    }

    public static void Timers(long n)
    {
        using var scheduler = new EventLoopScheduler();
        using var done = new ManualResetEventSlim();
        long fired = 0;
        double lateTicks = 0;
        long start = 0;
        long inserted = 0;
        var watch = new Stopwatch();

        // Inserting from the loop thread, as the other implementations do.
        scheduler.Schedule(() =>
        {
            var lcg = new Lcg();
            start = Stopwatch.GetTimestamp();
            watch.Start();
            for (long k = 0; k < n; k++)
            {
                long dueTicks = lcg.NextOffsetNs() / 100;
                scheduler.Schedule(TimeSpan.FromTicks(dueTicks), () =>
                {
                    lateTicks += watch.Elapsed.Ticks - dueTicks;
                    if (++fired == n)
                    {
                        done.Set();
                    }
                });
            }

            inserted = Stopwatch.GetTimestamp();
        });
        done.Wait();
        long end = Stopwatch.GetTimestamp();
        Result.Print(Impl, "timers", n, LoopWorkloads.Seconds(start, end),
            ("insert_ns", Stopwatch.GetElapsedTime(start, inserted).TotalNanoseconds / n),
            ("late_us", lateTicks / n / 10));
    }

    public static void TimerCancel(long n)
    {
        using var scheduler = new EventLoopScheduler();
        using var done = new ManualResetEventSlim();
        long fired = 0;
        scheduler.Schedule(() =>
        {
            var lcg = new Lcg();
            var handles = new IDisposable[n];
            for (long k = 0; k < n; k++)
            {
                handles[k] = scheduler.Schedule(TimeSpan.FromSeconds(10) + TimeSpan.FromTicks(lcg.NextOffsetNs() / 100), () => fired++);
            }

            long start = Stopwatch.GetTimestamp();
            foreach (IDisposable handle in handles)
            {
                handle.Dispose();
            }

            long end = Stopwatch.GetTimestamp();
            Result.Print(Impl, "timer-cancel", n, LoopWorkloads.Seconds(start, end),
                ("cancel_ns", Stopwatch.GetElapsedTime(start, end).TotalNanoseconds / n), ("fired", fired));
            done.Set();
        });
        done.Wait();
    }

    public static void Idle(long n)
    {
        using var scheduler = new EventLoopScheduler();
        using var done = new ManualResetEventSlim();
        long count = 0;
        long start = 0;
        Action increment = () => count++;
        scheduler.Schedule(() =>
        {
            start = Stopwatch.GetTimestamp();
            for (long k = 0; k < n; k++)
            {
                scheduler.Schedule(increment);
            }

            scheduler.Schedule(() => done.Set());
        });
        done.Wait();
        long end = Stopwatch.GetTimestamp();
        LoopWorkloads.Check(count == n, "idle count");
        Result.Print(Impl, "idle", n, LoopWorkloads.Seconds(start, end), ("ns_cb", Stopwatch.GetElapsedTime(start, end).TotalNanoseconds / n));
    }
}
