using Calloop.Rx.Scheduling;

namespace Calloop.Rx.Async;

/// <summary>
/// <see cref="EventLoop.TaskScheduler"/>: tasks run on the loop thread in the actions phase, one at a time.
/// Inlining (for example <c>task.Wait()</c> on a task not yet started) happens only on the loop thread, so a task
/// never runs anywhere else.
/// </summary>
internal sealed class LoopTaskScheduler(EventLoop loop) : TaskScheduler
{
    // Only for GetScheduledTasks (the debugger's "Tasks" window); the loop's queue is what runs them.
    private readonly HashSet<Task> _queued = [];

    public override int MaximumConcurrencyLevel => 1;

    protected override void QueueTask(Task task)
    {
        lock (_queued)
        {
            _queued.Add(task);
        }

        try
        {
            loop.Enqueue(new QueuedTask(this, task));
        }
        catch
        {
            Forget(task);
            throw;
        }
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued)
    {
        if (!loop.IsOnLoopThread)
        {
            return false;
        }

        if (taskWasPreviouslyQueued)
        {
            // Its queue entry will find it already run and do nothing.
            Forget(task);
        }

        return TryExecuteTask(task);
    }

    protected override bool TryDequeue(Task task)
    {
        // The loop's queue cannot remove an entry; the entry skips a task that has already run or been cancelled.
        return false;
    }

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (_queued)
        {
            return _queued.ToArray();
        }
    }

    /// <summary>The tasks queued and not yet run (what the debugger sees).</summary>
    internal Task[] ScheduledTasks => (Task[])GetScheduledTasks();

    private void Forget(Task task)
    {
        lock (_queued)
        {
            _queued.Remove(task);
        }
    }

    private sealed class QueuedTask(LoopTaskScheduler scheduler, Task task) : WorkItem
    {
        internal override void Invoke()
        {
            scheduler.Forget(task);

            // A task's exception is stored in the task, so nothing reaches Dispatch from here.
            scheduler.TryExecuteTask(task);
        }
    }
}
