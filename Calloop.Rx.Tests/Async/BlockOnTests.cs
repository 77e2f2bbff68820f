using System.Reactive.Concurrency;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Async;

public class BlockOnTests
{
    // calloop loop_logic.rs `block_on_test` (a 2 s TimeoutFuture there; a short real delay on the loop's clock here).
    [Fact]
    public void BlockOn_AwaitingATimer_ReturnsTheResult()
    {
        using var loop = new EventLoop();
        int data = 22;

        int result = loop.BlockOn(async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), loop.TimeProvider);
            data = 32;
            return 11;
        });

        Assert.Equal(11, result);
        Assert.Equal(32, data);
    }

    // calloop loop_logic.rs `block_on_early_cancel`: a timer stops the loop while the task still waits.
    [Fact]
    public void BlockOn_LoopStoppedFirst_ThrowsLoopStoppedException()
    {
        using var loop = new EventLoop();
        int data = 22;
        using var subscription = loop.Timer(TimeSpan.FromMilliseconds(10)).Subscribe(_ => loop.Stop());

        Assert.Throws<LoopStoppedException>(() => loop.BlockOn(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2), loop.TimeProvider);
            data = 32;
            return 11;
        }));

        Assert.Equal(22, data);
    }

    [Fact]
    public void BlockOn_StopCalledBefore_IsForgotten()
    {
        using var loop = new EventLoop();
        loop.Stop();

        Assert.Equal(5, loop.BlockOn(async () =>
        {
            await Task.Yield();
            return 5;
        }));
    }

    [Fact]
    public void BlockOn_Function_RunsOnTheLoopThreadAndThrowsUnwrapped()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        var threads = new List<int>();

        var error = Assert.Throws<InvalidOperationException>(() => loop.BlockOn(async () =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Run(() => { });
            threads.Add(Environment.CurrentManagedThreadId);
            throw new InvalidOperationException("inside");
        }));

        Assert.Equal("inside", error.Message);
        Assert.Equal([loopThread, loopThread], threads);
    }

    [Fact]
    public void BlockOn_TaskCompletedByAnotherThread_WakesTheLoop()
    {
        using var loop = new EventLoop();
        var source = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var completer = new Thread(() => source.SetResult("from another thread"));
        completer.Start();

        Assert.Equal("from another thread", loop.BlockOn(source.Task));
        completer.Join();
    }

    [Fact]
    public void BlockOn_FailedOrCancelledTask_RethrowsItsOwnException()
    {
        using var loop = new EventLoop();
        var failed = Assert.Throws<TimeoutException>(() => loop.BlockOn(Task.FromException(new TimeoutException("late"))));
        Assert.Equal("late", failed.Message);
        Assert.Throws<TaskCanceledException>(() => loop.BlockOn(Task.FromCanceled<int>(new CancellationToken(true))));
    }

    [Fact]
    public void BlockOn_TokenCancelled_EndsTheWaitButNotTheFunction()
    {
        using var loop = new EventLoop();
        using var cts = new CancellationTokenSource();
        var gate = new TaskCompletionSource();
        bool finished = false;

        // Cancelled once the function runs (a timer could fire before it starts, and then it never would).
        Assert.Throws<OperationCanceledException>(() => loop.BlockOn(
            async () =>
            {
                cts.Cancel();
                await gate.Task;
                finished = true;
            },
            cts.Token));

        gate.SetResult();
        loop.DispatchUntil(() => finished, "the function to go on");
    }

    [Fact]
    public void BlockOn_FromALoopCallback_Throws()
    {
        using var loop = new EventLoop();
        var never = new TaskCompletionSource<int>();
        Exception? error = null;
        loop.Scheduler.Schedule(() => error = Record.Exception(() => loop.BlockOn(never.Task)));

        loop.Dispatch(TimeSpan.Zero);

        Assert.IsType<InvalidOperationException>(error);
    }

    [Fact]
    public void BlockOn_OnADisposedLoop_Throws()
    {
        var loop = new EventLoop();
        loop.Dispose();

        Assert.Throws<ObjectDisposedException>(() => loop.BlockOn(() => Task.FromResult(1)));
    }

    [Fact]
    public void BlockOn_LoopDisposedFromInside_ThrowsObjectDisposed()
    {
        var loop = new EventLoop();

        Assert.Throws<ObjectDisposedException>(() => loop.BlockOn(async () =>
        {
            await Task.Yield();
            loop.Dispose();
            await Task.Yield();
        }));
    }
}
