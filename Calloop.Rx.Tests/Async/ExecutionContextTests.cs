using System.Reactive.Concurrency;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Async;

/// <summary>
/// Callbacks handed to the loop (timers of <see cref="EventLoop.TimeProvider"/>, <c>Post</c> and <c>Send</c> of its
/// synchronization context) run in the <see cref="ExecutionContext"/> they were handed over with, or the default one
/// when flow was suppressed, and leave the dispatching thread's context as it was.
/// </summary>
public class ExecutionContextTests
{
    private static readonly DateTimeOffset s_start = new(2024, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly AsyncLocal<int> s_local = new();

    [Fact]
    public void Timer_Callback_SeesItsCreatorsAsyncLocalsAndLeaksNothing()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        int seen = -1;
        ITimer? timer = null;
        var creator = new Thread(() =>
        {
            s_local.Value = 5;
            timer = loop.TimeProvider.CreateTimer(_ => seen = Swap(99), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        });
        creator.Start();
        Assert.True(creator.Join(LoopExtensions.Patience));
        s_local.Value = 1;

        loop.AdvanceBy(TimeSpan.FromSeconds(1));

        Assert.Equal(5, seen);
        Assert.Equal(1, s_local.Value);
        timer!.Dispose();
    }

    [Fact]
    public void Timer_CreatedWithFlowSuppressed_RunsInTheDefaultContext()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        s_local.Value = 1;
        int seen = -1;
        ITimer timer;
        using (ExecutionContext.SuppressFlow())
        {
            timer = loop.TimeProvider.CreateTimer(_ => seen = Swap(99), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        }

        loop.AdvanceBy(TimeSpan.FromSeconds(1));

        Assert.Equal(0, seen);
        Assert.Equal(1, s_local.Value);
        timer.Dispose();
    }

    [Fact]
    public void TaskDelay_ContinuationOnTheLoop_KeepsItsOwnAsyncLocals()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        s_local.Value = 1;
        int seen = -1;
        loop.Scheduler.Schedule(() => Delayed());

        loop.AdvanceBy(TimeSpan.FromSeconds(1));

        Assert.Equal(7, seen);
        Assert.Equal(1, s_local.Value);

        async void Delayed()
        {
            s_local.Value = 7;
            await Task.Delay(TimeSpan.FromSeconds(1), loop.TimeProvider);
            seen = Swap(99);
        }
    }

    [Fact]
    public void Post_Callback_RunsInThePostersExecutionContext()
    {
        using var loop = new EventLoop();
        s_local.Value = 1;
        int seen = -1;
        var poster = new Thread(() =>
        {
            s_local.Value = 5;
            loop.SynchronizationContext.Post(_ => Volatile.Write(ref seen, Swap(99)), null);
        });
        poster.Start();

        loop.DispatchUntil(() => Volatile.Read(ref seen) != -1, "the posted callback");
        poster.Join();

        Assert.Equal(5, seen);
        Assert.Equal(1, s_local.Value);
    }

    [Fact]
    public void Post_WithFlowSuppressed_RunsInTheDefaultContext()
    {
        using var loop = new EventLoop();
        s_local.Value = 1;
        int seen = -1;
        using (ExecutionContext.SuppressFlow())
        {
            loop.SynchronizationContext.Post(_ => seen = Swap(99), null);
        }

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(0, seen);
        Assert.Equal(1, s_local.Value);
    }

    [Fact]
    public void Send_FromAnotherThread_RunsInTheSendersExecutionContext()
    {
        using var loop = new EventLoop();
        s_local.Value = 1;
        int seen = -1;
        bool returned = false;
        var sender = new Thread(() =>
        {
            s_local.Value = 5;
            loop.SynchronizationContext.Send(_ => seen = Swap(99), null);
            Volatile.Write(ref returned, true);
        });
        sender.Start();

        loop.DispatchUntil(() => Volatile.Read(ref returned), "the send");
        sender.Join();

        Assert.Equal(5, seen);
        Assert.Equal(1, s_local.Value);
    }

    [Fact]
    public void Post_CallbackThrows_StillRestoresTheDispatchersContext()
    {
        using var loop = new EventLoop();
        s_local.Value = 1;
        using (ExecutionContext.SuppressFlow())
        {
            loop.SynchronizationContext.Post(_ => throw new InvalidOperationException($"saw {Swap(99)}"), null);
        }

        var error = Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));

        Assert.Equal("saw 0", error.Message);
        Assert.Equal(1, s_local.Value);
    }

    [Fact]
    public void Timer_FiringWithCapturedOrSuppressedContext_AllocatesNothing()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        s_local.Value = 3;
        int fired = 0;
        TimeSpan second = TimeSpan.FromSeconds(1);
        using ITimer captured = loop.TimeProvider.CreateTimer(_ => fired++, null, second, second);
        ITimer suppressed;
        using (ExecutionContext.SuppressFlow())
        {
            suppressed = loop.TimeProvider.CreateTimer(_ => fired++, null, second, second);
        }

        // Warm-up: first calls and tiered compilation out of the way.
        for (int i = 0; i < 100; i++)
        {
            loop.AdvanceBy(second);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            loop.AdvanceBy(second);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        suppressed.Dispose();
        Assert.Equal(2200, fired);
        Assert.True(allocated < 1000, $"2000 timer firings allocated {allocated} bytes");
    }

    /// <summary>Sets <see cref="s_local"/> and returns the value it had.</summary>
    private static int Swap(int value)
    {
        int previous = s_local.Value;
        s_local.Value = value;
        return previous;
    }
}
