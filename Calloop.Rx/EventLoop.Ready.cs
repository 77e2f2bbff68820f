namespace Calloop.Rx;

public sealed partial class EventLoop
{
    private readonly List<Notifier> _readyBatch = [];
    private Notifier? _readyHead;
    private int _readyCursor;

    /// <summary>Whether a producer queued a source since the loop last took the ready list.</summary>
    private bool HasReady => Volatile.Read(ref _readyHead) is not null;

    /// <summary>Any thread: pushes a signalled source (a Treiber stack) and wakes the loop if it is blocked.</summary>
    internal void QueueReady(Notifier notifier)
    {
        Notifier? head;
        do
        {
            head = Volatile.Read(ref _readyHead);
            notifier.Next = head;
        }
        while (Interlocked.CompareExchange(ref _readyHead, notifier, head) != head);

        WakeIfSleeping();
    }

    /// <summary>Loop thread: takes everything queued so far, in the order it was signalled.</summary>
    private void TakeReady()
    {
        _readyBatch.Clear();
        _readyCursor = 0;
        // Nothing queued is the usual case in an fd-driven dispatch; a plain read spares the atomic exchange.
        if (Volatile.Read(ref _readyHead) is null)
        {
            return;
        }

        Notifier? node = Interlocked.Exchange(ref _readyHead, null);
        while (node is not null)
        {
            Notifier? next = node.Next;
            node.Next = null;
            _readyBatch.Add(node);
            node = next;
        }

        _readyBatch.Reverse();
    }

    /// <summary>
    /// Before blocking, keeps checking for up to <see cref="SpinBeforeWait"/> (never past the wait's own timeout) for
    /// work a producer on another core queued, polling epoll now and then for fds. Returns the epoll event count when
    /// something turned up, or -1 when the spin ran out (then <paramref name="waitTicks"/> holds what is left to wait).
    /// </summary>
    private int Spin(ref long waitTicks)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        long budget = waitTicks < 0 ? _spinTicks : Math.Min(_spinTicks, waitTicks);
        for (int round = 1; ; round++)
        {
            if (HasReady || _ready.Count > 0 || _stopRequested
                || (Volatile.Read(ref _wakeRequested) == 1 && Interlocked.Exchange(ref _wakeRequested, 0) == 1))
            {
                return 0;
            }

            // epoll costs a syscall; the checks above cost a few loads.
            if ((round & 7) == 0)
            {
                int count = _epoll.Poll();
                if (count > 0)
                {
                    return count;
                }
            }

            long spent = System.Diagnostics.Stopwatch.GetElapsedTime(start).Ticks;
            if (spent >= budget)
            {
                if (waitTicks > 0)
                {
                    waitTicks = Math.Max(0, waitTicks - spent);
                }

                return -1;
            }

            Thread.SpinWait(4);
        }
    }
}
