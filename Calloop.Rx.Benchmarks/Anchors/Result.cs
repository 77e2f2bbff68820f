using System.Globalization;

namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>Prints the anchors' one-line result format: <c>impl workload n= secs= rate= [extra...]</c>.</summary>
internal static class Result
{
    public static void Print(string impl, string workload, long n, double secs, params (string Key, double Value)[] extra)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{impl} {workload} n={n} secs={secs:F6} rate={Math.Round(n / secs):F0}");
        foreach (var (key, value) in extra)
        {
            line += string.Create(CultureInfo.InvariantCulture, $" {key}={value:0.##}");
        }

        Console.Out.WriteLine(line);
    }
}
