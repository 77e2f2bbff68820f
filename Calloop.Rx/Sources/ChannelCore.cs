using System.Threading.Channels;

namespace Calloop.Rx;

/// <summary>
/// What a channel's senders and its <see cref="ChannelSource{T}"/> share: a System.Threading.Channels queue (its
/// MPSC ordering and completion are what we need), the loop's notifier, and the count of live senders.
/// </summary>
internal sealed class ChannelCore<T>
{
    private int _senders = 1;

    public ChannelCore(EventLoop loop, int capacity)
    {
        Capacity = capacity;
        Queue = capacity == 0
            ? Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true })
            : Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        Source = new ChannelSource<T>(loop, this);
    }

    /// <summary>0 for unbounded.</summary>
    public int Capacity { get; }

    public Channel<T> Queue { get; }

    public ChannelSource<T> Source { get; }

    public SendResult TrySend(T item)
    {
        if (Queue.Writer.TryWrite(item))
        {
            Source.Notifier.Signal();
            return SendResult.Sent;
        }

        return Queue.Reader.Completion.IsCompleted || IsWriterClosed ? SendResult.Closed : SendResult.Full;
    }

    /// <summary>Blocks while a bounded channel is full. Must not run on the loop thread, which alone can make room.</summary>
    public SendResult SendBlocking(T item, CancellationToken cancellationToken)
    {
        while (true)
        {
            SendResult result = TrySend(item);
            if (result != SendResult.Full)
            {
                return result;
            }

            if (Source.Loop.OnLoopThread)
            {
                throw new InvalidOperationException("SyncSender.Send would block the loop thread forever: only the loop can make room. Use TrySend on the loop thread.");
            }

            // The blocking path may allocate; the non-full path above does not.
            if (!Queue.Writer.WaitToWriteAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
            {
                return SendResult.Closed;
            }
        }
    }

    public void AddSender() => Interlocked.Increment(ref _senders);

    /// <summary>The last sender completes the queue; the loop then completes the source once it has drained it.</summary>
    public void ReleaseSender()
    {
        if (Interlocked.Decrement(ref _senders) == 0)
        {
            Queue.Writer.TryComplete();
            Source.Notifier.Signal();
        }
    }

    private bool IsWriterClosed => Source.Notifier.IsClosed;
}
