using System.Diagnostics;
using Calloop.Rx.Interop;

namespace Calloop.Rx.Loop;

/// <summary>
/// How the loop thread sleeps and how other threads wake it: the epoll instance, the waker eventfd, the timerfd
/// that ends a bounded wait on time, the spin before blocking, and the handshake that makes a producer write the
/// waker only while the loop is (about to be) blocked. Owns and closes the three fds.
/// </summary>
/// <remarks>
/// <see cref="WakeIfSleeping"/>, <see cref="RequestWake"/> and <see cref="RequestStop"/> are for any thread; waiting
/// is for the thread that holds the dispatch role. The wait never blocks while work is waiting: it looks at the
/// ready list, the work queue, the timers and the stop, wake and disposal requests, under the gate, after arming
/// the waker, so anything queued later writes the waker.
/// </remarks>
internal sealed class Waiter : IDisposable
{
    /// <summary>epoll data of the waker eventfd. Its slot, <see cref="Token.MaxSlot"/>, is never given to a source.</summary>
    public const ulong WakerToken = ulong.MaxValue;

    /// <summary>epoll data of the timerfd, in the same reserved slot as <see cref="WakerToken"/>.</summary>
    public const ulong TimerToken = ulong.MaxValue - (1UL << 24);

    private readonly EventLoop _loop;
    private readonly ReadyList _ready;
    private readonly WorkQueue _work;
    private readonly LoopTime _time;
    private readonly EventFd _waker;
    private readonly TimerFd? _timerFd;
    private int _wakeArmed;
    private int _wakeRequested;
    private volatile bool _stopRequested;

    /// <exception cref="LoopException">epoll, the eventfd or the timerfd could not be created or registered (nothing is left open).</exception>
    public Waiter(EventLoop loop, ReadyList ready, WorkQueue work, LoopTime time)
    {
        _loop = loop;
        _ready = ready;
        _work = work;
        _time = time;
        Epoll = new Epoll();
        try
        {
            _waker = new EventFd("EventLoop waker");
            AddOwnFd(_waker.Fd, Sys.EpollIn, WakerToken, "EventLoop waker");
            if (!time.IsVirtual)
            {
                // Edge-triggered: each expiry wakes one wait, and re-arming clears it, so it is never read.
                _timerFd = new TimerFd("EventLoop timer");
                AddOwnFd(_timerFd.Fd, Sys.EpollIn | Sys.EpollEt, TimerToken, "EventLoop timer");
            }
        }
        catch
        {
            _timerFd?.Dispose();
            _waker?.Dispose();
            Epoll.Dispose();
            throw;
        }
    }

    /// <summary>The loop's epoll instance; its event buffer holds the last wait's events.</summary>
    public Epoll Epoll { get; }

    /// <summary>How long a wait that is about to block keeps polling first, in ticks; 0 never spins.</summary>
    public long SpinTicks { get; set; } = TimeSpan.FromMicroseconds(20).Ticks;

    /// <summary>Whether <see cref="RequestStop"/> was called since <see cref="ClearStop"/>.</summary>
    public bool StopRequested => _stopRequested;

    /// <summary>Any thread: asks <c>Run</c> to end and ends a wait in progress.</summary>
    public void RequestStop()
    {
        _stopRequested = true;
        RequestWake();
    }

    /// <summary>Forgets a stop request (one made before <c>Run</c>, or one a driven loop will never see).</summary>
    public void ClearStop() => _stopRequested = false;

    /// <summary>Any thread: makes a wait in progress, or the next one, return without blocking; requests coalesce.</summary>
    public void RequestWake()
    {
        Volatile.Write(ref _wakeRequested, 1);
        WakeIfSleeping();
    }

    /// <summary>Any thread: writes the waker only if the loop is (about to be) blocked in epoll; bursts cost one write.</summary>
    public void WakeIfSleeping()
    {
        if (Volatile.Read(ref _wakeArmed) == 1 && Interlocked.Exchange(ref _wakeArmed, 0) == 1)
        {
            _waker.Write(1);
        }
    }

    /// <summary>Any thread: makes <see cref="Epoll"/> readable now, whether or not anyone waits. After disposal it does nothing.</summary>
    public void WakeNow() => _waker.Write(1);

    /// <summary>Loop thread: consumes the waker's count after its event was seen.</summary>
    public void DrainWaker() => _waker.Read();

    /// <summary>
    /// Loop thread: waits for epoll events for at most <paramref name="timeoutTicks"/> (negative: no limit), less when a
    /// timer falls due first, not at all when work is waiting or <paramref name="poll"/> is set. Returns the number of
    /// events in <see cref="Epoll"/>'s buffer.
    /// </summary>
    /// <exception cref="LoopException">epoll_wait or timerfd_settime failed.</exception>
    public int Wait(long timeoutTicks, bool poll)
    {
        long wait = poll ? 0 : BoundWait(timeoutTicks);
        int count = wait == 0 ? Epoll.Poll() : SpinTicks > 0 ? Spin(ref wait) : -1;
        if (count >= 0)
        {
            return count;
        }

        // About to block: from here on producers write the waker. Check again after arming, so that anything
        // queued before the flag was visible is seen here, and anything after it writes the waker.
        Interlocked.Exchange(ref _wakeArmed, 1);
        try
        {
            long bound = BoundWait(wait);
            SetWakeTimer(bound);
            return Epoll.Wait(bound);
        }
        finally
        {
            Interlocked.Exchange(ref _wakeArmed, 0);
        }
    }

