using System.Diagnostics;
using System.Text.RegularExpressions;
using Calloop.Rx.Samples;
using Calloop.Rx.Tests.FileSystem;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Samples;

/// <summary>
/// Runs each sample's entry point in-process with its short or self-test options, as CI does. In the serial
/// collection: the signals sample sends SIGTERM to this very process, and the echo test counts open fds.
/// </summary>
[Collection("Serial")]
public class SamplesTests
{
    [Fact]
    public void Program_WithoutAName_ListsTheSamples()
    {
        var output = new StringWriter();
        Assert.Equal(0, Program.Run([], output));
        foreach (string name in Program.SampleNames)
        {
            Assert.Contains($"  {name} ", output.ToString());
        }
    }

    [Fact]
    public void Program_WithAnUnknownName_ListsTheSamplesAndExits2()
    {
        var output = new StringWriter();
        Assert.Equal(2, Program.Run(["no-such-sample"], output));
        Assert.Contains("Unknown sample 'no-such-sample'", output.ToString());
        Assert.Contains("  echo ", output.ToString());
    }

    [Fact]
    public void Counters_SelfTest_ReadsTheLoopsFiguresFromTheMeter()
    {
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["counters", "--self-test"], output));
        string text = output.ToString();
        Assert.Contains($"counters: pid {Environment.ProcessId}, meter Calloop.Rx", text);
        Assert.Matches(@"calloop\.rx\.events\[Channel\] [1-9]", text);
        Assert.Matches(@"calloop\.rx\.iterations [1-9]", text);
        Assert.Contains("calloop.rx.callback.duration[Ping]", text);
    }

    [Fact]
    public void Lines_SplitAcrossReads_PrintsWholeLinesAndEndsWithTheStream()
    {
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["lines"], output));
        Assert.Equal(
            ["1: the first line", "2: the second line", "3: caf\u00e9 au lait", "4: no newline at the end"],
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public void TimerSample_Run_PrintsItsDeadlineAndStopsTheLoop()
    {
        var output = new StringWriter();
        DateTimeOffset before = DateTimeOffset.UtcNow;
        Assert.Equal(0, Program.Run(["timer", "50"], output));
        Match match = Regex.Match(output.ToString(), @"^Timeout for (\S+) expired!\r?\n$");
        Assert.True(match.Success, output.ToString());

        // Not early: the deadline is at least 50 ms after the start (the loop's clock is anchored to the wall clock
        // when the loop is made, so allow the wall clock's granularity).
        DateTimeOffset deadline = DateTimeOffset.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(deadline - before >= TimeSpan.FromMilliseconds(49), $"deadline {deadline:O}, started {before:O}");
    }

    [Fact]
    public void TimerSample_BadDelay_IsRejected()
    {
        var output = new StringWriter();
        Assert.Equal(2, Program.Run(["timer", "soon"], output));
    }

    [Fact]
    public void ChannelSample_Run_DeliversEveryMessageAndStopsWhenSendersAreGone()
    {
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["channel"], output));
        string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

        // 3 producers × readings 1..10, in any interleaving; each producer's own readings stay in order.
        string[] readings = [.. lines.Where(l => l.StartsWith("producer ", StringComparison.Ordinal))];
        Assert.Equal(30, readings.Length);
        Assert.EndsWith(": 30 received, running total 165", readings[^1]);
        for (int producer = 1; producer <= 3; producer++)
        {
            int[] values = [.. readings
                .Select(l => Regex.Match(l, @"^producer (\d) sent (\d+):"))
                .Where(m => m.Groups[1].Value == producer.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Select(m => int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))];
            Assert.Equal(Enumerable.Range(1, 10), values);
        }

        Assert.Equal(["jobs [1, 2, 3, 4]", "jobs [5, 6, 7, 8]", "jobs [9, 10, 11, 12]"], lines.Where(l => l.StartsWith("jobs ", StringComparison.Ordinal)));
        Assert.Equal("every sender is disposed: both channels completed", lines[^1]);
    }

    [Fact]
    public void Signals_SelfTest_EndsCleanlyOnSigterm()
    {
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["signals", "--self-test"], output));
        string text = output.ToString();
        Assert.Contains("Received SIGUSR1 (signal 10, 1x)", text);
        Assert.Contains("Received SIGTERM (signal 15, 1x)", text);
        Assert.EndsWith("Shutting down cleanly" + Environment.NewLine, text);
    }

    [Fact]
    public void Watch_SelfTest_SeesEachChangeInANewSubdirectoryAndEnds()
    {
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["watch", "--self-test"], output));
        string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

        Assert.StartsWith("Watching /", lines[0], StringComparison.Ordinal);
        Assert.Equal(["Created", "Created", "Modified", "Moved", "Deleted"], lines[1..].Select(line => line.Split(' ')[0]));
        Assert.EndsWith("/sub/", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("/sub/file.txt -> " + lines[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], lines[4], StringComparison.Ordinal);
    }

    [Fact]
    public void RunSample_Command_PrintsOutputThenExitStatusAndReturnsTheCode()
    {
        var output = new StringWriter();
        Assert.Equal(3, Program.Run(["run", "/bin/sh", "-c", "echo one; echo two; echo oops >&2; printf 'no newline'; exit 3"], output));
        string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

        Assert.StartsWith("[", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("] started /bin/sh -c echo one; echo two; echo oops >&2; printf 'no newline'; exit 3", lines[0], StringComparison.Ordinal);
        Assert.Equal(["out    1 | one", "out    2 | two", "out    3 | no newline"], lines.Where(line => line.StartsWith("out", StringComparison.Ordinal)));
        Assert.Equal(["err    1 | oops"], lines.Where(line => line.StartsWith("err", StringComparison.Ordinal)));
        Assert.EndsWith("] exited with code 3", lines[^1], StringComparison.Ordinal);
        Assert.Equal(6, lines.Length);
    }

    [Fact]
    public void RunSample_KilledOrMissingCommand_ReportsTheSignalOrTheError()
    {
        var killed = new StringWriter();
        Assert.Equal(128 + 9, Program.Run(["run", "sh", "-c", "kill -KILL $$"], killed));
        Assert.EndsWith("killed by signal 9" + Environment.NewLine, killed.ToString(), StringComparison.Ordinal);

        var missing = new StringWriter();
        Assert.Equal(1, Program.Run(["run", "/no/such/calloop/program"], missing));
        Assert.Contains("Cannot start: posix_spawn failed, errno 2", missing.ToString(), StringComparison.Ordinal);
        Assert.Contains("/no/such/calloop/program", missing.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, Program.Run(["run"], new StringWriter()));
    }

    [Fact]
    public void Watch_MissingPath_ReportsTheErrorAndExits1()
    {
        var output = new StringWriter();
        Assert.Equal(1, Program.Run(["watch", "/no/such/calloop/path"], output));
        Assert.Contains("Cannot watch: inotify_add_watch failed, errno 2", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("/no/such/calloop/path", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, Program.Run(["watch"], new StringWriter()));
    }

    [Fact]
    public async Task Watch_BeyondTheInotifyWatchLimit_ReportsEnospcAndExits1()
    {
        // A user namespace of its own (unshare -U -r), whose watch limit its root may lower without touching the
        // machine's: two watches allowed, and a tree of three directories needs three.
        using var tree = new TempDirectory();
        Directory.CreateDirectory(tree["a/b"]);
        string script = "echo 2 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\"";
        var start = new ProcessStartInfo("unshare", ["-U", "-r", "sh", "-c", script, SamplesHost.DotnetHost(), SamplesHost.SamplesDll, "watch", tree.Path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using Process child = Process.Start(start) ?? throw new InvalidOperationException("could not start unshare");
        Task<string> output = child.StandardOutput.ReadToEndAsync();
        Task<string> errors = child.StandardError.ReadToEndAsync();
        try
        {
            await child.WaitForExitAsync().WaitAsync(LoopExtensions.Patience);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }

        string text = await output + await errors;
        Assert.True(child.ExitCode == 1, $"exit code {child.ExitCode}: {text}");
        Assert.Contains("Cannot watch: the per-user inotify watch limit", text, StringComparison.Ordinal);
        Assert.Contains($"(Watch {tree["a/b"]}): inotify_add_watch failed, errno 28", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Echo_SelfTest_PassesAndClosesEveryFd()
    {
        // The first run loads what the runtime keeps for good (sockets' own fds, if any); the second must leave none behind.
        Assert.Equal(0, Program.Run(["echo", "--self-test"], new StringWriter()));
        HashSet<int> before = TestSys.OpenFds();

        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["echo", "--self-test"], output));
        Assert.Empty(TestSys.FdsOpenedSince(before));
        string text = output.ToString();
        Assert.Matches(@"^echo server listening on 127\.0\.0\.1:(\d+) \(port \1\)", text);
        Assert.DoesNotMatch(@"\(port 0\)", text);
        Assert.Contains("client 1 disconnected (end of stream) after 16777228 bytes echoed", text);
        Assert.EndsWith("echo self-test passed" + Environment.NewLine + "echo server stopped" + Environment.NewLine, text);
    }

    [Fact]
    public void Echo_Sigint_StopsCleanly()
    {
        var output = new LineSignallingWriter("echo server listening");
        int exitCode = -1;
        var server = new Thread(() => exitCode = Program.Run(["echo"], output));
        server.Start();
        Assert.True(output.Seen.Wait(TimeSpan.FromSeconds(4)), "the server never said it was listening");

        TestSys.Kill(TestSys.SIGINT);

        Assert.True(server.Join(TimeSpan.FromSeconds(4)), "SIGINT did not stop the echo server");
        Assert.Equal(0, exitCode);
        Assert.EndsWith("echo server stopping on SIGINT" + Environment.NewLine + "echo server stopped" + Environment.NewLine, output.ToString());
    }

    [Fact]
    public void AsyncSample_Run_ExchangesFriendlyAndAloofMessages()
    {
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["async"], output));
        string text = output.ToString();
        Assert.Contains("Friendly said: Hello,", text);
        Assert.Contains("Aloof said: it's you.", text);
        Assert.EndsWith("Event loop ended." + Environment.NewLine, text);
    }

    [Fact]
    public void AdaptIo_Run_ReadsWhatTheOtherEndWrote()
    {
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["adapt-io"], output));
        Assert.Contains("Async block ended with: Hello, world!", output.ToString());
    }

    [Fact]
    public void Echo_BadPort_IsRejected()
    {
        var output = new StringWriter();
        Assert.Equal(2, Program.Run(["echo", "70000"], output));
    }

    /// <summary>Collects a sample's output and signals once a line starting with a given text is written.</summary>
    private sealed class LineSignallingWriter(string start) : StringWriter
    {
        public ManualResetEventSlim Seen { get; } = new();

        public override void WriteLine(string? value)
        {
            lock (this)
            {
                base.WriteLine(value);
            }

            if (value?.StartsWith(start, StringComparison.Ordinal) == true)
            {
                Seen.Set();
            }
        }

        public override string ToString()
        {
            lock (this)
            {
                return base.ToString();
            }
        }
    }
}
