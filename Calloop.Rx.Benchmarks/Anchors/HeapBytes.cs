namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>
/// Managed heap growth across a piece of work, after full collections: what the objects it left alive cost. Counts
/// everything that stays reachable, including growth arrays that went back to <c>ArrayPool.Shared</c> (which keeps
/// them), so it is an upper bound on what the live objects themselves take.
/// </summary>
internal static class HeapBytes
{
    public static long Now()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
