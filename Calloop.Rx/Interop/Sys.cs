using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Calloop.Rx.Interop;

/// <summary>
/// The loop's thin layer over libc (through Tmds.LibC). Nothing outside <c>Interop/</c> calls libc; every
/// method here returns the raw result and leaves errno interpretation to <see cref="LoopException"/>.
/// </summary>
internal static unsafe class Sys
{
    public static int Errno => Marshal.GetLastPInvokeError();

    public static int EINTR => LibC.EINTR;
    public static int EAGAIN => LibC.EAGAIN;
    public static int ENOSYS => LibC.ENOSYS;
    public static int EBADF => LibC.EBADF;
    public static int EEXIST => LibC.EEXIST;
    public static int EPERM => LibC.EPERM;
    public static int ENOENT => LibC.ENOENT;

    public static uint EpollIn => (uint)EPOLLIN;
    public static uint EpollOut => (uint)EPOLLOUT;
    public static uint EpollErr => (uint)EPOLLERR;
    public static uint EpollHup => (uint)EPOLLHUP;
    public static uint EpollRdHup => (uint)EPOLLRDHUP;
    public static uint EpollEt => (uint)EPOLLET;
    public static uint EpollOneShot => (uint)EPOLLONESHOT;

    public static int Close(int fd) => close(fd);

    public static int EpollCreate() => epoll_create1(EPOLL_CLOEXEC);

    public static int EpollCtlAdd(int epfd, int fd, uint events, ulong data) => EpollCtl(epfd, EPOLL_CTL_ADD, fd, events, data);

    public static int EpollCtlMod(int epfd, int fd, uint events, ulong data) => EpollCtl(epfd, EPOLL_CTL_MOD, fd, events, data);

    public static int EpollCtlDel(int epfd, int fd)
    {
        epoll_event ev = default;
        return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
    }

    private static int EpollCtl(int epfd, int op, int fd, uint events, ulong data)
    {
        epoll_event ev = default;
        ev.events = (int)events;
        ev.data.u64 = data;
        return epoll_ctl(epfd, op, fd, &ev);
    }

    public static int EpollWait(int epfd, epoll_event* events, int max, int timeoutMs) => epoll_wait(epfd, events, max, timeoutMs);

    /// <summary>Non-blocking, close-on-exec eventfd starting at zero.</summary>
    public static int EventFd() => eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    /// <summary>Adds <paramref name="value"/> to an eventfd counter; 0 on success, else errno.</summary>
    public static int EventFdWrite(int fd, ulong value)
    {
        ssize_t n = write(fd, &value, sizeof(ulong));
        return n == sizeof(ulong) ? 0 : Errno;
    }

    /// <summary>Reads and resets an eventfd counter; 0 when it was already zero.</summary>
    public static ulong EventFdRead(int fd, out int errno)
    {
        ulong value = 0;
        ssize_t n = read(fd, &value, sizeof(ulong));
        if (n == sizeof(ulong))
        {
            errno = 0;
            return value;
        }

        errno = Errno;
        return 0;
    }

    /// <summary>fcntl(F_GETFD): whether <paramref name="fd"/> is an open descriptor.</summary>
    public static int CheckFdOpen(int fd) => fcntl(fd, F_GETFD) < 0 ? Errno : 0;

    /// <summary>The Linux number of a <see cref="PosixSignal"/> (named members are negative placeholders).</summary>
    public static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => SIGHUP,
        PosixSignal.SIGINT => SIGINT,
        PosixSignal.SIGQUIT => SIGQUIT,
        PosixSignal.SIGTERM => SIGTERM,
        PosixSignal.SIGCHLD => SIGCHLD,
        PosixSignal.SIGCONT => SIGCONT,
        PosixSignal.SIGWINCH => SIGWINCH,
        PosixSignal.SIGTTIN => SIGTTIN,
        PosixSignal.SIGTTOU => SIGTTOU,
        PosixSignal.SIGTSTP => SIGTSTP,
        _ => (int)signal,
    };

    /// <summary>Signals a loop must never take over: uncatchable ones and synchronous faults the runtime owns.</summary>
    public static bool IsReservedSignal(int signo) =>
        signo == SIGKILL || signo == SIGSTOP || signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL
        || signo == SIGTRAP || signo == SIGABRT || signo > SIGRTMAX;

}
