namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>
/// Reading the outcome of a task the test has already driven to completion by dispatching the loop (the loop
/// thread is the test thread, so nothing here ever blocks).
/// </summary>
public static class TaskResults
{
    /// <summary>The result of a task that must have completed successfully.</summary>
    public static T ResultNow<T>(this Task<T> task)
    {
        Assert.True(task.IsCompleted, "the task has not completed");
        return task.GetAwaiter().GetResult();
    }

    /// <summary>The exception of a task that must have completed (rethrows nothing): the single inner exception, or null.</summary>
    public static Exception? ErrorNow(this Task task)
    {
        Assert.True(task.IsCompleted, "the task has not completed");
        return task.Exception?.InnerException;
    }
}
