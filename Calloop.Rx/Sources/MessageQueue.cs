namespace Calloop.Rx;

/// <summary>
/// The multi-producer, single-consumer queue behind channels: producers append to one array under a lock, the loop
/// swaps the whole array out and reads it without the lock (double buffering), so a message costs one uncontended
/// lock on the sending side and nothing is allocated in steady state.
/// </summary>
/// <remarks>
/// Hand-written instead of System.Threading.Channels, which this replaced: its unbounded channel allocates queue
/// segments as messages flow (more than "the message itself") and locks on every write and every read; the anchor
/// <c>channel</c> workload ran at about a third of the C anchor's rate with it. For a bounded queue every message not
/// yet taken by the loop counts against the capacity; blocked senders wait on the lock's monitor.
/// </remarks>
internal sealed class MessageQueue<T>
{
    private readonly object _lock = new();
    private readonly int _capacity;
    private T[] _incoming = new T[64];
    private T[] _outgoing = new T[64];
    private int _incomingCount;
    private int _outgoingCount;
    private int _cursor;
    private int _undelivered;
    private int _waiters;
    private volatile bool _writerClosed;
    private volatile bool _readerClosed;

    /// <param name="capacity">0 for unbounded.</param>
    public MessageQueue(int capacity) => _capacity = capacity;

    /// <summary>Loop thread: whether messages remain after the last <see cref="TryRead"/> (a hint when producers run).</summary>
    public bool HasMore => _cursor < _outgoingCount || Volatile.Read(ref _incomingCount) > 0;

    /// <summary>Any thread: appends <paramref name="item"/> unless full or closed.</summary>
    public SendResult TryWrite(T item)
    {
        lock (_lock)
        {
            if (_readerClosed || _writerClosed)
            {
                return SendResult.Closed;
            }

            if (_capacity > 0 && _undelivered >= _capacity)
            {
                return SendResult.Full;
            }

            Append(item);
            return SendResult.Sent;
        }
    }

    /// <summary>Any thread but the loop's: appends <paramref name="item"/>, waiting while a bounded queue is full.</summary>
    public SendResult Write(T item, CancellationToken cancellationToken)
    {
        CancellationTokenRegistration registration = default;
        try
        {
            lock (_lock)
            {
                while (true)
                {
                    if (_readerClosed || _writerClosed)
                    {
                        return SendResult.Closed;
                    }

                    if (_capacity == 0 || _undelivered < _capacity)
                    {
                        Append(item);
                        return SendResult.Sent;
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    if (cancellationToken.CanBeCanceled && registration == default)
                    {
                        registration = cancellationToken.Register(static state => ((MessageQueue<T>)state!).WakeWaiters(), this);
                    }

                    _waiters++;
                    try
                    {
                        Monitor.Wait(_lock);
                    }
                    finally
                    {
                        _waiters--;
                    }
                }
            }
        }
        finally
        {
            registration.Dispose();
        }
    }

    /// <summary>Loop thread: takes the next message, refilling from the producers' array when the current one is done.</summary>
    public bool TryRead(out T item)
    {
        if (_cursor == _outgoingCount && !Refill())
        {
            item = default!;
            return false;
        }

        ref T slot = ref _outgoing[_cursor++];
        item = slot;
        slot = default!;
        return true;
    }

    /// <summary>Loop thread, after <see cref="TryRead"/> returned false: whether every sender is gone and nothing is left.</summary>
    public bool IsCompleted()
    {
        lock (_lock)
        {
            return _writerClosed && _incomingCount == 0 && _cursor == _outgoingCount;
        }
    }

    /// <summary>The last sender is gone: no more writes; the loop completes the source once it has drained the queue.</summary>
    public void CloseWriter()
    {
        lock (_lock)
        {
            _writerClosed = true;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>The receiving source ended: later writes report Closed and queued messages are dropped.</summary>
    public void CloseReader()
    {
        lock (_lock)
        {
            _readerClosed = true;
            Array.Clear(_incoming, 0, _incomingCount);
            _incomingCount = 0;
            Monitor.PulseAll(_lock);
        }
    }

    private void Append(T item)
    {
        if (_incomingCount == _incoming.Length)
        {
            Array.Resize(ref _incoming, _incomingCount * 2);
        }

        _incoming[_incomingCount] = item;
        Volatile.Write(ref _incomingCount, _incomingCount + 1);
        _undelivered++;
    }

    private bool Refill()
    {
        lock (_lock)
        {
            // What the loop has taken since the last refill no longer counts against the capacity.
            _undelivered -= _outgoingCount;
            (_incoming, _outgoing) = (_outgoing, _incoming);
            _outgoingCount = _incomingCount;
            _incomingCount = 0;
            _cursor = 0;
            if (_waiters > 0)
            {
                Monitor.PulseAll(_lock);
            }

            return _outgoingCount > 0;
        }
    }

    private void WakeWaiters()
    {
        lock (_lock)
        {
            Monitor.PulseAll(_lock);
        }
    }
}
