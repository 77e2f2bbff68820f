namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>
/// Console mode for <c>anchor.sh</c>: <c>[--impl calloop-rx|rx-els|rx-subject|dotnet-epoll] &lt;workload&gt; [n]</c>, one result line on stdout.
/// Full-size warm-up runs of the same workload go first, outside the timed interval, each followed by a pause so that
/// tiered compilation has promoted the hot path to optimized code; the anchors have no JIT and do none.
/// </summary>
internal static class AnchorRunner
{
    public static readonly string[] Workloads = ["channel", "pingpong", "pingpong-spin", "timers", "timer-cancel", "fds-1", "fds-9000", "idle", "idle-cpu",
        "mem-timers", "mem-fds", "broadcast-8", "pipeline", "fairness-1000"];

    public static bool IsWorkload(string name) => Workloads.Contains(name) || name.StartsWith("fds-", StringComparison.Ordinal);

    public static int Run(string[] args)
    {
        string impl = LoopWorkloads.Impl;
        int at = 0;
        if (args.Length >= 2 && args[0] == "--impl")
        {
            impl = args[1];
            at = 2;
        }

        if (args.Length <= at || !IsWorkload(args[at]))
        {
            Console.Error.WriteLine($"usage: anchor.sh [--impl calloop-rx|rx-els|rx-subject|dotnet-epoll] <{string.Join("|", Workloads)}|fds-K> [n]");
            return 2;
        }

        string workload = args[at];
        long? n = args.Length > at + 1 ? long.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : null;
        Action<long>? run = impl switch
        {
            LoopWorkloads.Impl => ForLoop(workload),
            EventLoopSchedulerWorkloads.Impl => ForEventLoopScheduler(workload),
            SubjectWorkloads.Impl => ForSubject(workload),
            RawEpollWorkloads.Impl => workload.StartsWith("fds-", StringComparison.Ordinal) ? n => RawEpollWorkloads.Fds(workload, FdCount(workload), n) : null,
            _ => throw new ArgumentException($"unknown impl '{impl}'"),
        };
        if (run is null)
        {
            return 0; // not expressible on this implementation (rx-els has no fds, dotnet-epoll only fds): print nothing
        }

        long count = n ?? DefaultN(workload);
        var stdout = Console.Out;
        Console.SetOut(TextWriter.Null);
        // Memory is counted from a cold start: warm-ups would leave the loop's grown arrays in ArrayPool.Shared, and
        // the measured run would then not count them.
        int warmUps = workload.StartsWith("mem-", StringComparison.Ordinal) ? 0 : WarmUps;
        for (int i = 0; i < warmUps; i++)
        {
            run(count);
            Thread.Sleep(250);
        }

        // The warm-ups' garbage is collected now rather than in the measured run, as BenchmarkDotNet does between
        // iterations.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Console.SetOut(stdout);
        run(count);
        return 0;
    }

    /// <summary>
    /// Untimed full-size runs before the measured one (<c>ANCHOR_WARMUPS</c>, default 4): tiered compilation needs a
    /// few runs and its background delay to reach optimized, profile-guided code for every method on the hot path
    /// (measured: timer-cancel took ~400 ns per cancel after one warm-up and ~100 ns after four).
    /// </summary>
    private static int WarmUps => int.TryParse(Environment.GetEnvironmentVariable("ANCHOR_WARMUPS"), out int value) && value >= 0 ? value : 4;

    private static long DefaultN(string workload) => workload switch
    {
        "channel" or "idle" or "broadcast-8" or "pipeline" or "fairness-1000" => 1_000_000,
        "idle-cpu" => 1,
        _ => 100_000,
    };

    private static Action<long>? ForLoop(string workload) => workload switch
    {
        "channel" => LoopWorkloads.Channel,
        "pingpong" => n => LoopWorkloads.PingPong("pingpong", n),

        // The loop spins before it blocks (and senders write the eventfd only to a sleeping loop), which is what the
        // C anchor's pingpong-spin measures: the same round trip, printed under that name beside C's.
        "pingpong-spin" => n => LoopWorkloads.PingPong("pingpong-spin", n),
        "timers" => LoopWorkloads.Timers,
        "timer-cancel" => LoopWorkloads.TimerCancel,
        "idle" => LoopWorkloads.Idle,
        "idle-cpu" => _ => LoopWorkloads.IdleCpu(),
        "mem-timers" => LoopMemoryWorkloads.Timers,
        "mem-fds" => LoopMemoryWorkloads.Fds,
        "broadcast-8" => LoopCompositionWorkloads.Broadcast,
        "pipeline" => LoopCompositionWorkloads.Pipe,
        "fairness-1000" => LoopCompositionWorkloads.Fairness,
        _ => n => LoopWorkloads.Fds(workload, FdCount(workload), n),
    };

    private static int FdCount(string workload) => int.Parse(workload["fds-".Length..], System.Globalization.CultureInfo.InvariantCulture);

    private static Action<long>? ForEventLoopScheduler(string workload) => workload switch
    {
        "channel" => EventLoopSchedulerWorkloads.Channel,
        "pingpong" => EventLoopSchedulerWorkloads.PingPong,
        "timers" => EventLoopSchedulerWorkloads.Timers,
        "timer-cancel" => EventLoopSchedulerWorkloads.TimerCancel,
        "idle" => EventLoopSchedulerWorkloads.Idle,
        "mem-timers" => EventLoopSchedulerWorkloads.MemTimers,
        "broadcast-8" => EventLoopSchedulerWorkloads.Broadcast,
        "pipeline" => EventLoopSchedulerWorkloads.Pipe,
        "fairness-1000" => EventLoopSchedulerWorkloads.Fairness,
        _ => null,
    };

    private static Action<long>? ForSubject(string workload) => workload switch
    {
        "broadcast-8" => SubjectWorkloads.Broadcast,
        "pipeline" => SubjectWorkloads.Pipe,
        _ => null,
    };
}
