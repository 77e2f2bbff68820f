using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Calloop.Rx.Benchmarks.Interop;

/// <summary>The libc calls the workloads need (pipes, and epoll for the loop-less fd workload); the only place benchmarks call libc.</summary>
internal static unsafe class BenchSys
{
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        {
            throw new InvalidOperationException($"pipe2 failed: errno {errno}");
        }

        return (fds[0], fds[1]);
    }

    public static void WriteByte(int fd)
    {
        byte b = 1;
        write(fd, &b, 1);
    }

    public static int ReadByte(int fd)
    {
        byte b;
        return (int)read(fd, &b, 1);
    }

    public static void Close(int fd) => close(fd);

    public static int Dup(int fd)
    {
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (copy < 0)
        {
            throw new InvalidOperationException($"fcntl(F_DUPFD_CLOEXEC) failed: errno {errno}");
        }

        return copy;
    }

    /// <summary>The process's soft limit on open descriptors (RLIMIT_NOFILE).</summary>
    public static long OpenFileLimit()
    {
        ulong* limit = stackalloc ulong[2]; // struct rlimit { rlim_cur; rlim_max; }
        return getrlimit(RlimitNoFile, limit) == 0 ? (long)Math.Min(limit[0], long.MaxValue) : 1024;
    }

    private const int RlimitNoFile = 7; // Linux, every architecture .NET runs on

    [DllImport("libc", SetLastError = true)]
    private static extern int getrlimit(int resource, ulong* limit);

    public static int EpollCreate()
    {
        int fd = epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {errno}");
        }

        return fd;
    }

    /// <summary>Registers <paramref name="fd"/> level-triggered for reading, with <paramref name="data"/> as its epoll data.</summary>
    public static void EpollAddRead(int epoll, int fd, ulong data)
    {
        epoll_event ev = default;
        ev.events = EPOLLIN;
        ev.data.u64 = data;
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) != 0)
        {
            throw new InvalidOperationException($"epoll_ctl(ADD) of fd {fd} failed: errno {errno}");
        }
    }

    /// <summary>A native buffer for epoll_wait's events.</summary>
    public sealed class EpollEvents(int capacity) : IDisposable
    {
        private readonly epoll_event* _events = (epoll_event*)NativeMemory.Alloc((nuint)(capacity * sizeof(epoll_event)));

        /// <summary>epoll_wait with a zero timeout; returns the event count.</summary>
        public int Poll(int epoll) => epoll_wait(epoll, _events, capacity, 0);

        public int Data(int index) => (int)_events[index].data.u64;

        public void Dispose() => NativeMemory.Free(_events);
    }
}
