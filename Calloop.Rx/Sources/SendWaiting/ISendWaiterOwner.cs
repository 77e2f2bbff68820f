namespace Calloop.Rx;

/// <summary>The bounded queue a <see cref="SendWaiter{T}"/> waits on: what the waiter needs from it, each under the queue's own lock.</summary>
internal interface ISendWaiterOwner<T>
{
    /// <summary>The caller's token was cancelled or the loop disposed: takes the waiter out of the line, unless room or a close took it first.</summary>
    /// <returns>Whether it was still in the line (the caller then completes it).</returns>
    bool TryRemove(SendWaiter<T> waiter);

    /// <summary>The waiter was awaited: it may serve another send.</summary>
    void Recycle(SendWaiter<T> waiter);

    /// <summary>The exception a send that found the queue closed throws.</summary>
    Exception ClosedError();
}
