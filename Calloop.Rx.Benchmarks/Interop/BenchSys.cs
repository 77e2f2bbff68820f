using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Calloop.Rx.Benchmarks.Interop;

/// <summary>The libc calls the workloads need (pipes for the fd workloads); the only place benchmarks call libc.</summary>
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
}
