using System.Diagnostics;
using Calloop.Rx.Benchmarks.Interop;

namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>
/// Managed memory per live source on Calloop.Rx: n sources, each subscribed by one shared observer and kept alive by
/// the loop alone (the subscriptions are not kept), measured as heap growth after full collections
/// (<see cref="HeapBytes"/>); <c>secs</c> covers creating and subscribing them.
/// </summary>
internal static class LoopMemoryWorkloads
{
    public static void Timers(long n)
    {
        using var loop = new EventLoop();
        var observer = new Observer<DateTimeOffset>(_ => { });
        var lcg = new Lcg();
        DateTimeOffset t0 = loop.Now + TimeSpan.FromHours(1);
        long before = HeapBytes.Now();
        long start = Stopwatch.GetTimestamp();
        for (long k = 0; k < n; k++)
        {
            loop.Timer(t0.AddTicks(lcg.NextOffsetNs() / 100)).Subscribe(observer);
        }

        long end = Stopwatch.GetTimestamp();
        long after = HeapBytes.Now();
        GC.KeepAlive(loop);
        Result.Print(LoopWorkloads.Impl, "mem-timers", n, LoopWorkloads.Seconds(start, end), ("bytes_per", (after - before) / (double)n));
    }

    /// <summary>
    /// n fd sources on duplicates of one pipe's read end (never readable), level-triggered for reading. The fds are made
    /// before the first measurement: only the sources are counted. n is capped by the open-file limit.
    /// </summary>
    public static void Fds(long n)
    {
        n = Math.Min(n, MaxFds());
        var (read, write) = BenchSys.Pipe();
        var fds = new int[n];
        for (long k = 0; k < n; k++)
        {
            fds[k] = BenchSys.Dup(read);
        }

        try
        {
            using var loop = new EventLoop();
            var observer = new Observer<Readiness>(_ => { });
            long before = HeapBytes.Now();
            long start = Stopwatch.GetTimestamp();
            foreach (int fd in fds)
            {
                loop.Fd(fd, Interest.Read, TriggerMode.Level).Subscribe(observer);
            }

            long end = Stopwatch.GetTimestamp();
            long after = HeapBytes.Now();
            GC.KeepAlive(loop);
            Result.Print(LoopWorkloads.Impl, "mem-fds", n, LoopWorkloads.Seconds(start, end), ("bytes_per", (after - before) / (double)n));
        }
        finally
        {
            foreach (int fd in fds)
            {
                BenchSys.Close(fd);
            }

            BenchSys.Close(read);
            BenchSys.Close(write);
        }
    }

    /// <summary>What the open-file limit leaves for duplicates, after the loop's own fds and the runtime's.</summary>
    public static long MaxFds() => Math.Max(1, BenchSys.OpenFileLimit() - 1000);
}
