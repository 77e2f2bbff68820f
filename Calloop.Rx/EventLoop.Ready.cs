using System.Diagnostics;

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

    /// <summary>
    /// Loop thread: whether the last dispatch left signalled sources undelivered because it ran out of time (see
    /// <see cref="ReadyTimeBudgetTicks"/>); the next dispatch must then not wait.
    /// </summary>
    private bool HasDeferredReady => _readyCursor < _readyBatch.Count;

    /// <summary>
    /// How long one dispatch may spend on signalled sources (channels and pings) before it leaves the rest for the
    /// next: a thousand busy channels each deliver up to <see cref="ChannelSource{T}.BatchLimit"/> messages, and without
    /// a bound a dispatch would take so long that timers fire late by as much. Checked only when more than
    /// <see cref="ReadyTimeCheckInterval"/> sources are ready, so the usual dispatch pays nothing for it.
    /// </summary>
    private static long ReadyTimeBudgetTicks => TimeSpan.TicksPerMillisecond / 2;

    private static int ReadyTimeCheckInterval => 16;

    /// <summary>
    /// Loop thread: takes everything queued so far, in the order it was signalled, after what the last dispatch left
    /// over (those first, so a source deferred once is not deferred again by newer ones).
    /// </summary>
    private void TakeReady()
    {
        if (_readyCursor > 0)
        {
            _readyBatch.RemoveRange(0, _readyCursor);
            _readyCursor = 0;
        }

        // Nothing queued is the usual case in an fd-driven dispatch; a plain read spares the atomic exchange.
        if (Volatile.Read(ref _readyHead) is null)
        {
            return;
        }

        int start = _readyBatch.Count;
        Notifier? node = Interlocked.Exchange(ref _readyHead, null);
        while (node is not null)
        {
            Notifier? next = node.Next;
            node.Next = null;
            _readyBatch.Add(node);
            node = next;
        }

        _readyBatch.Reverse(start, _readyBatch.Count - start);
    }

    /// <summary>Loop thread: the timestamp at which the signalled sources of this dispatch must yield, or never when they are few.</summary>
    private long ReadyDeadline() =>
        _readyBatch.Count - _readyCursor > ReadyTimeCheckInterval ? Stopwatch.GetTimestamp() + (ReadyTimeBudgetTicks * Stopwatch.Frequency / TimeSpan.TicksPerSecond) : long.MaxValue;

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
            if (HasReady || HasDeferredReady || _ready.Count > 0 || _stopRequested
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
