using System.Text;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Processes;

/// <summary>What the child-process tests ask of a child: its exit, all its output, and whether it is gone from /proc.</summary>
internal static class ChildProbe
{
    /// <summary>Subscribes to the child's exit and dispatches until it is delivered; returns it.</summary>
    public static ProcessExit AwaitExit(EventLoop loop, ChildProcess child)
    {
        var observer = new ContractObserver<ProcessExit>(loop);
        child.Exited.Subscribe(observer);
        loop.DispatchUntil(() => observer.Completed, $"the exit of {child.Pid}");
        observer.AssertClean();
        return Assert.Single(observer.Values);
    }

    /// <summary>Subscribes to an output and dispatches until it ends; returns what it delivered, as UTF-8.</summary>
    public static string ReadAll(EventLoop loop, ProcessOutputSource output)
    {
        var bytes = new List<byte>();
        var observer = new ContractObserver<ReadOnlyMemory<byte>>(loop, chunk => bytes.AddRange(chunk.Span));
        output.Subscribe(observer);
        loop.DispatchUntil(() => observer.Completed, "the end of the output");
        observer.AssertClean();
        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>
    /// The fds open now, after starting, reading and reaping one child on a loop of its own: the first start in a
    /// test process opens files of the runtime's own (assemblies loaded on first use) that stay open, and an fd count
    /// taken before them would blame the child.
    /// </summary>
    public static HashSet<int> OpenFdsAfterWarmUp()
    {
        using (var loop = new EventLoop())
        {
            using ChildProcess child = loop.StartProcess("/bin/sh", "-c", "echo warm");
            Assert.Equal("warm\n", ReadAll(loop, child.StandardOutput));
            AwaitExit(loop, child);
        }

        return Interop.TestSys.OpenFds();
    }

    /// <summary>Whether <paramref name="pid"/> is a zombie child of this process (a child nobody reaped).</summary>
    public static bool IsOurZombie(int pid) => State(pid) is ("Z", true);

    /// <summary>
    /// Asserts that child <paramref name="pid"/> is gone: reaped, so /proc has no child of ours by that number, neither
    /// a zombie nor one still running.
    /// </summary>
    public static void AssertReaped(int pid) => Assert.True(State(pid) is (_, false), $"child {pid} is still there, state {State(pid).State}");

    /// <summary>Whether child <paramref name="pid"/> is stopped (state T), as after SIGSTOP once the kernel has stopped it.</summary>
    public static bool IsStopped(int pid) => State(pid) is ("T", true);

    /// <summary>Whether process <paramref name="pid"/> sleeps in a write to a full pipe (its /proc wait channel).</summary>
    public static bool IsBlockedWritingToAPipe(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/wchan").Contains("pipe_write", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The state letter of process <paramref name="pid"/> and whether it is a child of this process; (null, false) when there is none.</summary>
    private static (string? State, bool OurChild) State(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return (null, false);
        }

        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (fields[0], fields[1] == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
