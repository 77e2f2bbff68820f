using System.Threading.Channels;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Processes;

/// <summary>
/// What ending a child, its handle or its loop leaves behind: no zombie, no fd, and the exit delivered exactly once.
/// Serial because it counts this process's open fds.
/// </summary>
[Collection("Serial")]
public class ChildProcessLifetimeTests
{
    private const int SigKill = 9;

    [Fact]
    public void StartProcess_TwoHundredConcurrentChildren_AllReportedAndReapedWithNoFdLeft()
    {
        const int Count = 200;
        HashSet<int> before = ChildProbe.OpenFdsAfterWarmUp();
        using (var loop = new EventLoop())
        {
            var children = new List<ChildProcess>();
            var exits = new Dictionary<int, ProcessExit>();
            for (int i = 0; i < Count; i++)
            {
                // Each waits for end of file on its stdin, so all 200 run at once until the loop lets them go.
                var options = new ProcessStartOptions("/bin/sh", "-c", $"read x; exit {i % 256}")
                {
                    StandardInput = ProcessStdio.Pipe,
                    StandardOutput = ProcessStdio.Null,
                    StandardError = ProcessStdio.Null,
                };
                ChildProcess child = loop.StartProcess(options);
                children.Add(child);
                child.Exited.Subscribe(new ContractObserver<ProcessExit>(loop, exit => exits.Add(exit.Pid, exit)));
            }

            loop.Dispatch(TimeSpan.Zero);
            Assert.Empty(exits);
            foreach (ChildProcess child in children)
            {
                child.StandardInput.Dispose();
            }

            using (new LoopDeadline(loop))
            {
                while (exits.Count < Count) loop.Dispatch(TimeSpan.FromSeconds(1));
            }

            for (int i = 0; i < Count; i++)
            {
                Assert.Equal(new ProcessExit(children[i].Pid, i % 256, null, false), exits[children[i].Pid]);
                ChildProbe.AssertReaped(children[i].Pid);
                children[i].Dispose();
            }
        }

        Assert.Empty(TestSys.FdsOpenedSince(before));
    }

    [Fact]
    public void DisposeHandle_RunningChild_KillsItDeliversTheExitOnceReapsAndClosesPipes()
    {
        using var loop = new EventLoop();
        HashSet<int> before = ChildProbe.OpenFdsAfterWarmUp();
        var options = new ProcessStartOptions("/bin/sleep", "30") { StandardInput = ProcessStdio.Pipe };
        ChildProcess child = loop.StartProcess(options);
        var exit = new ContractObserver<ProcessExit>(loop);
        var output = new ContractObserver<ReadOnlyMemory<byte>>(loop);
        child.Exited.Subscribe(exit);
        child.StandardOutput.Subscribe(output);
        loop.Dispatch(TimeSpan.Zero);

        child.Dispose();
        loop.DispatchUntil(() => exit.Completed && output.Completed, "the exit and the output's end");

        Assert.Equal(new ProcessExit(child.Pid, null, SigKill, false), Assert.Single(exit.Values));
        exit.AssertClean();
        ChildProbe.AssertReaped(child.Pid);
        Assert.Equal(SendResult.Closed, child.StandardInput.TrySend(new byte[1]));
        Assert.False(child.Kill());
        Assert.Empty(TestSys.FdsOpenedSince(before));
    }

    [Fact]
    public void DisposeHandle_NobodySubscribedToTheExit_TheLoopStillReapsTheChild()
    {
        using var loop = new EventLoop();
        ChildProcess child = loop.StartProcess("/bin/sh", "-c", "exit 0");
        int pid = child.Pid;
        loop.DispatchUntil(() => ChildProbe.IsOurZombie(pid), "the exit (a zombie until reaped)");

        child.Dispose();
        loop.DispatchUntil(() => !ChildProbe.IsOurZombie(pid), "the reaping");

        Assert.True(child.Exited.IsTerminated);
    }

    [Fact]
    public void RemoveExited_RunningChild_KillsAndReapsItAtOnceAndSubscribersComplete()
    {
        using var loop = new EventLoop();
        using ChildProcess child = loop.StartProcess("/bin/sleep", "30");
        var exit = new ContractObserver<ProcessExit>(loop);
        child.Exited.Subscribe(exit);

        child.Exited.Remove();

        ChildProbe.AssertReaped(child.Pid);
        loop.DispatchUntil(() => exit.Completed, "OnCompleted");
        Assert.Empty(exit.Values);
        Assert.False(child.Kill());
    }

