using System.Reactive.Concurrency;

namespace Calloop.Rx.Scheduling;

/// <summary>A stopwatch on the loop's clock: monotonic on the real clock, and following the virtual clock exactly.</summary>
internal sealed class LoopStopwatch(EventLoop loop) : IStopwatch
{
    private readonly long _start = loop.Time.NowTicks;

    public TimeSpan Elapsed => TimeSpan.FromTicks(loop.Time.NowTicks - _start);
}
