using System.Diagnostics;
using System.IO.Compression;
using Calloop.Rx.Tests.FileSystem;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Packaging;

/// <summary>
/// The three packages as a team would take them: packed into a local folder, restored from there by a small app
/// that treats warnings as errors (so a CA1416 at any call site fails it), built and run.
/// </summary>
/// <remarks>
/// The one test of the suite that takes longer than a few seconds (about 20 s here: three packs and a restore and
/// build of the consumer), because it runs the SDK itself; it runs in parallel with the rest of the suite.
/// </remarks>
public class PackageConsumerTests
{
    private static readonly string[] s_packages = ["Calloop.Rx", "Calloop.Rx.ZeroMQ", "Calloop.Rx.Testing"];

    [Fact]
    public void Packages_RestoredByAConsumer_BuildWithZeroWarningsAndRun()
    {
        string repository = Repository.Root;
        using var work = new TempDirectory();
        string feed = Directory.CreateDirectory(Path.Combine(work.Path, "feed")).FullName;

        // A version of its own per run, so that the global packages folder never serves an older pack of this one.
        string version = $"0.0.0-consumer.{Environment.ProcessId}.{Stopwatch.GetTimestamp()}";
        try
        {
            foreach (string package in s_packages)
            {
                Run(repository, "pack", Path.Combine(package, package + ".csproj"), "--no-build", "-c", Configuration(),
                    "-o", feed, $"-p:PackageVersion={version}");
                AssertPackageContents(Path.Combine(feed, $"{package}.{version}.nupkg"), package);
                Assert.True(File.Exists(Path.Combine(feed, $"{package}.{version}.snupkg")), $"{package} has no symbols package");
            }

            string consumer = Directory.CreateDirectory(Path.Combine(work.Path, "consumer")).FullName;
            File.WriteAllText(Path.Combine(consumer, "nuget.config"), NuGetConfig(feed));
            File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), ConsumerProject(version));
            File.WriteAllText(Path.Combine(consumer, "Program.cs"), ConsumerProgram);

            string build = Run(consumer, "build", "-c", "Release", "-warnaserror", "-nologo");
            Assert.Contains("0 Warning(s)", build);
            string output = Run(consumer, "run", "--no-build", "-c", "Release");
            Assert.Contains("consumer: timer fired, line received, 1 recorded", output);
        }
        finally
        {
            string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            foreach (string package in s_packages)
            {
                string unpacked = Path.Combine(cache, package.ToLowerInvariant(), version);
                if (Directory.Exists(unpacked))
                {
                    Directory.Delete(unpacked, recursive: true);
                }
            }
        }
    }

    private static void AssertPackageContents(string nupkg, string package)
    {
        using ZipArchive archive = ZipFile.OpenRead(nupkg);
        string[] entries = [.. archive.Entries.Select(e => e.FullName)];
        Assert.Contains("LICENSE", entries);
        Assert.Contains("README.md", entries);
        Assert.Contains($"lib/net10.0/{package}.dll", entries);
        Assert.Contains($"lib/net10.0/{package}.xml", entries);
        using var nuspec = new StreamReader(archive.GetEntry($"{package}.nuspec")!.Open());
        string metadata = nuspec.ReadToEnd();
        Assert.Contains("<license type=\"expression\">MIT</license>", metadata);
        Assert.Contains("<readme>README.md</readme>", metadata);
    }

    private static string Run(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(SamplesHost.DotnetHost()) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host runs under `dotnet test`, whose MSBuild settings must not leak into these builds.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', arguments)} did not finish:\n{output.Result}\n{error.Result}");
        }

        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{output.Result}\n{error.Result}");
        return output.Result;
    }

    /// <summary>The configuration the tests were built in (bin/&lt;configuration&gt;/net10.0/), which --no-build packs.</summary>
    private static string Configuration() => new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    private static string NuGetConfig(string feed) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <clear />
            <add key="local" value="{feed}" />
            <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
          </packageSources>
        </configuration>
        """;

    private static string ConsumerProject(string version) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
            <AnalysisLevel>latest</AnalysisLevel>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="Calloop.Rx" Version="{version}" />
            <PackageReference Include="Calloop.Rx.ZeroMQ" Version="{version}" />
            <PackageReference Include="Calloop.Rx.Testing" Version="{version}" />
          </ItemGroup>
        </Project>
        """;

    // Touches each package the way a new user's first program would: a timer, ZeroMQ PUSH/PULL, a virtual-time test.
    private const string ConsumerProgram = """
        using System.Text;
        using Calloop.Rx;
        using Calloop.Rx.Testing;
        using Calloop.Rx.ZeroMQ;

        using var loop = new EventLoop();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        void DispatchUntil(Func<bool> done)
        {
            while (!done())
            {
                if (DateTime.UtcNow > deadline)
                {
                    Console.WriteLine("consumer: timed out");
                    Environment.Exit(1);
                }

                loop.Dispatch(TimeSpan.FromMilliseconds(100));
            }
        }

        bool fired = false;
        using (loop.Timer(TimeSpan.FromMilliseconds(1)).Subscribe(_ => fired = true))
        {
            DispatchUntil(() => fired);
        }

        using var context = new ZmqContext();
        var server = new ZmqSocket(context, ZmqSocketType.Pull);
        var client = new ZmqSocket(context, ZmqSocketType.Push);
        server.Bind("inproc://consumer");
        client.Connect("inproc://consumer");
        var (_, incoming) = ZmqSource.Create(loop, server);
        var (outgoing, _) = ZmqSource.Create(loop, client);
        string? line = null;
        using (incoming.Subscribe(message => line = Encoding.UTF8.GetString(message[0])))
        {
            outgoing.Send([Encoding.UTF8.GetBytes("hello")]);
            DispatchUntil(() => line is not null);
        }

        using var scheduler = new LoopTestScheduler();
        var recorded = scheduler.Start(() => scheduler.Loop.Timer(TimeSpan.FromTicks(300)));
        int values = recorded.Messages.Count(m => m.Value.Kind == System.Reactive.NotificationKind.OnNext);

        Console.WriteLine($"consumer: timer fired, line {(line == "hello" ? "received" : "lost")}, {values} recorded");
        """;
}
