using System.Reactive.Concurrency;
using Calloop.Rx.Async;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Async;

public class TaskSchedulerTests
{
    [Fact]
    public void Tasks_Queued_RunOnTheLoopThreadOneAtATime()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        var ranOn = new List<int>();
        var tasks = Enumerable.Range(0, 3)
            .Select(_ => Task.Factory.StartNew(() => ranOn.Add(Environment.CurrentManagedThreadId), CancellationToken.None, TaskCreationOptions.None, loop.TaskScheduler))
            .ToArray();

        Assert.Empty(ranOn);
        Assert.Equal(1, loop.TaskScheduler.MaximumConcurrencyLevel);

        loop.Dispatch(TimeSpan.Zero);

        Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully));
        Assert.Equal([loopThread, loopThread, loopThread], ranOn);
    }

    [Fact]
    public void Task_StartedFromAnotherThread_WakesTheLoop()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        Task<int>? task = null;
        var starter = new Thread(() => Volatile.Write(ref task, Task.Factory.StartNew(() => Environment.CurrentManagedThreadId, CancellationToken.None, TaskCreationOptions.None, loop.TaskScheduler)));
        starter.Start();

        loop.DispatchUntil(() => Volatile.Read(ref task) is { IsCompleted: true }, "the task");
        starter.Join();

        Assert.Equal(loopThread, task!.ResultNow());
    }

    [Fact]
    public void Wait_OnTheLoopThread_InlinesTheTask()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        int ranOn = 0;
        loop.Scheduler.Schedule(() =>
        {
            var inner = Task.Factory.StartNew(() => ranOn = Environment.CurrentManagedThreadId, CancellationToken.None, TaskCreationOptions.None, loop.TaskScheduler);

            // Queued for a later phase, yet Wait does not deadlock: on the loop thread the scheduler inlines it.
            inner.Wait();
        });

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(loopThread, ranOn);
    }

    [Fact]
    public void Wait_OnAnotherThread_DoesNotInlineTheTask()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        var task = Task.Factory.StartNew(() => Environment.CurrentManagedThreadId, CancellationToken.None, TaskCreationOptions.None, loop.TaskScheduler);
        int waited = 0;
        var waiter = new Thread(() =>
        {
            waited = task.GetAwaiter().GetResult();
        });
        waiter.Start();
        Assert.True(SpinWait.SpinUntil(() => (waiter.ThreadState & ThreadState.WaitSleepJoin) != 0, LoopExtensions.Patience));

        loop.DispatchUntil(() => task.IsCompleted, "the task");
        Assert.True(waiter.Join(LoopExtensions.Patience));

        Assert.Equal(loopThread, waited);
    }

    [Fact]
    public void GetScheduledTasks_Called_ListsTheQueuedTasks()
    {
        using var loop = new EventLoop();
        var scheduler = (LoopTaskScheduler)loop.TaskScheduler;
        var task = Task.Factory.StartNew(() => { }, CancellationToken.None, TaskCreationOptions.None, scheduler);

        Assert.Equal([task], scheduler.ScheduledTasks);

        loop.Dispatch(TimeSpan.Zero);

        Assert.Empty(scheduler.ScheduledTasks);
    }

    [Fact]
    public void Task_Failing_KeepsItsException()
    {
        using var loop = new EventLoop();
        var task = Task.Factory.StartNew(() => throw new InvalidOperationException("task"), CancellationToken.None, TaskCreationOptions.None, loop.TaskScheduler);

        loop.Dispatch(TimeSpan.Zero);

        Assert.True(task.IsFaulted);
        Assert.Equal("task", task.Exception!.InnerException!.Message);
    }

    [Fact]
    public void Await_InsideALoopTask_ContinuesOnTheLoopThread()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;

        // Completed on a thread of its own rather than by Task.Run, which would wait for a free thread-pool thread.
        var elsewhere = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = Task.Factory.StartNew(
            async () =>
            {
                new Thread(elsewhere.SetResult).Start();
                await elsewhere.Task;
                return Environment.CurrentManagedThreadId;
            },
            CancellationToken.None,
            TaskCreationOptions.None,
            loop.TaskScheduler).Unwrap();

        loop.DispatchUntil(() => task.IsCompleted, "the task");

        Assert.Equal(loopThread, task.ResultNow());
    }

    [Fact]
    public void Task_StartedOnADisposedLoop_Throws()
    {
        var loop = new EventLoop();
        TaskScheduler scheduler = loop.TaskScheduler;
        loop.Dispose();

        var task = new Task(() => { });
        var error = Assert.Throws<TaskSchedulerException>(() => task.Start(scheduler));
        Assert.IsType<ObjectDisposedException>(error.InnerException);
    }
}
