namespace Calloop.Rx;

public sealed partial class EventLoop
{
    /// <summary>
    /// Whether the calling thread is dispatching this loop right now: the only thread on which notifications arrive
    /// and loop-thread-only objects may be used. False between dispatches, even on the thread that runs the loop.
    /// </summary>
    public bool IsOnLoopThread => _cycle.IsOnLoopThread;

    /// <summary>
    /// Runs one iteration: waits for events (at most <paramref name="timeout"/>, or until the earliest timer), then
    /// delivers fd, ping, channel and signal events, due timers, scheduled actions and idle callbacks.
    /// </summary>
    /// <param name="timeout">Longest wait: null waits until something happens, <see cref="TimeSpan.Zero"/> polls.</param>
    /// <remarks>
    /// An exception thrown by an observer or a scheduled action comes out of this method once the delivery in
    /// progress has reached every subscriber; everything not yet delivered stays pending and is delivered by the
    /// next call (which then does not wait). Several such exceptions come out as one <see cref="AggregateException"/>.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    /// <exception cref="InvalidOperationException">Called from a callback of this loop, or while another thread dispatches.</exception>
    /// <exception cref="LoopException">epoll_wait failed (other than EINTR, which is retried).</exception>
    public void Dispatch(TimeSpan? timeout = null)
    {
        ValidateTimeout(timeout);
        if (!DispatchOnce(timeout is { } t ? t.Ticks : -1))
        {
            ThrowHelper.ThrowLoopDisposed();
        }
    }

    /// <summary>One dispatch; false (nothing done) when the loop is already disposed.</summary>
    private bool DispatchOnce(long timeoutTicks)
    {
        if (_disposed)
        {
            return false;
        }

        if (!_cycle.Enter())
        {
            return false;
        }

        SynchronizationContext? previous = _async.InstallSynchronizationContext();
        try
        {
            // Disposed by another thread since the check above: LeaveDispatch tears down.
            if (!_disposed)
            {
                _cycle.Run(timeoutTicks);
            }
        }
        finally
        {
            LeaveDispatch(previous);
        }

        return true;
    }

    /// <summary>Tears the loop down unless another thread holds the dispatch role (which then tears down on its way out).</summary>
    private bool TryTearDown()
    {
        if (!_cycle.TryEnter())
        {
            return false;
        }

        try
        {
            Teardown();
        }
        finally
        {
            _cycle.Exit();
        }

        return true;
    }

    /// <summary>
    /// Gives up the dispatch role and restores the caller's context; tears the loop down if it was disposed meanwhile.
    /// The role's release is a full fence, paired with the one in <see cref="Dispose"/>'s attempt to take it: either
    /// <see cref="Dispose"/> sees the role free and tears down itself, or this sees <see cref="IsDisposed"/> afterwards.
    /// </summary>
    /// <remarks>The common path has no nested try, so the JIT can inline the callers' finally (this runs once per dispatch).</remarks>
    private void LeaveDispatch(SynchronizationContext? previous)
    {
        if (_disposed)
        {
            LeaveDisposed(previous);
            return;
        }

        _cycle.Exit();
        System.Threading.SynchronizationContext.SetSynchronizationContext(previous);

        // Dispose on another thread may have found the role still taken just before it was given up: then nobody else
        // tears down (the exchange in Exit orders this read after the role was released).
        if (_disposed)
        {
            TryTearDown();
        }
    }

    private void LeaveDisposed(SynchronizationContext? previous)
    {
        try
        {
            try
            {
                Teardown();
            }
            finally
            {
                _cycle.Exit();
            }
        }
        finally
        {
            System.Threading.SynchronizationContext.SetSynchronizationContext(previous);
        }
    }
}
