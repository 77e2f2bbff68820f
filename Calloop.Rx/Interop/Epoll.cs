using System.Diagnostics;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Calloop.Rx.Interop;

/// <summary>
/// One epoll instance with a native event buffer allocated once. Errors come back as
/// <see cref="LoopException"/> naming the operation, the fd and errno.
/// </summary>
internal sealed unsafe class Epoll : IDisposable
{
    // Events taken per wait. Large enough that a busy loop drains many fds per syscall, small enough
    // (12 KiB) to stay in cache; events left in the kernel come out on the next wait.
    public const int Capacity = 1024;

    private static bool s_noPwait2;
    private readonly FdHandle _handle;
    private readonly epoll_event* _events;

    public Epoll()
    {
        int fd = Sys.EpollCreate();
        if (fd < 0)
        {
            throw new LoopException("epoll_create1", Sys.Errno);
        }

        _handle = new FdHandle(fd);
        _events = (epoll_event*)NativeMemory.AllocZeroed((nuint)(Capacity * sizeof(epoll_event)));
    }

    public int Fd => _handle.Fd;

    /// <summary>Whether the epoll fd has been closed (the loop was torn down).</summary>
    public bool IsClosed => _handle.IsClosed;

    public ulong DataAt(int index) => _events[index].data.u64;

    public uint EventsAt(int index) => (uint)_events[index].events;

    /// <summary>Adds <paramref name="fd"/>; returns errno (0 on success), so the caller names itself only on failure.</summary>
    public int Add(int fd, uint events, ulong data) => Sys.EpollCtlAdd(Fd, fd, events, data) == 0 ? 0 : Sys.Errno;

    /// <summary>Changes <paramref name="fd"/>'s registration; returns errno (0 on success).</summary>
    public int Modify(int fd, uint events, ulong data) => Sys.EpollCtlMod(Fd, fd, events, data) == 0 ? 0 : Sys.Errno;

    /// <summary>Removes <paramref name="fd"/>; returns errno (0 on success) because removal paths must not throw.</summary>
    public int Delete(int fd) => Sys.EpollCtlDel(Fd, fd) == 0 ? 0 : Sys.Errno;

    /// <summary>
    /// Waits for events. <paramref name="timeoutTicks"/> is in <see cref="TimeSpan"/> ticks, negative meaning
    /// forever. EINTR (a signal handler ran on this thread) is retried with the time that is left.
    /// </summary>
    public int Wait(long timeoutTicks)
    {
        long start = timeoutTicks > 0 ? Stopwatch.GetTimestamp() : 0;
        long remaining = timeoutTicks;
        while (true)
        {
            int n = WaitOnce(remaining);
            if (n >= 0)
            {
                return n;
            }

            int errno = Sys.Errno;
            if (errno != Sys.EINTR)
            {
                throw new LoopException("epoll_wait", errno, Fd, "EventLoop");
            }

            if (timeoutTicks > 0)
            {
                remaining = Math.Max(0, timeoutTicks - Stopwatch.GetElapsedTime(start).Ticks);
            }
        }
    }

    /// <summary>
    /// <see cref="Wait"/> with a zero timeout (every dispatch that finds work ready polls): one call that neither
    /// switches GC mode nor saves errno, and <see cref="Wait"/> itself, which does, only if that call failed.
    /// </summary>
    public int Poll()
    {
        int n = NativeMethods.EpollPoll(Fd, _events, Capacity, 0);
        return n >= 0 ? n : Wait(0);
    }

    private int WaitOnce(long timeoutTicks)
    {
        if (timeoutTicks <= 0 || s_noPwait2)
        {
            return Sys.EpollWait(Fd, _events, Capacity, ToMilliseconds(timeoutTicks));
        }

        var ts = NativeMethods.KernelTimespec.FromTicks(timeoutTicks);
        try
        {
            int n = NativeMethods.EpollPwait2(Fd, _events, Capacity, &ts, null);
            if (n < 0 && Sys.Errno == Sys.ENOSYS)
            {
                s_noPwait2 = true;
                return Sys.EpollWait(Fd, _events, Capacity, ToMilliseconds(timeoutTicks));
            }

            return n;
        }
        catch (EntryPointNotFoundException)
        {
            s_noPwait2 = true;
            return Sys.EpollWait(Fd, _events, Capacity, ToMilliseconds(timeoutTicks));
        }
    }

    // Rounded up: epoll_wait must never return before a timer is due.
    private static int ToMilliseconds(long ticks) =>
        ticks < 0 ? -1 : (int)Math.Min(int.MaxValue, (ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond);

    public void Dispose()
    {
        _handle.Dispose();
        NativeMemory.Free(_events);
    }
}
