using Calloop.Rx.Diagnostics;

namespace Calloop.Rx;

/// <summary>
/// The receiving side of <see cref="EventLoop.Channel{T}"/> and <see cref="EventLoop.BoundedChannel{T}(int)"/>: each
/// message is delivered exactly once to every subscriber, in the order each sender sent them. Once every sender
/// is disposed and the queue has drained, the source completes.
/// </summary>
/// <remarks>
/// A dispatch delivers at most <see cref="BatchLimit"/> messages (at most capacity + 1 for a bounded channel), so
/// one busy producer cannot starve the other sources; the rest follow in the next dispatch, which does not wait.
/// </remarks>
public sealed class ChannelSource<T> : LoopSource<T>, IQueuedSource
{
    /// <summary>Most messages delivered per dispatch (calloop's bound). A property, not a constant, so that a later version may change it without recompiling callers.</summary>
    public static int BatchLimit => 1024;

    private readonly ChannelCore<T> _core;
    private readonly int _batch;

    internal ChannelSource(EventLoop loop, ChannelCore<T> core)
        : base(loop)
    {
        _core = core;
        _batch = core.Capacity == 0 ? BatchLimit : Math.Min(core.Capacity + 1, BatchLimit);
        Notifier = new Notifier(loop, this);
    }

    internal Notifier Notifier { get; }

    int IQueuedSource.QueueDepth => _core.Queue.Depth;

    internal override string Name => "Channel";

    private protected override bool UsesToken => false;

    private protected override void Arm() => Notifier.ArmLocked();

    private protected override void Disarm() => Notifier.DisarmLocked();

    private protected override void OnEvent(Readiness readiness, Token token)
    {
        MessageQueue<T> queue = _core.Queue;
        int budget = _batch;
        while (budget > 0)
        {
            ReadOnlySpan<T> items = queue.Peek(budget);
            int delivered = 0;
            while (delivered < items.Length && !BatchInterrupted)
            {
                Emit(items[delivered++]);
            }

            queue.Advance(delivered);
            budget -= delivered;
            if (delivered == 0 || delivered < items.Length)
            {
                break;
            }
        }

        if (queue.HasMore || BatchInterrupted)
        {
            // Left for the next dispatch (messages, or a completion held back by a Disable from a callback): queued
            // again, so that dispatch does not sleep; a disabled source keeps the signal pending until Enable.
            Notifier.Signal();
        }
        else if (queue.IsCompleted())
        {
            Complete();
        }
    }

    private protected override void ReleaseResources()
    {
        _core.Queue.CloseReader();
        Notifier.Close();
    }
}
