namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// How hard the stress suite pushes. CI runs the default budget; <c>CALLOOP_SOAK=N</c> (N ≥ 1) multiplies every
/// iteration count by 10·N for local soak runs (a million churn cycles per source kind at N = 1).
/// </summary>
public static class StressSettings
{
    public static int Factor { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("CALLOOP_SOAK"), out int soak) && soak > 0 ? 10 * soak : 1;

    /// <summary>Whether a soak run was asked for.</summary>
    public static bool Soak => Factor > 1;

    /// <summary><paramref name="ciCount"/> scaled by <see cref="Factor"/>.</summary>
    public static int Scaled(int ciCount) => ciCount * Factor;

    /// <summary>The time budget of a race test's trial loop, scaled likewise.</summary>
    public static TimeSpan Budget(double ciSeconds) => TimeSpan.FromSeconds(ciSeconds * Factor);
}
