using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Async;

public class TimeProviderTests
{
    private static readonly DateTimeOffset s_start = new(2024, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Clock_VirtualLoop_FollowsTheLoop()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        TimeProvider time = loop.TimeProvider;
        long t0 = time.GetTimestamp();

        loop.AdvanceBy(TimeSpan.FromSeconds(90));

        Assert.Equal(s_start + TimeSpan.FromSeconds(90), time.GetUtcNow());
        Assert.Equal(loop.Now, time.GetUtcNow());
        Assert.Equal(TimeSpan.FromSeconds(90), time.GetElapsedTime(t0));
        Assert.Equal(TimeSpan.TicksPerSecond, time.TimestampFrequency);
    }

    [Fact]
    public void Clock_RealLoop_IsMonotonic()
    {
        using var loop = new EventLoop();
        TimeProvider time = loop.TimeProvider;
        long t0 = time.GetTimestamp();
        long t1 = time.GetTimestamp();

        Assert.True(t1 >= t0);
        Assert.Equal(TimeSpan.Zero, time.GetUtcNow().Offset);
    }

    [Fact]
    public void TaskDelay_VirtualTime_CompletesOnTheLoopThread()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        int loopThread = Environment.CurrentManagedThreadId;
        var results = new List<(DateTimeOffset, int)>();
        bool completed = false;
        loop.Spawn(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), loop.TimeProvider);
            return (loop.Now, Environment.CurrentManagedThreadId);
        }).Subscribe(results.Add, () => completed = true);

        loop.AdvanceBy(TimeSpan.FromSeconds(9.999));
        Assert.Empty(results);

        loop.AdvanceBy(TimeSpan.FromMilliseconds(1));
        Assert.Equal([(s_start + TimeSpan.FromSeconds(10), loopThread)], results);
        Assert.True(completed);
    }

    [Fact]
    public void PeriodicTimer_VirtualTime_Ticks()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var ticks = new List<TimeSpan>();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), loop.TimeProvider);
        var counts = new List<int>();
        loop.Spawn(async () =>
        {
            while (await timer.WaitForNextTickAsync())
            {
                ticks.Add(loop.Now - s_start);
            }

            return ticks.Count;
        }).Subscribe(counts.Add);

        loop.AdvanceBy(TimeSpan.FromSeconds(3.5));
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)], ticks);

        timer.Dispose();
        loop.AdvanceBy(TimeSpan.FromSeconds(10));
        Assert.Equal([3], counts);
    }

    [Fact]
    public void CancellationTokenSource_VirtualTime_CancelsOnTheLoopThread()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        int loopThread = Environment.CurrentManagedThreadId;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5), loop.TimeProvider);
        int cancelledOn = 0;
        cts.Token.Register(() => cancelledOn = Environment.CurrentManagedThreadId);
        Exception? error = null;
        loop.Spawn(async () =>
        {
            await Task.Delay(TimeSpan.FromHours(1), loop.TimeProvider, cts.Token);
            return true;
        }).Subscribe(_ => { }, e => error = e);

        loop.AdvanceBy(TimeSpan.FromSeconds(4.9));
        Assert.False(cts.IsCancellationRequested);

        loop.AdvanceBy(TimeSpan.FromSeconds(0.1));
        Assert.True(cts.IsCancellationRequested);
        Assert.Equal(loopThread, cancelledOn);
        Assert.IsAssignableFrom<OperationCanceledException>(error);
    }

    [Fact]
    public void CancelAfter_CalledAgain_ChangesTheTimer()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5), loop.TimeProvider);

        cts.CancelAfter(TimeSpan.FromSeconds(20));
        loop.AdvanceBy(TimeSpan.FromSeconds(19));
        Assert.False(cts.IsCancellationRequested);

        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.True(cts.IsCancellationRequested);
    }

    [Fact]
    public void WaitAsync_VirtualTime_TimesOut()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var never = new TaskCompletionSource();
        var observer = new ContractObserver<bool>(loop);
        loop.Spawn(async () =>
        {
            await never.Task.WaitAsync(TimeSpan.FromSeconds(30), loop.TimeProvider);
            return true;
        }).Subscribe(observer);

        loop.AdvanceBy(TimeSpan.FromSeconds(30));

        Assert.IsType<TimeoutException>(observer.Error);
        observer.AssertClean();
    }

    [Fact]
    public void CreateTimer_Periodic_FiresAtEachDeadlineWithoutDrift()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var fired = new List<TimeSpan>();
        using ITimer timer = loop.TimeProvider.CreateTimer(_ => fired.Add(loop.Now - s_start), null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3));

        loop.AdvanceBy(TimeSpan.FromSeconds(11));

        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(11)], fired);
    }

    [Fact]
    public void CreateTimer_ChangeAndDispose_RearmAndStop()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var fired = new List<TimeSpan>();
        ITimer timer = loop.TimeProvider.CreateTimer(_ => fired.Add(loop.Now - s_start), null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);

        Assert.True(timer.Change(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        loop.AdvanceBy(TimeSpan.FromSeconds(2));
        Assert.True(timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        loop.AdvanceBy(TimeSpan.FromSeconds(10));
        Assert.True(timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        loop.AdvanceBy(TimeSpan.Zero);
        timer.Dispose();
        loop.AdvanceBy(TimeSpan.FromSeconds(10));

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(12)], fired);
        Assert.False(timer.Change(TimeSpan.Zero, TimeSpan.Zero));
    }

    [Fact]
    public void CreateTimer_ChangeInsideTheCallback_DecidesTheNextFiring()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var fired = new List<TimeSpan>();
        ITimer? timer = null;
        timer = loop.TimeProvider.CreateTimer(
            _ =>
            {
                fired.Add(loop.Now - s_start);
                if (fired.Count == 1)
                {
                    timer!.Change(TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
                }
            },
            null,
            TimeSpan.FromSeconds(1),
            TimeSpan.FromSeconds(1));

        loop.AdvanceBy(TimeSpan.FromSeconds(30));

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(11)], fired);
        timer.Dispose();
    }

    [Fact]
    public void CreateTimer_BesideLoopTimers_FiresByDeadlineThenCreationOrder()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var order = new List<string>();
        using var a = loop.Timer(TimeSpan.FromSeconds(2)).Subscribe(_ => order.Add("loop timer 2s"));
        using ITimer b = loop.TimeProvider.CreateTimer(_ => order.Add("provider 1s"), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        using ITimer c = loop.TimeProvider.CreateTimer(_ => order.Add("provider 2s"), null, TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);

        loop.AdvanceBy(TimeSpan.FromSeconds(3));

        Assert.Equal(["provider 1s", "loop timer 2s", "provider 2s"], order);
    }

    [Fact]
    public void CreateTimer_RealClock_FiresOnTheLoopThreadNeverEarly()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        long start = loop.TimeProvider.GetTimestamp();
        TimeSpan elapsed = TimeSpan.Zero;
        int ranOn = 0;
        using ITimer timer = loop.TimeProvider.CreateTimer(
            _ =>
            {
                elapsed = loop.TimeProvider.GetElapsedTime(start);
                ranOn = Environment.CurrentManagedThreadId;
            },
            null,
            TimeSpan.FromMilliseconds(20),
            Timeout.InfiniteTimeSpan);

        loop.DispatchUntil(() => ranOn != 0, "the timer");

        Assert.Equal(loopThread, ranOn);
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(20), $"fired after {elapsed}");
    }

    [Fact]
    public void CreateTimer_CallbackThrows_ComesOutOfDispatch()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        using ITimer timer = loop.TimeProvider.CreateTimer(_ => throw new InvalidOperationException("timer"), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        var error = Assert.Throws<InvalidOperationException>(() => loop.AdvanceBy(TimeSpan.FromSeconds(1)));
        Assert.Equal("timer", error.Message);
    }

    [Fact]
    public void CreateTimer_Callback_RunsInTheExecutionContextOfItsCreation()
    {
        using var loop = new EventLoop(LoopClock.Virtual(s_start));
        var local = new AsyncLocal<string>();
        string? seen = null;
        local.Value = "captured";
        using ITimer timer = loop.TimeProvider.CreateTimer(_ => seen = local.Value, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        local.Value = "changed";

        loop.AdvanceBy(TimeSpan.FromSeconds(1));

        Assert.Equal("captured", seen);
    }

    [Fact]
    public void CreateTimer_InvalidTimesOrDisposedLoop_AreRefused()
    {
        var loop = new EventLoop(LoopClock.Virtual(s_start));
        TimeProvider time = loop.TimeProvider;
        Assert.Throws<ArgumentOutOfRangeException>(() => time.CreateTimer(_ => { }, null, TimeSpan.FromSeconds(-1), Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentOutOfRangeException>(() => time.CreateTimer(_ => { }, null, TimeSpan.Zero, TimeSpan.FromDays(60)));
        ITimer timer = time.CreateTimer(_ => { }, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        loop.Dispose();

        Assert.False(timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        Assert.Throws<ObjectDisposedException>(() => time.CreateTimer(_ => { }, null, TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        Assert.True(timer.DisposeAsync().IsCompletedSuccessfully);
    }
}