    /// <summary>
    /// Loop thread, between dispatches: arms the waker and the timerfd as a blocking wait would, without waiting, so
    /// that someone polling <see cref="Epoll"/>'s fd sees the loop's work. <paramref name="resuming"/>: an interrupted
    /// dispatch has more to deliver. Returns how long until the earliest timer (zero when work is waiting, null when no
    /// timer is pending).
    /// </summary>
    public TimeSpan? ArmForExternalWait(bool resuming)
    {
        // Stop only ends Run, which a driven loop never calls; left set, it would keep the fd readable for ever.
        ClearStop();

        // Armed before looking, as in Wait: work queued after the look writes the waker itself.
        Interlocked.Exchange(ref _wakeArmed, 1);
        long bound = resuming ? 0 : BoundWait(-1);
        if (bound == 0)
        {
            Interlocked.Exchange(ref _wakeArmed, 0);
            _waker.Write(1);
            return TimeSpan.Zero;
        }

        SetWakeTimer(bound);
        return bound < 0 ? null : TimeSpan.FromTicks(bound);
    }

    /// <summary>Closes epoll, the waker and the timerfd.</summary>
    public void Dispose()
    {
        _timerFd?.Dispose();
        _waker.Dispose();
        Epoll.Dispose();
    }

    /// <summary>
    /// The longest the loop may wait from now: <paramref name="timeoutTicks"/> bounded by the earliest timer, or zero
    /// when work is already waiting (queued sources, scheduled actions, a stop or wake-up request, disposal).
    /// </summary>
    private long BoundWait(long timeoutTicks)
    {
        if (timeoutTicks == 0)
        {
            // A poll has nothing to bound; a pending wake-up request is used up by it, as by any dispatch.
            if (Volatile.Read(ref _wakeRequested) == 1)
            {
                Interlocked.Exchange(ref _wakeRequested, 0);
            }

            return 0;
        }

        lock (_loop.Gate)
        {
            if (_ready.HasQueued || _ready.HasDeferred || _work.HasQueued || _stopRequested || _loop.IsDisposed || Interlocked.Exchange(ref _wakeRequested, 0) == 1)
            {
                return 0;
            }

            if (_work.Timers.Count > 0)
            {
                long next = _work.Timers.NextDeadline;
                long now = _time.NowTicks;
                long untilTimer = next <= now ? 0 : _time.IsVirtual ? -1 : next - now;
                if (untilTimer >= 0 && (timeoutTicks < 0 || untilTimer < timeoutTicks))
                {
                    return untilTimer;
                }
            }

            return timeoutTicks;
        }
    }

    /// <summary>
    /// Before blocking, keeps checking for up to <see cref="SpinTicks"/> (never past the wait's own timeout) for work a
    /// producer on another core queued, polling epoll now and then for fds. Returns the epoll event count when
    /// something turned up, or -1 when the spin ran out (then <paramref name="waitTicks"/> holds what is left to wait).
    /// </summary>
    private int Spin(ref long waitTicks)
    {
        long start = Stopwatch.GetTimestamp();
        long budget = waitTicks < 0 ? SpinTicks : Math.Min(SpinTicks, waitTicks);
        for (int round = 1; ; round++)
        {
            if (_ready.HasQueued || _ready.HasDeferred || _work.HasQueued || _stopRequested
                || (Volatile.Read(ref _wakeRequested) == 1 && Interlocked.Exchange(ref _wakeRequested, 0) == 1))
            {
                return 0;
            }

            // epoll costs a syscall; the checks above cost a few loads.
            if ((round & 7) == 0)
            {
                int count = Epoll.Poll();
                if (count > 0)
                {
                    return count;
                }
            }

            long spent = Stopwatch.GetElapsedTime(start).Ticks;
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

    /// <summary>
    /// Arms the timerfd for a bounded wait (or disarms it for an unbounded one), so the wait ends on time rather than
    /// up to the timer slack late. epoll keeps the same timeout as a backstop.
    /// </summary>
    private void SetWakeTimer(long ticks)
    {
        if (_timerFd is not null)
        {
            int errno = _timerFd.Set(ticks);
            if (errno != 0)
            {
                throw new LoopException("timerfd_settime", errno, _timerFd.Fd, "EventLoop timer");
            }
        }
    }

    private void AddOwnFd(int fd, uint events, ulong token, string name)
    {
        int errno = Epoll.Add(fd, events, token);
        if (errno != 0)
        {
            throw new LoopException("epoll_ctl(ADD)", errno, fd, name);
        }
    }
}
