using System.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Diagnostics;

/// <summary>
/// The Calloop.Rx meter read from outside the process, as an operator would: <c>dotnet-counters collect</c> (installed
/// beside the tests by the test project's build) attached to the <c>counters</c> sample running in a child process.
/// Two one-second refreshes keep the test short, so it checks the gauges, which every refresh shows (a counter's rate
/// and the histogram's percentiles may miss the first one; <see cref="MetricsTests"/> reads them in-process).
/// Serial: it starts two processes.
/// </summary>
[Collection("Serial")]
public class DotnetCountersTests
{
    [Fact]
    public async Task DotnetCounters_ReadsTheCalloopRxMeterOfARunningSample()
    {
        string tool = Path.Combine(AppContext.BaseDirectory, "tools", "dotnet-counters");
        Assert.True(File.Exists(tool), $"{tool} is missing: the test project's build installs it");
        string csv = Path.Combine(Path.GetTempPath(), $"calloop-counters-{Guid.NewGuid():N}.csv");
        using Process sample = Start(SamplesHost.DotnetHost(), SamplesHost.SamplesDll, "counters", "30");
        try
        {
            string? banner = await sample.StandardOutput.ReadLineAsync().WaitAsync(LoopExtensions.Patience);
            Assert.StartsWith($"counters: pid {sample.Id},", banner);

            using Process collect = Start(tool, "collect", "-p", sample.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--counters", "Calloop.Rx", "--refresh-interval", "1", "--duration", "00:00:00:02", "--format", "csv", "-o", csv);
            string toolOutput = await collect.StandardOutput.ReadToEndAsync().WaitAsync(LoopExtensions.Patience);
            await collect.WaitForExitAsync().WaitAsync(LoopExtensions.Patience);
            Assert.True(collect.ExitCode == 0, toolOutput);

            string[] rows = File.ReadAllLines(csv);
            Assert.Contains(rows, row => row.Contains("calloop.rx.sources", StringComparison.Ordinal) && row.Contains("calloop.source.kind=Channel", StringComparison.Ordinal));
            Assert.Contains(rows, row => row.Contains("calloop.rx.sources", StringComparison.Ordinal) && row.Contains("calloop.source.kind=Ping", StringComparison.Ordinal));
            Assert.Contains(rows, row => row.Contains("calloop.rx.timers.live", StringComparison.Ordinal));
        }
        finally
        {
            sample.Kill(entireProcessTree: true);
            sample.WaitForExit(LoopExtensions.Patience);
            File.Delete(csv);
        }
    }

    private static Process Start(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, UseShellExecute = false };
        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
    }
}
