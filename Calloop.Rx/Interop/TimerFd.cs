namespace Calloop.Rx.Interop;

/// <summary>
/// The loop's precise wake-up for timers: a CLOCK_MONOTONIC timerfd in epoll. epoll's own timeout is stretched by
/// the thread's timer slack (at least 50 µs, and 0.1% of longer waits), so a timer bounded only by it would fire up to
/// that late; a timerfd expiry is not stretched. Used only by the thread that dispatches, so it needs no locking.
/// </summary>
internal sealed unsafe class TimerFd : IDisposable
{
    private readonly FdHandle _handle;
    private bool _armed;

    public TimerFd(string owner)
    {
        int fd = NativeMethods.TimerFdCreate(NativeMethods.ClockMonotonic, NativeMethods.TfdCloexecNonblock);
        if (fd < 0)
        {
            throw new LoopException("timerfd_create", Sys.Errno, -1, owner);
        }

        _handle = new FdHandle(fd);
    }

    public int Fd => _handle.Fd;

    /// <summary>
    /// Expires <paramref name="ticks"/> from now, or never when it is not positive. Setting the timer also clears an
    /// earlier expiry, so the fd (registered edge-triggered) never needs a read.
    /// </summary>
    /// <returns>errno, 0 on success.</returns>
    public int Set(long ticks)
    {
        if (ticks <= 0 && !_armed)
        {
            return 0;
        }

        // A zero it_value disarms the timer.
        var spec = new NativeMethods.ITimerSpec { Value = NativeMethods.KernelTimespec.FromTicks(Math.Max(0, ticks)) };
        if (NativeMethods.TimerFdSetTime(Fd, 0, &spec, null) != 0)
        {
            return Sys.Errno;
        }

        _armed = ticks > 0;
        return 0;
    }

    public void Dispose() => _handle.Dispose();
}
