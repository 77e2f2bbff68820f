using System.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Io;

/// <summary>
/// An operation started on one thread while another disposes the adapter, on a blocking socket pair where the
/// operation cannot complete (nothing to read, or no room to write): whichever wins, the operation must fail with
/// <see cref="ObjectDisposedException"/> without blocking in read(2)/write(2) on the fd Dispose made blocking again.
/// </summary>
public class AsyncFdDisposeRaceTests
{
    // A dispose that races the operation's own fd access blocks the read within a few to a few thousand rounds (a
    // round takes about 0.5 ms), so this many rounds catch it; the budget bounds the test on a slow machine.
    private const int MaxRounds = 5000;
    private static readonly TimeSpan s_raceBudget = TimeSpan.FromSeconds(1);

    [Fact]
    public void ReadAsync_RacingDispose_NeverBlocksAndFailsWithObjectDisposed() =>
        RaceWithDispose(fd => fd.ReadAsync(new byte[1]).AsTask());

    [Fact]
    public void WriteAsync_RacingDispose_NeverBlocksAndFailsWithObjectDisposed() =>
        RaceWithDispose(fd => fd.WriteAsync(new byte[1]).AsTask(), FillSendBuffer);

    [Fact]
    public void ReadableAsync_RacingDispose_FailsWithObjectDisposed() =>
        RaceWithDispose(fd => fd.ReadableAsync().AsTask());

    [Fact]
    public void StreamRead_RacingDispose_NeverBlocksAndFailsWithObjectDisposed() =>
        RaceWithDispose(fd => Outcome(() => _ = fd.AsStream().Read(new byte[1], 0, 1)));

    [Fact]
    public void StreamWrite_RacingDispose_NeverBlocksAndFailsWithObjectDisposed() =>
        RaceWithDispose(fd => Outcome(() => fd.AsStream().Write(new byte[1], 0, 1)), FillSendBuffer);

    /// <summary>
    /// Rounds of: adapt <c>a</c>, start <paramref name="operation"/> on a fresh thread while this one disposes the
    /// adapter, then dispatch until the operation's outcome is known. The test thread is the loop thread, so an
    /// operation that became pending before Dispose is failed through the loop, as in real use.
    /// </summary>
    private static void RaceWithDispose(Func<AsyncFd, Task> operation, Action<EventLoop, int>? prepare = null)
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.BlockingSocketPair();
        Thread? racer = null;
        try
        {
            prepare?.Invoke(loop, a);
            using var start = new Barrier(2);
            var elapsed = Stopwatch.StartNew();
            for (int round = 0; round < MaxRounds && elapsed.Elapsed < s_raceBudget; round++)
            {
                AsyncFd fd = loop.AsyncFd(a);
                Task? outcome = null;
                racer = new Thread(() =>
                {
                    start.SignalAndWait();
                    Volatile.Write(ref outcome, operation(fd));

                    // An outcome known without the loop (failed at once) must not wait out the dispatch's timeout.
                    loop.WakeUp();
                });
                racer.Start();
                start.SignalAndWait();

                // Varying how long the racer has to get going sweeps Dispose across every step of the operation.
                Thread.SpinWait(round % 64 * 64);
                fd.Dispose();
                loop.DispatchUntil(() => Volatile.Read(ref outcome) is { IsCompleted: true }, $"the operation racing Dispose (round {round}) to finish");

                Assert.IsType<ObjectDisposedException>(outcome!.ErrorNow());
                Assert.False(TestSys.IsNonBlocking(a));
                racer.Join();
                racer = null;
            }
        }
        finally
        {
            // Closing the peer wakes a racer stuck in read(2) or write(2) on a, so that a failing test ends.
            TestSys.Close(b);
            racer?.Join();
            TestSys.Close(a);
        }
    }

    /// <summary>A synchronous call's outcome as a completed task.</summary>
    private static Task Outcome(Action call)
    {
        try
        {
            call();
            return Task.CompletedTask;
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }

    /// <summary>Fills <paramref name="fd"/>'s send buffer (nobody reads the peer), so that no write can complete.</summary>
    private static void FillSendBuffer(EventLoop loop, int fd)
    {
        // Big writes until one would block, then one-byte writes until even those would: the buffer is then full.
        foreach (int size in new[] { 65536, 1 })
        {
            using AsyncFd writer = loop.AsyncFd(fd);
            var chunk = new byte[size];
            ValueTask<int> write;
            while ((write = writer.WriteAsync(chunk)).IsCompletedSuccessfully)
            {
            }

            Task<int> pending = write.AsTask();
            writer.Dispose();
            loop.DispatchUntil(() => pending.IsCompleted, "the waiting write to fail");
            Assert.IsType<ObjectDisposedException>(pending.ErrorNow());
        }
    }
}
