namespace Calloop.Rx;

/// <summary>
/// Async work that owes someone an answer (a spawned task's observers, a pending <see cref="AsyncFd"/> await, a
/// cross-thread <see cref="LoopSynchronizationContext.Send"/>). The loop tells it when it is disposed, after the
/// queues were dropped, so that nobody waits forever for work that will never run.
/// </summary>
internal interface ILoopTeardown
{
    /// <summary>The loop was disposed: fail what is owed (usually with <see cref="ObjectDisposedException"/>). Exceptions thrown by user code go to <paramref name="errors"/>.</summary>
    void OnLoopTeardown(List<Exception> errors);
}
