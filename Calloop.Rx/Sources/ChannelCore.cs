namespace Calloop.Rx;

/// <summary>What a channel's senders and its <see cref="ChannelSource{T}"/> share: the queue, the loop's notifier, and the count of live senders.</summary>
internal sealed class ChannelCore<T>
{
    private int _senders = 1;

    public ChannelCore(EventLoop loop, int capacity)
    {
        Capacity = capacity;
        Queue = new MessageQueue<T>(loop, capacity);
        Source = new ChannelSource<T>(loop, this);
    }

    /// <summary>0 for unbounded.</summary>
    public int Capacity { get; }

    public MessageQueue<T> Queue { get; }

    public ChannelSource<T> Source { get; }

    public SendResult TrySend(T item)
    {
        SendResult result = Queue.TryWrite(item);
        if (result == SendResult.Sent)
        {
            Source.Notifier.Signal();
        }

        return result;
    }

    /// <summary>Blocks while a bounded channel is full. Refused on the loop thread, which alone can make room.</summary>
    public SendResult SendBlocking(T item, CancellationToken cancellationToken)
    {
        SendResult result = Queue.TryWrite(item);
        if (result == SendResult.Full)
        {
            if (Source.Loop.IsOnLoopThread)
            {
                throw new InvalidOperationException("BoundedSender.Send would block the loop thread forever: only the loop can make room. Use TrySend on the loop thread.");
            }

            result = Queue.Write(item, cancellationToken);
        }

        if (result == SendResult.Sent)
        {
            Source.Notifier.Signal();
        }

        return result;
    }

    /// <summary>
    /// Queues <paramref name="item"/>, or waits in line for room without blocking a thread: completed at once when
    /// there is room (or the channel is closed), without allocating. Allowed on the loop thread, where the send
    /// completes once a later dispatch made room.
    /// </summary>
    public ValueTask SendAsync(T item, CancellationToken cancellationToken)
    {
        switch (Queue.TryWriteOrWait(item, cancellationToken, out ValueTask waiting))
        {
            case SendResult.Sent:
                Source.Notifier.Signal();
                return ValueTask.CompletedTask;
            case SendResult.Full:
                // The loop appends the item when it makes room, while delivering this very source.
                return waiting;
            default:
                return ValueTask.FromException(ThrowHelper.ChannelClosed());
        }
    }

    public void AddSender() => Interlocked.Increment(ref _senders);

    /// <summary>The last sender closes the queue; the loop then completes the source once it has drained it.</summary>
    public void ReleaseSender()
    {
        if (Interlocked.Decrement(ref _senders) == 0)
        {
            Queue.CloseWriter();
            Source.Notifier.Signal();
        }
    }
}
