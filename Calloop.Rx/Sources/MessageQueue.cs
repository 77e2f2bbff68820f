using System.Buffers;
using Calloop.Rx.Scheduling;
using System.Runtime.CompilerServices;

namespace Calloop.Rx;

/// <summary>
/// The multi-producer, single-consumer queue behind channels: producers append to one array under a short lock, the
/// loop swaps the whole array out and reads it without the lock (double buffering), so a message costs one
/// uncontended lock on the sending side and nothing is allocated in steady state.
/// </summary>
/// <remarks>
/// <para>Hand-written instead of System.Threading.Channels, which this replaced: its unbounded channel allocates queue
/// segments as messages flow (more than "the message itself") and locks on every write and every read; the anchor
/// <c>channel</c> workload ran at about a third of the C anchor's rate with it.</para>
/// <para>The lock is a <see cref="SpinLock"/>: it only ever guards an append or a swap, and it costs ~5 ns where a
/// monitor or <see cref="Lock"/> cost 10-18 ns here, most of a send. For a bounded queue every message not yet
/// taken by the loop counts against the capacity; senders waiting for room block on a separate monitor, pulsed when
/// the loop takes messages.</para>
/// <para>The loop reads a batch as a span and moves its cursor once per batch: a cursor written per message shared a
/// cache line with the count the producer writes per message, and that ping-pong between the cores cost more than
/// the rest of the delivery. The producers' array grows through <see cref="ArrayPool{T}.Shared"/>, so a burst of
/// a million messages does not allocate a fresh large array (and set off a full collection) each time it doubles.</para>
/// </remarks>
internal sealed class MessageQueue<T>
{
    private readonly object _roomLock = new();
    private readonly int _capacity;
    private SpinLock _lock = new(enableThreadOwnerTracking: false);
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

    /// <summary>Loop thread: whether messages remain after the last <see cref="Advance"/> (a hint when producers run).</summary>
    public bool HasMore => _cursor < _outgoingCount || Volatile.Read(ref _incomingCount) > 0;

    /// <summary>Any thread: appends <paramref name="item"/> unless full or closed.</summary>
    public SendResult TryWrite(T item)
    {
        bool taken = false;
        try
        {
            _lock.Enter(ref taken);
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
        finally
        {
            if (taken)
            {
                _lock.Exit(useMemoryBarrier: false);
            }
        }
    }

    /// <summary>Any thread but the loop's: appends <paramref name="item"/>, waiting while a bounded queue is full.</summary>
    public SendResult Write(T item, CancellationToken cancellationToken)
    {
        CancellationTokenRegistration registration = default;
        try
        {
            lock (_roomLock)
            {
                // Counted before looking for room: the loop reads the count under the spin lock after it made room,
                // so either this sender sees that room or the loop sees this sender and pulses.
                _waiters++;
                try
                {
                    while (true)
                    {
                        SendResult result = TryWrite(item);
                        if (result != SendResult.Full)
                        {
                            return result;
                        }

                        cancellationToken.ThrowIfCancellationRequested();
                        if (cancellationToken.CanBeCanceled && registration == default)
                        {
                            registration = cancellationToken.Register(static state => ((MessageQueue<T>)state!).WakeWaiters(), this);
                        }

                        Monitor.Wait(_roomLock);
                    }
                }
                finally
                {
                    _waiters--;
                }
            }
        }
        finally
        {
            registration.Dispose();
        }
    }

    /// <summary>
    /// Loop thread: up to <paramref name="max"/> messages in order, refilling from the producers' array when the
    /// current one is done; empty when there are none. Valid until the next <see cref="Peek"/>; say how many were
    /// delivered with <see cref="Advance"/>.
    /// </summary>
    public ReadOnlySpan<T> Peek(int max)
    {
        if (_cursor == _outgoingCount && !Refill())
        {
            return default;
        }

        return new ReadOnlySpan<T>(_outgoing, _cursor, Math.Min(max, _outgoingCount - _cursor));
    }

    /// <summary>Loop thread: the first <paramref name="count"/> messages of the last <see cref="Peek"/> were delivered.</summary>
    public void Advance(int count)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(_outgoing, _cursor, count);
        }

        _cursor += count;
    }

    /// <summary>Loop thread, after <see cref="Peek"/> came back empty: whether every sender is gone and nothing is left.</summary>
    public bool IsCompleted()
    {
        bool taken = false;
        try
        {
            _lock.Enter(ref taken);
            return _writerClosed && _incomingCount == 0 && _cursor == _outgoingCount;
        }
        finally
        {
            if (taken)
            {
                _lock.Exit(useMemoryBarrier: false);
            }
        }
    }

    /// <summary>The last sender is gone: no more writes; the loop completes the source once it has drained the queue.</summary>
    public void CloseWriter()
    {
        _writerClosed = true;
        WakeWaiters();
    }

    /// <summary>The receiving source ended: later writes report Closed and queued messages are dropped.</summary>
    public void CloseReader()
    {
        bool taken = false;
        try
        {
            _lock.Enter(ref taken);
            _readerClosed = true;
            Array.Clear(_incoming, 0, _incomingCount);
            _incomingCount = 0;
        }
        finally
        {
            if (taken)
            {
                _lock.Exit(useMemoryBarrier: false);
            }
        }

        WakeWaiters();
    }

    private void Append(T item)
    {
        if (_incomingCount == _incoming.Length)
        {
            // Only producers, under the lock, touch this array (the loop is done with it since it was swapped in).
            PooledArray.Grow(ref _incoming, _incomingCount);
        }

        _incoming[_incomingCount] = item;
        Volatile.Write(ref _incomingCount, _incomingCount + 1);
        _undelivered++;
    }

    private bool Refill()
    {
        bool waiters;
        bool taken = false;
        try
        {
            _lock.Enter(ref taken);

            // What the loop has taken since the last refill no longer counts against the capacity.
            _undelivered -= _outgoingCount;
            (_incoming, _outgoing) = (_outgoing, _incoming);
            _outgoingCount = _incomingCount;
            _incomingCount = 0;
            _cursor = 0;
            waiters = _waiters > 0;
        }
        finally
        {
            if (taken)
            {
                _lock.Exit(useMemoryBarrier: false);
            }
        }

        if (waiters)
        {
            WakeWaiters();
        }

        return _outgoingCount > 0;
    }

    private void WakeWaiters()
    {
        lock (_roomLock)
        {
            Monitor.PulseAll(_roomLock);
        }
    }
}
