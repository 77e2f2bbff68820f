using System.Threading.Channels;

namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// Counts the messages the senders handed over that the socket has not accepted yet: a sender takes a credit per
/// message, the loop gives it back once libzmq accepted it. Bounded (<see cref="ZmqSourceOptions.OutboxCapacity"/>),
/// it is the back pressure; counting here rather than bounding the channel keeps the limit exact, covering the
/// messages in the channel and in the source's outbox alike. Unbounded, it still tells <see cref="ZmqSender.Pending"/>
/// and <see cref="ZmqSender.WhenDrainedAsync"/>.
/// </summary>
internal sealed class OutboxLimit
{
    // A plain object, not System.Threading.Lock: senders wait on it with Monitor.Wait.
    private readonly object _lock = new();
    private readonly EventLoop _loop;
    private readonly int _capacity;
    private int _pending;
    private bool _closed;

    // Made only when someone waits for the outbox to drain, completed (and forgotten) when it does.
    private TaskCompletionSource? _drained;

    public OutboxLimit(EventLoop loop, int? capacity)
    {
        _loop = loop;
        Capacity = capacity;
        _capacity = capacity ?? int.MaxValue;
    }

    /// <summary>The bound, or null when unbounded.</summary>
    public int? Capacity { get; }

    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Takes a credit if one is free; never blocks.</summary>
    public SendResult TryTake()
    {
        lock (_lock)
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

                if (_loop.OnLoopThread)
                {
                    throw new InvalidOperationException("ZmqSender.Send would block the loop thread forever: only the loop can make room. Use TrySend on the loop thread.");
                }

                cancellationToken.ThrowIfCancellationRequested();
                Monitor.Wait(_lock);
            }
        }
    }

    /// <summary>The socket accepted a message (or a sender failed to queue one): one more credit.</summary>
    public void Give()
    {
        lock (_lock)
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
        lock (_lock)
        {
            _closed = true;
            _drained?.SetException(Dropped());
            _drained = null;
            Monitor.PulseAll(_lock);
        }
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