    [Fact]
    public async Task DisposeHandle_FromAnotherThreadDuringIo_EndsEachChildBySigkillLeavingNoFdNorZombie()
    {
        // The loop thread reads yes's output and pumps cat's input while the test thread disposes the handles: the
        // pipes close under the loop's feet (a read or write holds the fd, so a reused number is never touched).
        HashSet<int> before = ChildProbe.OpenFdsAfterWarmUp();
        var pids = new List<int>();
        using (EventLoopThread thread = EventLoopThread.Start())
        {
            EventLoop loop = thread.Loop;
            for (int trial = 0; trial < 20; trial++)
            {
                ChildProcess reader = loop.StartProcess("/usr/bin/yes");
                ChildProcess writer = loop.StartProcess(new ProcessStartOptions("/bin/cat") { StandardInput = ProcessStdio.Pipe, StandardOutput = ProcessStdio.Null });
                pids.AddRange([reader.Pid, writer.Pid]);
                using var reading = new ManualResetEventSlim();
                using var exits = new CountdownEvent(2);
                int exitCount = 0;
                reader.StandardOutput.Subscribe(_ => reading.Set());
                foreach (ChildProcess child in new[] { reader, writer })
                {
                    child.Exited.Subscribe(exit =>
                    {
                        Assert.Equal(SigKill, exit.Signal);
                        Interlocked.Increment(ref exitCount);
                    }, () => exits.Signal());
                }

                Task sending = Task.Run(async () =>
                {
                    try
                    {
                        while (true)
                        {
                            await writer.StandardInput.SendAsync(new byte[4096]);
                        }
                    }
                    catch (ChannelClosedException)
                    {
                        // The pipe closed under the sender: what this test waits for.
                    }
                });
                Assert.True(reading.Wait(LoopExtensions.Patience), "output read");

                reader.Dispose();
                writer.Dispose();

                Assert.True(exits.Wait(LoopExtensions.Patience), "both exits delivered");
                await sending.WaitAsync(LoopExtensions.Patience);
                Assert.Equal(2, exitCount);
            }

            thread.Stop();
            Assert.True(thread.Join(LoopExtensions.Patience));
        }

        Assert.All(pids, ChildProbe.AssertReaped);
        Assert.Empty(TestSys.FdsOpenedSince(before));
    }

    [Fact]
    public void LoopDispose_RunningChildren_KillsReapsAndCompletesLeavingNoFd()
    {
        HashSet<int> before = ChildProbe.OpenFdsAfterWarmUp();
        var loop = new EventLoop();
        var children = new List<ChildProcess>();
        var exits = new List<ContractObserver<ProcessExit>>();
        var outputs = new List<ContractObserver<ReadOnlyMemory<byte>>>();
        for (int i = 0; i < 5; i++)
        {
            var options = new ProcessStartOptions("/bin/sh", "-c", "echo started; exec sleep 30") { StandardInput = ProcessStdio.Pipe };
            ChildProcess child = loop.StartProcess(options);
            children.Add(child);
            var exit = new ContractObserver<ProcessExit>(loop);
            var output = new ContractObserver<ReadOnlyMemory<byte>>(loop);
            child.Exited.Subscribe(exit);
            child.StandardOutput.Subscribe(output);
            exits.Add(exit);
            outputs.Add(output);
        }

        loop.DispatchUntil(() => outputs.All(o => o.Values.Count > 0), "every child started");

        loop.Dispose();

        foreach (ChildProcess child in children)
        {
            ChildProbe.AssertReaped(child.Pid);
            Assert.False(child.Kill());
            Assert.Equal(SendResult.Closed, child.StandardInput.TrySend(new byte[1]));
        }

        Assert.All(exits, exit => Assert.True(exit.Completed && exit.Values.Count == 0));
        Assert.All(outputs, output => Assert.True(output.Completed));
        Assert.Empty(TestSys.FdsOpenedSince(before));
        foreach (ChildProcess child in children)
        {
            child.Dispose();
        }
    }

    [Fact]
    public void StartProcess_ChurnOfStartReadKillDispose_LeavesNoFdNorZombie()
    {
        HashSet<int> before = ChildProbe.OpenFdsAfterWarmUp();
        var pids = new List<int>();
        using (var loop = new EventLoop())
        {
            for (int i = 0; i < 60; i++)
            {
                var options = new ProcessStartOptions("/bin/cat") { StandardInput = ProcessStdio.Pipe };
                using ChildProcess child = loop.StartProcess(options);
                pids.Add(child.Pid);
                switch (i % 3)
                {
                    case 0:
                        // Input echoed, then end of file: a normal exit.
                        child.StandardInput.Send("hi\n"u8.ToArray());
                        child.StandardInput.Dispose();
                        Assert.Equal("hi\n", ChildProbe.ReadAll(loop, child.StandardOutput));
                        Assert.Equal(0, ChildProbe.AwaitExit(loop, child).ExitCode);
                        break;
                    case 1:
                        Assert.True(child.Kill());
                        Assert.Equal(SigKill, ChildProbe.AwaitExit(loop, child).Signal);
                        break;
                    default:
                        // Disposed while running (by the using): killed, reaped by a later dispatch or the loop's disposal.
                        loop.Dispatch(TimeSpan.Zero);
                        break;
                }
            }

            loop.DispatchUntil(() => !pids.Any(ChildProbe.IsOurZombie), "every child reaped");
        }

        Assert.DoesNotContain(pids, ChildProbe.IsOurZombie);
        Assert.Empty(TestSys.FdsOpenedSince(before));
    }
}
