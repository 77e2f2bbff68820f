using System.Reactive.Concurrency;
using BenchmarkDotNet.Attributes;

namespace Calloop.Rx.Benchmarks.Micro;

/// <summary>
/// Timers and scheduled work per firing, on a virtual clock so that every operation fires exactly one due item
/// without waiting: a re-arming timer source, a periodic action, a scheduled action, and the insert/cancel churn of
/// an idle-timeout timer pushed back on every input (calloop's timer benchmark).
/// </summary>
[MemoryDiagnoser]
public class TimerBenchmarks
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(1);
    private EventLoop _loop = null!;
    private LoopScheduler _scheduler = null!;
    private Func<IScheduler, long, IDisposable> _action = null!;
    private IDisposable? _periodic;
    private IDisposable? _timer;
    private long _count;

    [GlobalSetup(Targets = [nameof(ScheduledAction), nameof(TimeoutPushBack)])]
    public void Setup()
    {
        _loop = new EventLoop(LoopClock.Virtual());
        _scheduler = _loop.Scheduler;
        _action = (_, _) =>
        {
            _count++;
            return System.Reactive.Disposables.Disposable.Empty;
        };

        // Background load like a real program: a thousand far timers in the heap.
        for (int i = 0; i < 1000; i++)
        {
            _loop.Timer(TimeSpan.FromHours(1 + i)).Subscribe(_ => { });
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _periodic?.Dispose();
        _timer?.Dispose();
        _loop.Dispose();
    }

    // Each benchmark runs in its own process, so these setups do not meet.
    [GlobalSetup(Target = nameof(RepeatingTimer))]
    public void StartTimer()
    {
        Setup();
        _timer = _loop.Timer(s_tick, deadline => TimeoutAction.ToInstant(deadline + s_tick)).Subscribe(_ => _count++);
    }

    [GlobalSetup(Target = nameof(PeriodicAction))]
    public void StartPeriodic()
    {
        Setup();
        _periodic = _scheduler.SchedulePeriodic(0L, s_tick, static n => n + 1);
    }

    [Benchmark(Description = "timer source firing (ToInstant)")]
    public void RepeatingTimer() => _loop.AdvanceBy(s_tick);

    [Benchmark(Description = "periodic action (SchedulePeriodic)")]
    public void PeriodicAction() => _loop.AdvanceBy(s_tick);

    [Benchmark(Description = "scheduled action (Schedule + dispatch)")]
    public void ScheduledAction()
    {
        _scheduler.Schedule(0L, _action);
        _loop.Dispatch(TimeSpan.Zero);
    }

    [Benchmark(Description = "idle-timeout push-back (cancel + schedule in 10 min)")]
    public void TimeoutPushBack()
    {
        _timer?.Dispose();
        _timer = _scheduler.Schedule(0L, TimeSpan.FromMinutes(10), _action);
        _loop.Dispatch(TimeSpan.Zero);
    }
}
