namespace Calloop.Rx;

/// <summary>
/// How producers on any thread (ping senders, channel senders, the signal forwarder) tell the loop that their source
/// has something: the source is queued on the loop's lock-free ready list, and the loop's one waker eventfd is
/// written only if the loop is blocked in epoll. While the loop is awake (dispatching, or spinning before a wait) a
/// signal costs an atomic exchange and a push: no syscall, and a spinning loop sees it within nanoseconds.
/// </summary>
/// <remarks>
/// Ordering that keeps every event: a producer publishes its data, then <see cref="Signal"/>s; the loop clears the
/// queued flag (<see cref="TakeForDelivery"/>) and only then looks at the data. A producer that saw the flag set
/// published before the clear, so the loop sees its data now; one that saw it clear queues the source again.
/// A source signalled while not registered (no subscriber, or disabled) keeps the signal pending until it is armed.
/// </remarks>
internal sealed class Notifier(EventLoop loop, ILoopSource source)
{
    private int _queued;
    private volatile bool _armed;
    private bool _pending;
    private volatile bool _closed;

    /// <summary>Link of the loop's ready list (owned by the loop while queued).</summary>
    internal Notifier? Next { get; set; }

    internal ILoopSource Source => source;

    /// <summary>
    /// Any thread: queues the source for the loop unless it is queued already; a source that is not registered (no
    /// subscriber, or disabled) keeps the signal pending instead, so it does not wake the loop. False once closed or
    /// once the loop is disposed (read from the loop, so that a source nobody subscribes to need not be reachable
    /// from the loop to learn it, and so that a signal after Dispose returned is refused even before the teardown).
    /// </summary>
    public bool Signal()
    {
        if (_closed || loop.IsDisposed)
        {
            return false;
        }

        if (!_armed)
        {
            lock (loop.Gate)
            {
                if (!_armed)
                {
                    _pending = true;
                    return true;
                }
            }
        }

        if (Volatile.Read(ref _queued) == 0 && Interlocked.Exchange(ref _queued, 1) == 0)
        {
            loop.QueueReady(this);
        }

        return true;
    }

    /// <summary>The source was registered (caller holds the gate): a signal that came meanwhile is delivered now.</summary>
    public void ArmLocked()
    {
        _armed = true;
        if (_pending)
        {
            _pending = false;
            Signal();
        }
    }

    /// <summary>The source was unregistered or disabled (caller holds the gate).</summary>
    public void DisarmLocked() => _armed = false;

    /// <summary>The source ended: later signals report closed.</summary>
    public void Close() => _closed = true;

    /// <summary>Loop thread, taking the source off the ready list: whether to deliver now (else it stays pending).</summary>
    internal bool TakeForDelivery()
    {
        Interlocked.Exchange(ref _queued, 0);

        // Armed is the usual case and needs no gate: a Disable on another thread that races with this delivery
        // comes either before it or while the event is already under way, as for every source.
        if (_armed)
        {
            return true;
        }

        lock (loop.Gate)
        {
            if (_armed)
            {
                return true;
            }

            _pending = true;
            return false;
        }
    }
}
