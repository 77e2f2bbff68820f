using System.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Processes;

/// <summary>
/// <see cref="EventLoop.WatchProcess"/> over real children. Most are started with posix_spawn (<see cref="TestChild"/>),
/// which the runtime neither tracks nor reaps, so their status is always readable and asserted exactly; the
/// <see cref="Process.Start()"/> test checks what the runtime's own reaping allows. Serial because it counts the
/// process's open pidfds, which must all be this class's.
/// </summary>
[Collection("Serial")]
public class ProcessExitTests
{
    private const int SigTerm = 15;
    private const int SigKill = 9;

    [Fact]
    public void WatchProcess_ChildExits_DeliversItsExitCodeOnceThenCompletes()
    {
        using var loop = new EventLoop();
        using TestChild child = TestChild.Shell("exit 3");
        var exits = new List<ProcessExit>();
        bool completed = false;
        using IDisposable subscription = loop.WatchProcess(child.Pid).Subscribe(exits.Add, () => completed = true);

        using var deadline = new LoopDeadline(loop);
        while (!completed) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Equal(new ProcessExit(child.Pid, 3, null, false), Assert.Single(exits));
        Assert.True(Assert.Single(exits).IsStatusKnown);
    }

    [Fact]
    public void WatchProcess_ChildKillsItselfWithSigterm_ReportsTheSignal()
    {
        using var loop = new EventLoop();
        using TestChild child = TestChild.Shell("kill -TERM $$");
        var observer = new ContractObserver<ProcessExit>(loop);
        loop.WatchProcess(child.Pid).Subscribe(observer);

        loop.DispatchUntil(() => observer.Completed, "the exit");

        Assert.Equal(new ProcessExit(child.Pid, null, SigTerm, false), Assert.Single(observer.Values));
        observer.AssertClean();
    }

    [Fact]
    public void WatchProcess_RunningChildKilled_ReportsSigkillOnlyAfterTheKill()
    {
        using var loop = new EventLoop();
        using TestChild child = TestChild.Shell("exec sleep 30");
        var observer = new ContractObserver<ProcessExit>(loop);
        loop.WatchProcess(child.Pid).Subscribe(observer);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Notifications);
        child.Kill(SigKill);
        loop.DispatchUntil(() => observer.Completed, "the exit");

