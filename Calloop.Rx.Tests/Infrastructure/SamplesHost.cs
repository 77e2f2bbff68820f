namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>How a test runs the samples program in a process of its own.</summary>
public static class SamplesHost
{
    /// <summary>The samples program beside the tests (the test project references it).</summary>
    public static string SamplesDll
    {
        get
        {
            string samples = Path.Combine(AppContext.BaseDirectory, "Calloop.Rx.Samples.dll");
            Assert.True(File.Exists(samples), $"{samples} is missing: the test project must reference Calloop.Rx.Samples");
            return samples;
        }
    }

    /// <summary>The dotnet host running these tests (the SDK exports it), else the one on PATH.</summary>
    public static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        string? current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }
}
