using System.Diagnostics;

namespace Calloop.Rx.Tests.Stress;

/// <summary>Repeats a race trial a bounded number of times within a time budget (both scaled by <see cref="StressSettings"/>).</summary>
public static class RaceTrials
{
    /// <summary>Runs <paramref name="trial"/> (given its number) up to <paramref name="maxTrials"/> times or until <paramref name="ciSeconds"/> have passed; at least once.</summary>
    public static int Run(int maxTrials, double ciSeconds, Action<int> trial)
    {
        int max = StressSettings.Scaled(maxTrials);
        TimeSpan budget = StressSettings.Budget(ciSeconds);
        var clock = Stopwatch.StartNew();
        int done = 0;
        do
        {
            trial(done++);
        }
        while (done < max && clock.Elapsed < budget);

        return done;
    }
}
