using System.Diagnostics;
using System.Reactive.Subjects;

namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>
/// The floor under the composition workloads: the same subscribers and operators on a plain <see cref="Subject{T}"/>
/// fed by a loop on the same thread, with no scheduler, queue or thread hop (the cost of Rx itself).
/// </summary>
internal static class SubjectWorkloads
{
    public const string Impl = "rx-subject";

    public static void Broadcast(long n)
    {
        var subject = new Subject<ulong>();
        var sums = new ulong[LoopCompositionWorkloads.Subscribers];
        for (int s = 0; s < sums.Length; s++)
        {
            int index = s;
            subject.Subscribe(new Observer<ulong>(value => sums[index] += value));
        }

        long start = Stopwatch.GetTimestamp();
        for (ulong i = 0; i < (ulong)n; i++)
        {
            subject.OnNext(i);
        }

        long end = Stopwatch.GetTimestamp();
        LoopWorkloads.Check(sums.All(sum => sum == (ulong)n * ((ulong)n - 1) / 2), "broadcast sums");
        double secs = LoopWorkloads.Seconds(start, end);
        Result.Print(Impl, "broadcast-8", n, secs, ("deliveries_s", n * sums.Length / secs));
    }

    public static void Pipe(long n)
    {
        var subject = new Subject<ulong>();
        ulong sum = 0;
        Pipeline.Apply(subject).Subscribe(new Observer<ulong>(value => sum += value));
        long start = Stopwatch.GetTimestamp();
        for (ulong i = 0; i < (ulong)n; i++)
        {
            subject.OnNext(i);
        }

        long end = Stopwatch.GetTimestamp();
        LoopWorkloads.Check(sum == Pipeline.Sum(n), "pipeline sum");
        Result.Print(Impl, "pipeline", n, LoopWorkloads.Seconds(start, end));
    }
}
