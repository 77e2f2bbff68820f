using System.Text;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Processes;

/// <summary>
/// <see cref="EventLoop.StartProcess(ProcessStartOptions)"/> with real programs: exit codes and signals, what the
/// child is given (arguments, environment, directory, fds, signal state), its output read completely and in order,
/// and the errors of a start that cannot happen.
/// </summary>
public class ChildProcessTests
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const int Enoent = 2;

    [Fact]
    public void StartProcess_ChildExits_DeliversItsExitCodeOnceCompletesAndReapsIt()
    {
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("/bin/sh", "-c", "exit 3");
        var observer = new ContractObserver<ProcessExit>(loop);
        child.Exited.Subscribe(observer);

        loop.DispatchUntil(() => observer.Completed, "the exit");

        Assert.Equal(new ProcessExit(child.Pid, 3, null, false), Assert.Single(observer.Values));
        observer.AssertClean();
        ChildProbe.AssertReaped(child.Pid);
        Assert.False(child.Kill(), "a reaped child cannot be signalled");
    }

    [Fact]
    public void StartProcess_ChildEndedBySigterm_ReportsTheSignal()
    {
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("/bin/sh", "-c", "kill -TERM $$");

        ProcessExit exit = ChildProbe.AwaitExit(loop, child);

        Assert.Equal(new ProcessExit(child.Pid, null, SigTerm, false), exit);
        ChildProbe.AssertReaped(child.Pid);
    }

    [Fact]
    public void Kill_RunningChild_ReportsSigkill()
    {
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("/bin/sleep", "30");
        var exits = new List<ProcessExit>();
        bool completed = false;
        child.Exited.Subscribe(exits.Add, () => completed = true);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(exits);
        Assert.False(completed);

        Assert.True(child.Kill());
        using var deadline = new LoopDeadline(loop);
        while (!completed) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Equal(new ProcessExit(child.Pid, null, SigKill, false), Assert.Single(exits));
        ChildProbe.AssertReaped(child.Pid);
    }

    [Fact]
    public void StartProcess_PassesArgumentsEnvironmentAndWorkingDirectory_AsGiven()
    {
        using var loop = new EventLoop();
        string directory = Path.GetTempPath().TrimEnd('/');
        var options = new ProcessStartOptions("/bin/sh", "-c", "printf '%s|%s|%s|%s' \"$1\" \"$CALLOOP_TEST\" \"${HOME-unset}\" \"$(pwd)\"", "sh", "two words * $x")
        {
            WorkingDirectory = directory,
        };
        options.Environment["CALLOOP_TEST"] = "é=1";
        options.Environment.Remove("HOME");
        using ChildProcess child = loop.StartProcess(options);

        var output = new MemoryStream();
        bool ended = false;
        child.StandardOutput.Subscribe(chunk => output.Write(chunk.Span), () => ended = true);
        using var deadline = new LoopDeadline(loop);
        while (!ended) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Equal($"two words * $x|é=1|unset|{directory}", Encoding.UTF8.GetString(output.ToArray()));
        Assert.Equal(0, ChildProbe.AwaitExit(loop, child).ExitCode);
    }

    [Fact]
    public void StartProcess_BareName_IsLookedUpInPath()
    {
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("echo", "found");

        Assert.Equal("found\n", ChildProbe.ReadAll(loop, child.StandardOutput));
    }

    [Fact]
    public void StandardOutput_FiftyMegabytes_AreReadCompletelyAndInOrder()
    {
        // seq 1..6,500,000 prints about 50.9 MB; the checker parses the numbers as the bytes arrive.
        const int Last = 6_500_000;
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("/usr/bin/seq", "1", Last.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var checker = new SequenceChecker();
        long bytes = 0;
        bool ended = false;
        child.StandardOutput.Subscribe(
            chunk =>
            {
                bytes += chunk.Length; // the chunk is valid only during this call: use it here, or copy it with ToArray()
                checker.Check(chunk);
            },
            () => ended = true);

        using var deadline = new LoopDeadline(loop);
        while (!ended) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Null(checker.Failure);
        Assert.Equal(Last, checker.LastNumber);
        Assert.True(bytes > 50_000_000, $"{bytes} bytes");
        Assert.Equal(0, ChildProbe.AwaitExit(loop, child).ExitCode);
    }

    [Fact]
    public void StandardOutput_ReadingAChunk_AllocatesNothing()
    {
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("/usr/bin/yes");
        long bytes = 0;
        using IDisposable subscription = child.StandardOutput.Subscribe(chunk => bytes += chunk.Length);

        // yes keeps the pipe full, so every dispatch reads a chunk.
        long allocated = AllocationWindows.LeastPerWindow(_ => loop.Dispatch(LoopExtensions.Patience));

        Assert.True(bytes > 3000, $"{bytes} bytes read");
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void StandardOutput_Disabled_ChildBlocksInItsWriteUntilEnableDeliversItAll()
    {
        // Nothing buffers the output without bound: while the source is disabled the pipe fills and the child waits.
        const int Size = 1_000_000;
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("/usr/bin/head", "-c", Size.ToString(System.Globalization.CultureInfo.InvariantCulture), "/dev/zero");
        long bytes = 0;
        var observer = new ContractObserver<ReadOnlyMemory<byte>>(loop, chunk => bytes += chunk.Length);
        child.StandardOutput.Disable();
        child.StandardOutput.Subscribe(observer);

        loop.DispatchUntil(() => ChildProbe.IsBlockedWritingToAPipe(child.Pid), "the child blocked on the full pipe");
        Assert.Equal(0, bytes);

        child.StandardOutput.Enable();
        loop.DispatchUntil(() => observer.Completed, "the end of the output");

        Assert.Equal(Size, bytes);
        Assert.Equal(0, ChildProbe.AwaitExit(loop, child).ExitCode);
    }

    [Fact]
    public void StandardOutput_ChildKilledBySignalAfterWriting_EverythingWrittenBeforeIsDelivered()
    {
        // More than a pipe holds, so the child is still writing when the loop starts reading; the exit may be
        // delivered before the output has been read, and none of it may be lost.
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("/bin/sh", "-c", "seq 1 50000; kill -KILL $$");
        var lines = new List<string>();
        bool ended = false;
        child.StandardOutput.Lines().Subscribe(lines.Add, () => ended = true);

        using var deadline = new LoopDeadline(loop);
        while (!ended) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Equal(Enumerable.Range(1, 50_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), lines);
        Assert.Equal(SigKill, ChildProbe.AwaitExit(loop, child).Signal);
    }

    [Fact]
    public void Kill_ChildMidOutput_OutputEndsCleanlyAndTheKillIsReported()
    {
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("/usr/bin/yes");
        long bytes = 0;
        bool wellFormed = true;
        var observer = new ContractObserver<ReadOnlyMemory<byte>>(
            loop,
            chunk =>
            {
                foreach (byte b in chunk.Span)
                {
                    wellFormed &= b == (bytes++ % 2 == 0 ? (byte)'y' : (byte)'\n');
                }
            });
        child.StandardOutput.Subscribe(observer);
        loop.DispatchUntil(() => bytes > 1_000_000, "a megabyte of output");

        Assert.True(child.Kill());
        loop.DispatchUntil(() => observer.Completed, "the end of the output");

        observer.AssertClean();
        Assert.True(wellFormed, "the output is y and newline in turn");
        Assert.Equal(SigKill, ChildProbe.AwaitExit(loop, child).Signal);
        ChildProbe.AssertReaped(child.Pid);
    }

    [Fact]
    public void StandardError_IsItsOwnSource()
    {
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("/bin/sh", "-c", "echo out; echo err >&2");

        Assert.Equal("err\n", ChildProbe.ReadAll(loop, child.StandardError));
        Assert.Equal("out\n", ChildProbe.ReadAll(loop, child.StandardOutput));
    }

    [Fact]
    public void StandardFds_NotPiped_ThrowInvalidOperation()
    {
        using var loop = new EventLoop();
        var options = new ProcessStartOptions("/bin/true") { StandardOutput = ProcessStdio.Null, StandardError = ProcessStdio.Null };
        using ChildProcess child = loop.StartProcess(options);

        Assert.Contains("ProcessStdio.Pipe", Assert.Throws<InvalidOperationException>(() => child.StandardInput).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => child.StandardOutput);
        Assert.Throws<InvalidOperationException>(() => child.StandardError);
        Assert.Equal(0, ChildProbe.AwaitExit(loop, child).ExitCode);
    }

    [Fact]
    public void StartProcess_NonexistentExecutable_ThrowsEnoentWithThePathAndTheLoopGoesOn()
    {
        using var loop = new EventLoop();

        var error = Assert.Throws<LoopException>(() => loop.StartProcess("/nonexistent/calloop-no-such-program"));
        var notInPath = Assert.Throws<LoopException>(() => loop.StartProcess("calloop-no-such-program"));

        Assert.Equal(("posix_spawn", Enoent), (error.Operation, error.Errno));
        Assert.Contains("/nonexistent/calloop-no-such-program", error.Message, StringComparison.Ordinal);
        Assert.Equal(Enoent, notInPath.Errno);
        Assert.Contains("calloop-no-such-program", notInPath.Message, StringComparison.Ordinal);
        using ChildProcess child = loop.StartProcess("/bin/sh", "-c", "exit 4");
        Assert.Equal(4, ChildProbe.AwaitExit(loop, child).ExitCode);
    }

    [Fact]
    public void StartProcess_MissingWorkingDirectory_ThrowsNamingItAndTheLoopGoesOn()
    {
        using var loop = new EventLoop();
        var options = new ProcessStartOptions("/bin/true") { WorkingDirectory = "/nonexistent/calloop-no-such-dir" };

        var error = Assert.Throws<LoopException>(() => loop.StartProcess(options));

        Assert.Equal(Enoent, error.Errno);
        Assert.Contains("working directory /nonexistent/calloop-no-such-dir", error.Message, StringComparison.Ordinal);
        using ChildProcess child = loop.StartProcess("/bin/true");
        Assert.Equal(0, ChildProbe.AwaitExit(loop, child).ExitCode);
    }

    [Fact]
    public void StartProcess_LoopDisposed_ThrowsObjectDisposed()
    {
        var loop = new EventLoop();
        loop.Dispose();

        Assert.Throws<ObjectDisposedException>(() => loop.StartProcess("/bin/true"));
    }

    [Fact]
    public void Lines_SplitAcrossReads_AreJoinedAndALastLineWithoutNewlineIsDelivered()
    {
        // The child stops mid-line and mid-character (é is C3 A9 in UTF-8) until it reads a line, so the loop
        // certainly reads the two halves separately.
        using var loop = new EventLoop();
        var options = new ProcessStartOptions("/bin/sh", "-c", "printf 'hel\\303'; read x; printf '\\251llo\\r\\nnext\\n\\nlast'")
        {
            StandardInput = ProcessStdio.Pipe,
        };
        using ChildProcess child = loop.StartProcess(options);
        var lines = new List<string>();
        long bytes = 0;
        var observer = new ContractObserver<string>(loop, lines.Add);
        child.StandardOutput.Lines().Subscribe(observer);
        child.StandardOutput.Subscribe(chunk => bytes += chunk.Length);
        loop.DispatchUntil(() => bytes == 4, "the first half");
        Assert.Empty(lines);

        Assert.Equal(SendResult.Sent, child.StandardInput.TrySend("\n"u8.ToArray()));
        loop.DispatchUntil(() => observer.Completed, "the end of the output");

        Assert.Equal(["helé" + "llo", "next", string.Empty, "last"], lines);
        observer.AssertClean();
    }

    [Fact]
    public void Lines_CallerChosenEncoding_DecodesWithIt()
    {
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("/bin/sh", "-c", "printf 'caf\\351\\nna\\357ve'");
        var lines = new List<string>();
        bool ended = false;
        child.StandardOutput.Lines(Encoding.Latin1).Subscribe(lines.Add, () => ended = true);

        using var deadline = new LoopDeadline(loop);
        while (!ended) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Equal(["café", "naïve"], lines);
    }

    /// <summary>Checks that chunks of <c>seq</c> output are the numbers 1, 2, 3… each on its own line, without keeping them.</summary>
    private sealed class SequenceChecker
    {
        private int _current;

        public int LastNumber { get; private set; }

        public string? Failure { get; private set; }

        public void Check(ReadOnlyMemory<byte> chunk)
        {
            foreach (byte b in chunk.Span)
            {
                if (b == (byte)'\n')
                {
                    if (_current != LastNumber + 1)
                    {
                        Failure ??= $"{_current} after {LastNumber}";
                    }

                    LastNumber = _current;
                    _current = 0;
                }
                else
                {
                    _current = (_current * 10) + (b - '0');
                }
            }
        }
    }
}
