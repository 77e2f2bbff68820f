using System.Threading.Tasks.Sources;

namespace Calloop.Rx;

/// <summary>
/// One asynchronous send waiting for room in a bounded queue: the <see cref="IValueTaskSource"/> behind the
/// <see cref="ValueTask"/> that <c>SendAsync</c> returns when it has to wait. Its owner keeps it in a
/// <see cref="SendWaiterLine{T}"/> and, when room comes back, queues <see cref="Item"/> itself and completes the
/// waiter, so a completed send was queued and a failed or cancelled one was not. Reused once awaited.
/// </summary>
/// <remarks>
/// Continuations never run inline: the loop thread completes waiters, and the awaiter's code must neither run on it
/// (where a blocking <c>Send</c> would throw) nor delay it. Each waiter is completed by exactly one party, the one
/// that took it out of the line under the owner's lock: the owner granting room or closing, the token's callback, or
/// the loop's disposal callback.
/// </remarks>
internal sealed class SendWaiter<T> : IValueTaskSource
{
    private static readonly Action<object?> s_cancelled = static state => ((SendWaiter<T>)state!).GiveUp(cancelled: true);
    private static readonly Action<object?> s_loopDisposed = static state => ((SendWaiter<T>)state!).GiveUp(cancelled: false);

    private readonly ISendWaiterOwner<T> _owner;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationToken _cancellationToken;
    private CancellationTokenRegistration _cancellation;
    private CancellationTokenRegistration _loopDisposal;

    public SendWaiter(ISendWaiterOwner<T> owner) => _owner = owner;

    /// <summary>What to queue once there is room.</summary>
    public T Item { get; set; } = default!;

    /// <summary>Links of the owner's line (or of its spare list); only under the owner's lock.</summary>
    internal SendWaiter<T>? Next { get; set; }

    /// <inheritdoc cref="Next"/>
    internal SendWaiter<T>? Previous { get; set; }

    /// <summary>Whether the waiter is in the owner's line; only under the owner's lock.</summary>
    internal bool InLine { get; set; }

    /// <summary>
    /// After the waiter joined the line, outside the owner's lock (a token that is already cancelled runs its
    /// callback here, and the callback takes that lock): watches the caller's token and the loop's disposal.
    /// </summary>
    public ValueTask Watch(CancellationToken cancellationToken, CancellationToken loopDisposal)
    {
        // Registered before the ValueTask is returned, so GetResult, which disposes them, always sees them.
        _cancellationToken = cancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(s_cancelled, this);
        }

        _loopDisposal = loopDisposal.UnsafeRegister(s_loopDisposed, this);
        return new ValueTask(this, _core.Version);
    }

    /// <summary>Outside the owner's lock, once taken out of the line: <see cref="SendResult.Sent"/> (queued) or <see cref="SendResult.Closed"/>.</summary>
    public void Complete(SendResult result)
    {
        if (result == SendResult.Sent)
        {
            _core.SetResult(true);
        }
        else
        {
            _core.SetException(_owner.ClosedError());
        }
    }

    /// <inheritdoc/>
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    /// <inheritdoc/>
    public void GetResult(short token)
    {
        if (token != _core.Version || _core.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            // Misuse (awaited twice, or read before completion): throws, and must not recycle a waiter still in use.
            _core.GetResult(token);
        }

        try
        {
            _core.GetResult(token);
        }
        finally
        {
            // Disposing waits for a callback that is running, so none can touch the waiter once it is reused.
            _cancellation.Dispose();
            _loopDisposal.Dispose();
            _cancellation = default;
            _loopDisposal = default;
            _cancellationToken = default;
            Item = default!;
            _core.Reset();
            _owner.Recycle(this);
        }
    }

    private void GiveUp(bool cancelled)
    {
        if (!_owner.TryRemove(this))
        {
            // Granted or closed meanwhile: that party completes it.
            return;
        }

        if (cancelled)
        {
            _core.SetException(new OperationCanceledException(_cancellationToken));
        }
        else
        {
            Complete(SendResult.Closed);
        }
    }
}
