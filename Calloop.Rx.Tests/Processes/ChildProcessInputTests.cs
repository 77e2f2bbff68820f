using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Processes;

/// <summary><see cref="ChildProcess.StandardInput"/>: back pressure from a child that does not read, order, end of file and a child that is gone.</summary>
public class ChildProcessInputTests
{
    private const int SigStop = 19;
    private const int SigCont = 18;
    private const int Chunk = 64 * 1024;

    [Fact]
    public void StandardInput_ChildNotReading_FullUntilItReadsThenAllArriveInOrder()
    {
        using var loop = new EventLoop();
        var options = new ProcessStartOptions("/bin/cat") { StandardInput = ProcessStdio.Pipe };
        using ChildProcess child = loop.StartProcess(options);
        Assert.True(child.Kill(SigStop), "stopped, cat reads nothing");

        // kill(2) only queues the signal: a cat still running could read once more before it stops, making room
        // that the test below says is not there.
        loop.DispatchUntil(() => ChildProbe.IsStopped(child.Pid), "cat stopped by SIGSTOP");
        long received = 0;
        bool inOrder = true;
        var output = new ContractObserver<ReadOnlyMemory<byte>>(
            loop,
            chunk =>
            {
                foreach (byte b in chunk.Span)
                {
                    inOrder &= b == (byte)(received++ / Chunk % 251);
                }
            });
        child.StandardOutput.Subscribe(output);

        // The pipe takes 64 KiB and the sender 16 chunks more; the loop moves chunks into the pipe between sends.
        int sent = 0;
        SendResult result = SendResult.Sent;
        for (int attempt = 0; attempt < 200 && result == SendResult.Sent; attempt++)
        {
            result = child.StandardInput.TrySend(Pattern(sent));
            sent += result == SendResult.Sent ? 1 : 0;
            loop.Dispatch(TimeSpan.Zero);
        }

        Assert.Equal(SendResult.Full, result);
        ValueTask waiting = child.StandardInput.SendAsync(Pattern(sent++));
        for (int i = 0; i < 5; i++)
        {
            loop.Dispatch(TimeSpan.Zero);
        }

        Assert.False(waiting.IsCompleted, "room while the child does not read");

        Assert.True(child.Kill(SigCont));
        using (new LoopDeadline(loop))
        {
            while (!waiting.IsCompleted) loop.Dispatch(TimeSpan.FromSeconds(1));
        }

        Assert.True(waiting.IsCompletedSuccessfully);
        child.StandardInput.Dispose();
        loop.DispatchUntil(() => output.Completed, "the end of cat's output");

        Assert.Equal((long)sent * Chunk, received);
        Assert.True(inOrder, "every chunk arrived whole and in order");
        Assert.Equal(0, ChildProbe.AwaitExit(loop, child).ExitCode);
    }

    [Fact]
    public void StandardInput_SendingAndWritingAChunk_AllocatesNothing()
    {
        using var loop = new EventLoop();
        var options = new ProcessStartOptions("/bin/cat") { StandardInput = ProcessStdio.Pipe, StandardOutput = ProcessStdio.Null };
        using ChildProcess child = loop.StartProcess(options);
        ReadOnlyMemory<byte> chunk = new byte[16 * 1024];
        int sent = 0;

        // Every round sends one chunk, dispatching (and so waiting for cat to read) while the sender is full: the
        // pump switches to the pipe's writability and back again and again.
        long allocated = AllocationWindows.LeastPerWindow(_ =>
        {
            for (int attempt = 0; child.StandardInput.TrySend(chunk) != SendResult.Sent; attempt++)
            {
                Assert.True(attempt < 100, "no room for a chunk");
                loop.Dispatch(LoopExtensions.Patience);
            }

            sent++;
            loop.Dispatch(TimeSpan.Zero);
        });

        Assert.Equal(3100, sent);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void StandardInput_ChildExitedWithoutReading_SendsReportClosed()
    {
        using var loop = new EventLoop();
        var options = new ProcessStartOptions("/bin/true") { StandardInput = ProcessStdio.Pipe };
        using ChildProcess child = loop.StartProcess(options);
        Assert.Equal(0, ChildProbe.AwaitExit(loop, child).ExitCode);

        // The first write after the exit meets EPIPE; from then on the sender is closed.
        loop.DispatchUntil(() => child.StandardInput.TrySend(new byte[1]) == SendResult.Closed, "the sender closed");

        Assert.Throws<System.Threading.Channels.ChannelClosedException>(() => child.StandardInput.Send(new byte[1]));
    }

    [Fact]
    public void StandardInput_Disposed_ChildReadsEndOfFileAfterEverythingSent()
    {
        using var loop = new EventLoop();
        var options = new ProcessStartOptions("/usr/bin/wc", "-c") { StandardInput = ProcessStdio.Pipe };
        using ChildProcess child = loop.StartProcess(options);
        for (int i = 0; i < 10; i++)
        {
            child.StandardInput.Send(Pattern(i));
        }

        child.StandardInput.Dispose();

        Assert.Equal($"{10 * Chunk}\n", ChildProbe.ReadAll(loop, child.StandardOutput));
    }

    private static byte[] Pattern(int index)
    {
        byte[] chunk = new byte[Chunk];
        chunk.AsSpan().Fill((byte)(index % 251));
        return chunk;
    }
}
