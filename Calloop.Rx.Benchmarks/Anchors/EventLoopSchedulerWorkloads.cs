using System.Diagnostics;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Subjects;

namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>
/// The same workloads on System.Reactive's <see cref="EventLoopScheduler"/>, what a .NET user would pick today:
/// channel = Schedule from the producer thread, pingpong = two schedulers scheduling onto each other, timers =
/// Schedule(dueTime), cancel = disposing the handles, idle = Schedule from the loop thread. It has no fds. The
/// composition workloads feed a <see cref="Subject{T}"/> on the scheduler thread with one Schedule per value from the
/// producer threads, Rx's nearest equivalent of a channel.
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

    /// <summary>n far actions scheduled with one shared delegate: heap growth per pending item (see <see cref="HeapBytes"/>).</summary>
    public static void MemTimers(long n)
    {
        using var scheduler = new EventLoopScheduler();
        using (var started = new ManualResetEventSlim())
        {
            scheduler.Schedule(started.Set);
            started.Wait();
        }

        Action action = () => { };
        var lcg = new Lcg();
        TimeSpan far = TimeSpan.FromHours(1);
        long before = HeapBytes.Now();
        long start = Stopwatch.GetTimestamp();
        for (long k = 0; k < n; k++)
        {
            scheduler.Schedule(far + TimeSpan.FromTicks(lcg.NextOffsetNs() / 100), action);
        }

        long end = Stopwatch.GetTimestamp();
        long after = HeapBytes.Now();
        GC.KeepAlive(scheduler);
        Result.Print(Impl, "mem-timers", n, LoopWorkloads.Seconds(start, end), ("bytes_per", (after - before) / (double)n));
    }

    public static void Broadcast(long n)
    {
        using var scheduler = new EventLoopScheduler();
        using var done = new ManualResetEventSlim();
        var subject = new Subject<ulong>();
        var sums = new ulong[LoopCompositionWorkloads.Subscribers];
        long deliveries = 0;
        long end = 0;
        for (int s = 0; s < sums.Length; s++)
        {
            int index = s;
            subject.Subscribe(new Observer<ulong>(value =>
            {
                sums[index] += value;
                if (++deliveries == n * sums.Length)
                {
                    end = Stopwatch.GetTimestamp();
                    done.Set();
                }
            }));
        }

        long start = Stopwatch.GetTimestamp();
        var producer = new Thread(() => Feed(scheduler, subject, 0, 1, n));
        producer.Start();
        done.Wait();
        producer.Join();
        LoopWorkloads.Check(sums.All(sum => sum == (ulong)n * ((ulong)n - 1) / 2), "broadcast sums");
        double secs = LoopWorkloads.Seconds(start, end);
        Result.Print(Impl, "broadcast-8", n, secs, ("deliveries_s", n * sums.Length / secs));
    }

    public static void Pipe(long n)
    {
        using var scheduler = new EventLoopScheduler();
        using var done = new ManualResetEventSlim();
        var subject = new Subject<ulong>();
        long expected = Pipeline.Outputs(n);
        ulong sum = 0;
        long count = 0;
        long end = 0;
        Pipeline.Apply(subject).Subscribe(new Observer<ulong>(value =>
        {
            sum += value;
            if (++count == expected)
            {
                end = Stopwatch.GetTimestamp();
                done.Set();
            }
        }));
        long start = Stopwatch.GetTimestamp();
        var producer = new Thread(() => Feed(scheduler, subject, 0, 1, n));
        producer.Start();
        done.Wait();
        producer.Join();
        LoopWorkloads.Check(sum == Pipeline.Sum(n), "pipeline sum");
        Result.Print(Impl, "pipeline", n, LoopWorkloads.Seconds(start, end));
    }

    /// <summary>
    /// As on the loop, with every message one Schedule (the scheduler has one queue, so the 1,000 channels are only
    /// the producers' bookkeeping) and the 1 ms timer re-scheduled for its next absolute tick.
    /// </summary>
    public static void Fairness(long n)
    {
        using var scheduler = new EventLoopScheduler();
        using var done = new ManualResetEventSlim();
        int producers = LoopCompositionWorkloads.Producers;
        long perProducer = n / producers;
        long total = perProducer * producers;
        long received = 0;
        long end = 0;
        var counter = new Observer<ulong>(_ =>
        {
            if (++received == total)
            {
                end = Stopwatch.GetTimestamp();
                done.Set();
            }
        });
        var delays = new List<double>(100_000);
        var clock = Stopwatch.StartNew();
        long tick = TimeSpan.TicksPerMillisecond;
        long ticks = 0;
        Action onTick = null!;
        onTick = () =>
        {
            long now = clock.Elapsed.Ticks;
            delays.Add((now - (++ticks * tick)) / 10.0);
            if (!done.IsSet)
            {
                scheduler.Schedule(TimeSpan.FromTicks(Math.Max(0, ((ticks + 1) * tick) - now)), onTick);
            }
        };
        scheduler.Schedule(TimeSpan.FromTicks(tick), onTick);
        long start = Stopwatch.GetTimestamp();
        var threads = new Thread[producers];
        for (int p = 0; p < producers; p++)
        {
            threads[p] = new Thread(() => Feed(scheduler, counter, 0, 1, perProducer));
            threads[p].Start();
        }

        done.Wait();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        double[] sorted;
        using (var copied = new ManualResetEventSlim())
        {
            double[] copy = [];
            scheduler.Schedule(() =>
            {
                copy = [.. delays];
                copied.Set();
            });
            copied.Wait();
            sorted = copy;
        }

        Array.Sort(sorted);
        Result.Print(Impl, "fairness-1000", total, LoopWorkloads.Seconds(start, end),
            ("timer_p99_us", LoopWorkloads.Percentile(sorted, 99)), ("timer_max_us", sorted.Length == 0 ? 0 : sorted[^1]), ("ticks", sorted.Length));
    }

    /// <summary>Schedules <paramref name="target"/>.OnNext(first + k * step) for k in 0..count-1, one Schedule per value.</summary>
    private static void Feed(IScheduler scheduler, IObserver<ulong> target, ulong first, ulong step, long count)
    {
        Func<IScheduler, ulong, IDisposable> deliver = (_, value) =>
        {
            target.OnNext(value);
            return Disposable.Empty;
        };
        for (long k = 0; k < count; k++)
        {
            scheduler.Schedule(first + ((ulong)k * step), deliver);
        }
    }
}
