namespace Calloop.Rx;

public sealed partial class EventLoop
{
    /// <summary>
    /// The loop's epoll fd, for driving this loop from another main loop (another <see cref="EventLoop"/> through
    /// <see cref="Embed(EventLoop)"/>, GLib, a UI toolkit): it polls readable when this loop has something to dispatch,
    /// provided <see cref="PrepareExternalWait"/> ran after the last dispatch. The loop owns the fd: do not close it,
    /// and stop polling it before disposing the loop. Readable from any thread.
    /// </summary>
    public int PollFd => _waiter.Epoll.Fd;

    /// <summary>
    /// Drives <paramref name="inner"/> from this loop: while the returned source has a subscriber, the inner loop's
    /// events, timers, messages and scheduled work are delivered on this loop's thread, inside its dispatches.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="inner"/> is this loop.</exception>
    /// <exception cref="ObjectDisposedException">Either loop is disposed.</exception>
    public EmbeddedLoopSource Embed(EventLoop inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (ReferenceEquals(inner, this))
        {
            throw new ArgumentException("A loop cannot drive itself.", nameof(inner));
        }

        inner.ThrowIfDisposed();
        return new EmbeddedLoopSource(this, inner);
    }

    /// <summary>
    /// Gets the loop ready to be waited for by someone else through <see cref="PollFd"/>: from now on a due timer
    /// (through the loop's timerfd), work or a message sent from another thread (through its waker) or any ready
    /// source makes <see cref="PollFd"/> readable. Call it after each <c>Dispatch(TimeSpan.Zero)</c> and before the
    /// foreign loop waits again.
    /// </summary>
    /// <remarks>
    /// Call it on the thread that dispatches, never from inside a dispatch. A virtual-time loop's timers do not
    /// wake it (they wait for <see cref="AdvanceBy(TimeSpan)"/>). On a disposed loop it does nothing and returns null.
    /// </remarks>
    /// <returns>
    /// How long until the earliest timer, for a foreign loop that takes a timeout rather than an fd:
    /// <see cref="TimeSpan.Zero"/> when work is waiting already, null when no timer is pending.
    /// </returns>
    /// <exception cref="InvalidOperationException">Called from inside a dispatch, or while another thread dispatches.</exception>
    public TimeSpan? PrepareExternalWait()
    {
        if (!_cycle.Enter())
        {
            return null;
        }

        try
        {
            return _disposed ? null : _waiter.ArmForExternalWait(resuming: !_cycle.IsIdle);
        }
        finally
        {
            LeaveDispatch(System.Threading.SynchronizationContext.Current);
        }
    }

    /// <summary>
    /// Makes <see cref="PollFd"/> readable now, whether or not anyone waits, for a driver's first dispatch (which
    /// arms the rest). Any thread; after disposal it does nothing.
    /// </summary>
    internal void WakeExternalWaiter() => _waiter.WakeNow();
}
