using System.Threading.Channels;
using QueuedMessage = (Calloop.Rx.Sender<byte[][]> Channel, byte[][] Message);

namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// Counts the messages the senders handed over that the socket has not accepted yet: a sender takes a credit per
/// message, the loop gives it back once libzmq accepted it. Bounded (<see cref="ZmqSourceOptions.OutboxCapacity"/>),
/// it is the back pressure; counting here rather than bounding the channel keeps the limit exact, covering the
/// messages in the channel and in the source's outbox alike. Unbounded, it still tells <see cref="ZmqSender.Pending"/>
/// and <see cref="ZmqSender.WhenDrainedAsync"/>.
/// </summary>
/// <remarks>
/// A credit that comes back goes first to the asynchronous senders waiting in line, in the order they came: the one
/// giving it back queues that sender's message into the channel for it. Senders blocked in <see cref="Take"/> wait
/// on the monitor for what is left.
/// </remarks>
internal sealed class OutboxLimit : ISendWaiterOwner<QueuedMessage>
{
    // A plain object, not System.Threading.Lock: senders wait on it with Monitor.Wait.
    private readonly object _lock = new();
    private readonly EventLoop _loop;
    private readonly int _capacity;
    private readonly SendWaiterLine<QueuedMessage> _line;
    private int _pending;
    private bool _closed;

    // Made only when someone waits for the outbox to drain, completed (and forgotten) when it does.
    private TaskCompletionSource? _drained;

    public OutboxLimit(EventLoop loop, int? capacity)
    {
        _loop = loop;
        Capacity = capacity;
        _capacity = capacity ?? int.MaxValue;
        _line = new SendWaiterLine<QueuedMessage>(this);
    }

    /// <summary>The bound, or null when unbounded.</summary>
    public int? Capacity { get; }

    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Takes a credit if one is free; never blocks.</summary>
    public SendResult TryTake()
    {
        lock (_lock)
        {
            return TryTakeLocked();
        }
    }

    /// <summary>
    /// Takes a credit if one is free, as <see cref="TryTake"/>; when the outbox is full, joins the line instead, and
    /// <paramref name="waiting"/> completes once a credit came back and <paramref name="message"/> went into
    /// <paramref name="channel"/>, or fails with <see cref="ChannelClosedException"/> (source ended, loop disposed,
    /// sender disposed) or <see cref="OperationCanceledException"/> (<paramref name="cancellationToken"/>, nothing queued).
    /// </summary>
    /// <returns>Sent (the caller queues the message) or Closed at once; Full when <paramref name="waiting"/> was set.</returns>
    public SendResult TryTakeOrWait(Sender<byte[][]> channel, byte[][] message, CancellationToken cancellationToken, out ValueTask waiting)
    {
        SendResult result;
        SendWaiter<QueuedMessage>? waiter = null;
        lock (_lock)
        {
            result = TryTakeLocked();
            if (result == SendResult.Full)
            {
                waiter = _line.Join((channel, message));
            }
        }

        waiting = waiter?.Watch(cancellationToken, _loop.DisposalToken) ?? default;
        return result;
    }

    /// <summary>Takes a credit, waiting for one; <see cref="SendResult.Closed"/> once the source ended.</summary>
    public SendResult Take(CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(WakeAll)
            : default;
        lock (_lock)
        {
            while (true)
            {
                if (_closed)
                {
                    return SendResult.Closed;
                }

                if (_pending < _capacity)
                {
                    _pending++;
                    return SendResult.Sent;
                }

                if (_loop.IsOnLoopThread)
                {
                    throw new InvalidOperationException("ZmqSender.Send would block the loop thread forever: only the loop can make room. Use TrySend on the loop thread.");
                }

                cancellationToken.ThrowIfCancellationRequested();
                Monitor.Wait(_lock);
            }
        }
    }

    /// <summary>The socket accepted a message (or a sender failed to queue one): one more credit, for the first waiter in line if any.</summary>
    public void Give()
    {
        while (true)
        {
            SendWaiter<QueuedMessage>? first;
            lock (_lock)
            {
                // Not once the loop is disposed: its disposal callback refuses the waiters, as a send would be refused now.
                first = _loop.IsDisposed ? null : _line.TakeFirst(1);
                if (first is null)
                {
                    GiveLocked();
                    return;
                }
            }

            // The credit stays taken, now for this waiter: its message goes into the (unbounded) channel here,
            // outside the lock. Refused (its sender was disposed, the source is ending), the credit goes on.
            SendResult result = first.Item.Channel.TrySend(first.Item.Message);
            first.Complete(result);
            if (result == SendResult.Sent)
            {
                return;
            }
        }
    }

    /// <summary>Completes once nothing is pending; fails if the source ends first, since what was pending is dropped.</summary>
    public Task WhenDrained()
    {
        lock (_lock)
        {
            if (_pending == 0)
            {
                return Task.CompletedTask;
            }

            if (_closed)
            {
                return Task.FromException(Dropped());
            }

            // Asynchronous continuations: the loop thread completes it, and must not run the awaiter's code inline.
            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }

    /// <summary>The source ended: waiting and later senders get <see cref="SendResult.Closed"/>.</summary>
    public void Close()
    {
        SendWaiter<QueuedMessage>? refused;
        lock (_lock)
        {
            _closed = true;
            _drained?.SetException(Dropped());
            _drained = null;
            refused = _line.TakeFirst(int.MaxValue);
            Monitor.PulseAll(_lock);
        }

        SendWaiterLine<QueuedMessage>.CompleteAll(refused, SendResult.Closed);
    }

    bool ISendWaiterOwner<QueuedMessage>.TryRemove(SendWaiter<QueuedMessage> waiter)
    {
        lock (_lock)
        {
            return _line.TryRemove(waiter);
        }
    }

    void ISendWaiterOwner<QueuedMessage>.Recycle(SendWaiter<QueuedMessage> waiter)
    {
        lock (_lock)
        {
            _line.Recycle(waiter);
        }
    }

    Exception ISendWaiterOwner<QueuedMessage>.ClosedError() => ZmqSender.Closed();

    private void GiveLocked()
    {
        if (_pending > 0)
        {
            _pending--;
        }

        if (_pending == 0 && _drained is { } drained)
        {
            _drained = null;
            drained.SetResult();
        }

        Monitor.PulseAll(_lock);
    }

    private SendResult TryTakeLocked()
    {
        if (_closed)
        {
            return SendResult.Closed;
        }

        if (_pending == _capacity)
        {
            return SendResult.Full;
        }

        _pending++;
        return SendResult.Sent;
    }

    private static ChannelClosedException Dropped() =>
        new("The ZeroMQ source ended with messages that libzmq had not accepted: they were dropped.");

    private void WakeAll()
    {
        lock (_lock)
        {
            Monitor.PulseAll(_lock);
        }
    }
}
