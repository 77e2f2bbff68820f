namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>Measures what a round of work allocates on the calling thread, robust to one-off allocations.</summary>
public static class AllocationWindows
{
    /// <summary>
    /// Runs <paramref name="round"/> 3100 times (given the round's number) and returns the bytes this thread allocated
    /// in the least of three windows of 1000 rounds after a warm-up of 100: an allocation per round shows in every
    /// window, a one-off (a lazy initialisation that another test's timing put here) in one only.
    /// </summary>
    public static long LeastPerWindow(Action<int> round)
    {
        long least = long.MaxValue;
        long before = 0;
        for (int i = 0; i < 3100; i++)
        {
            if (i % 1000 == 100)
            {
                long now = GC.GetAllocatedBytesForCurrentThread();
                least = i > 100 ? Math.Min(least, now - before) : least;
                before = now;
            }

            round(i);
        }

        return Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
