namespace Calloop.Rx;

/// <summary>
/// <see cref="EventLoop.Stop"/> was called while <see cref="EventLoop.BlockOn{T}(Task{T}, CancellationToken)"/> was
/// waiting, before the task completed (calloop's <c>block_on</c> returns <c>None</c> in that case). The task itself
/// is not cancelled: it goes on when the loop next dispatches.
/// </summary>
public sealed class LoopStoppedException : OperationCanceledException
{
    /// <summary>Creates the exception with the default message.</summary>
    public LoopStoppedException()
        : base("The event loop was stopped before the task given to BlockOn completed.")
    {
    }
}
