using System.Reactive.Linq;

namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>
/// The operator chain of the <c>pipeline</c> workload, the same for every implementation: even values halved, in
/// buffers of 100, flattened again. From the values 0..n-1 (n a multiple of 200) it yields n/2 values summing to
/// (n/2)(n/2-1)/2.
/// </summary>
internal static class Pipeline
{
    public static IObservable<ulong> Apply(IObservable<ulong> source) =>
        source.Where(v => (v & 1) == 0).Select(v => v >> 1).Buffer(100).SelectMany(buffer => buffer);

    /// <summary>How many values <see cref="Apply"/> yields for the inputs 0..n-1.</summary>
    public static long Outputs(long n) => n / 2 / 100 * 100;

    /// <summary>The sum of those values.</summary>
    public static ulong Sum(long n) => (ulong)Outputs(n) * ((ulong)Outputs(n) - 1) / 2;
}