        Assert.Equal(new ProcessExit(child.Pid, null, SigKill, false), Assert.Single(observer.Values));
        observer.AssertClean();
    }

    [Fact]
    public void WatchProcess_AlreadyExitedChild_ReportsTheExitOnTheFirstDispatch()
    {
        using var loop = new EventLoop();
        using TestChild child = TestChild.Shell("exit 7");
        child.WaitExitedNotReaped(LoopExtensions.Patience);
        var observer = new ContractObserver<ProcessExit>(loop);
        loop.WatchProcess(child.Pid).Subscribe(observer);

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(new ProcessExit(child.Pid, 7, null, false), Assert.Single(observer.Values));
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void WatchProcess_StatusIsOnlyRead_TheChildIsLeftForItsParentToReap()
    {
        using var loop = new EventLoop();
        using TestChild child = TestChild.Shell("exit 5");
        var observer = new ContractObserver<ProcessExit>(loop);
        loop.WatchProcess(child.Pid).Subscribe(observer);
        loop.DispatchUntil(() => observer.Completed, "the exit");

        // Reaping here is what would make the runtime FailFast for a Process.Start child: the status must still be there.
        int status = child.Reap();
        Assert.Equal(5, (status >> 8) & 0xFF);
        Assert.Equal(5, Assert.Single(observer.Values).ExitCode);
    }

    [Fact]
    public void WatchProcess_ReapedChild_ThrowsLoopExceptionWithEsrchAndThePid()
    {
        using var loop = new EventLoop();
        int pid;
        using (TestChild child = TestChild.Shell("exit 0"))
        {
            pid = child.Pid;
            child.Reap();
        }

        LoopException error = Assert.Throws<LoopException>(() => loop.WatchProcess(pid));

        Assert.Equal(3, error.Errno);
        Assert.Equal("pidfd_open", error.Operation);
        Assert.Contains($"Process {pid}", error.Message, StringComparison.Ordinal);
        Assert.Contains("no such process", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WatchProcess_NotOurChild_ThrowsEchildWithThePidAndTheLoopGoesOn()
    {
        // This very process is no child of itself: its exit status is for its parent to read.
        using var loop = new EventLoop();
        LoopException error = Assert.Throws<LoopException>(() => loop.WatchProcess(Environment.ProcessId));

        Assert.Equal(10, error.Errno);
        Assert.Contains($"Process {Environment.ProcessId}", error.Message, StringComparison.Ordinal);
        Assert.Contains("not a child of this process", error.Message, StringComparison.Ordinal);

        using TestChild child = TestChild.Shell("exit 4");
        var observer = new ContractObserver<ProcessExit>(loop);
        loop.WatchProcess(child.Pid).Subscribe(observer);
        loop.DispatchUntil(() => observer.Completed, "the child's exit");
        Assert.Equal(4, Assert.Single(observer.Values).ExitCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void WatchProcess_PidNotPositive_ThrowsArgumentOutOfRange(int pid)
    {
        using var loop = new EventLoop();
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.WatchProcess(pid));
    }

    [Fact]
    public void WatchProcess_FiftyConcurrentChildren_EachReportedExactlyOnceWithItsCode()
    {
        using var loop = new EventLoop();
        var children = new List<TestChild>();
        var observers = new List<ContractObserver<ProcessExit>>();
        try
        {
            for (int i = 0; i < 50; i++)
            {
                TestChild child = TestChild.Shell($"exit {i}");
                children.Add(child);
                var observer = new ContractObserver<ProcessExit>(loop);
                observers.Add(observer);
                loop.WatchProcess(child.Pid).Subscribe(observer);
            }

            loop.DispatchUntil(() => observers.All(o => o.Completed), "50 exits");

            for (int i = 0; i < 50; i++)
            {
                Assert.Equal(new ProcessExit(children[i].Pid, i, null, false), Assert.Single(observers[i].Values));
                observers[i].AssertClean();
            }
        }
        finally
        {
            children.ForEach(child => child.Dispose());
        }
    }

    [Fact]
    public void WatchProcess_ThePidfdIsCloseOnExecAndClosedOnceTheExitIsDelivered()
    {
        using var loop = new EventLoop();
        using TestChild child = TestChild.Shell("exec sleep 30");
        HashSet<int> before = Pidfds();
        ProcessExitSource source = loop.WatchProcess(child.Pid);
        int pidfd = Assert.Single(Pidfds().Except(before));
        Assert.True(TestSys.IsCloseOnExec(pidfd));

        var observer = new ContractObserver<ProcessExit>(loop);
        source.Subscribe(observer);
        child.Kill(SigKill);
        loop.DispatchUntil(() => observer.Completed, "the exit");

        Assert.Equal(before, Pidfds());
        Assert.True(source.IsTerminated);
    }

    [Fact]
    public void WatchProcess_UnsubscribedBeforeTheExit_KeepsThePidfdUntilRemovedAndTheChildRuns()
    {
        using var loop = new EventLoop();
        using TestChild child = TestChild.Shell("exec sleep 30");
        HashSet<int> before = Pidfds();
        ProcessExitSource source = loop.WatchProcess(child.Pid);
        var early = new ContractObserver<ProcessExit>(loop);
        source.Subscribe(early).Dispose();
        loop.Dispatch(TimeSpan.Zero);

        Assert.False(source.IsActive);
        Assert.Single(Pidfds().Except(before));
        source.Remove();
        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(before, Pidfds());
        Assert.Empty(early.Notifications);
        Assert.True(child.IsRunning);
        child.Kill(SigKill);
        Assert.Equal(SigKill, child.Reap() & 0x7F);
    }

    [Fact]
    public void WatchProcess_UnsubscribedThenSubscribedAgain_TheLaterSubscriberGetsTheExit()
    {
        using var loop = new EventLoop();
        using TestChild child = TestChild.Shell("exec sleep 30");
        ProcessExitSource source = loop.WatchProcess(child.Pid);
        source.Subscribe(new ContractObserver<ProcessExit>(loop)).Dispose();
        child.Kill(SigTerm);
        child.WaitExitedNotReaped(LoopExtensions.Patience);

        var late = new ContractObserver<ProcessExit>(loop);
        source.Subscribe(late);
        loop.DispatchUntil(() => late.Completed, "the exit");

        Assert.Equal(new ProcessExit(child.Pid, null, SigTerm, false), Assert.Single(late.Values));
        late.AssertClean();
    }

    [Fact]
    public void WatchProcess_DisabledAtTheExit_DeliversItToEverySubscriberOnEnable()
    {
        using var loop = new EventLoop();
        using TestChild child = TestChild.Shell("exec sleep 30");
        ProcessExitSource source = loop.WatchProcess(child.Pid);
        var first = new ContractObserver<ProcessExit>(loop);
        var second = new ContractObserver<ProcessExit>(loop);
        source.Subscribe(first);
        source.Subscribe(second);
        source.Disable();
        child.Kill(SigKill);
        child.WaitExitedNotReaped(LoopExtensions.Patience);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(first.Notifications);
        source.Enable();
        loop.DispatchUntil(() => first.Completed && second.Completed, "the exit");

        var expected = new ProcessExit(child.Pid, null, SigKill, false);
        Assert.Equal(expected, Assert.Single(first.Values));
        Assert.Equal(expected, Assert.Single(second.Values));
        first.AssertClean();
        second.AssertClean();
    }

    [Fact]
    public void LoopDispose_ClosesEveryPidfd_AndCompletesTheWatchesWithoutAnExit()
    {
        using TestChild first = TestChild.Shell("exec sleep 30");
        using TestChild second = TestChild.Shell("exec sleep 30");
        HashSet<int> before = Pidfds();
        var loop = new EventLoop();
        var observer = new ContractObserver<ProcessExit>(loop);
        loop.WatchProcess(first.Pid).Subscribe(observer);
        ProcessExitSource unsubscribed = loop.WatchProcess(second.Pid);
        Assert.Equal(2, Pidfds().Except(before).Count());

        loop.Dispose();

        Assert.Equal(before, Pidfds());
        Assert.True(observer.Completed);
        Assert.Empty(observer.Values);
        Assert.True(unsubscribed.IsTerminated);
        Assert.True(first.IsRunning);
        Assert.True(second.IsRunning);
    }

    [Fact]
    public void WatchProcess_LoopDisposed_ThrowsObjectDisposedAndOpensNothing()
    {
        using TestChild child = TestChild.Shell("exec sleep 30");
        var loop = new EventLoop();
        loop.Dispose();
        HashSet<int> before = Pidfds();

        Assert.Throws<ObjectDisposedException>(() => loop.WatchProcess(child.Pid));
        Assert.Equal(before, Pidfds());
    }

    /// <summary>
    /// A <see cref="Process.Start()"/> child is reaped by the runtime on SIGCHLD, racing the loop's look at its status:
    /// the exit is always reported exactly once, with the runtime's code or, if the runtime reaped first, none; and the
    /// runtime's own bookkeeping is untouched (reaping the child here would make it FailFast the test host).
    /// </summary>
    [Fact]
    public void WatchProcess_ProcessStartChild_ReportsTheExitOnceAndLeavesProcessExitCodeIntact()
    {
        using var loop = new EventLoop();
        for (int trial = 0; trial < 10; trial++)
        {
            using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "read line; exit 3"])
            {
                RedirectStandardInput = true,
            })!;
            var exits = new List<ProcessExit>();
            bool completed = false;
            using IDisposable subscription = loop.WatchProcess(process.Id).Subscribe(exits.Add, () => completed = true);
            loop.Dispatch(TimeSpan.Zero);
            Assert.Empty(exits);
            Assert.False(completed);

            using var deadline = new LoopDeadline(loop);
            process.StandardInput.Close();
            while (!completed) loop.Dispatch(TimeSpan.FromSeconds(1));

            ProcessExit exit = Assert.Single(exits);
            Assert.Equal(process.Id, exit.Pid);
            Assert.True(exit.ExitCode is null or 3, $"exit code {exit.ExitCode}");
            Assert.Null(exit.Signal);
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(4)));
            Assert.Equal(3, process.ExitCode);
        }
    }

    /// <summary>The pidfds this process has open (their /proc/self/fd link names the pidfd).</summary>
    private static HashSet<int> Pidfds() =>
        [.. TestSys.OpenFds().Where(fd => TestSys.DescribeFd(fd).Contains("pidfd", StringComparison.Ordinal))];
}
