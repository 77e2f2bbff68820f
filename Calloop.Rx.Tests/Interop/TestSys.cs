using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Calloop.Rx.Tests.Interop;

/// <summary>The libc calls the tests need to make real fds and send real signals; kept in this one folder.</summary>
internal static unsafe class TestSys
{
    public static int SIGUSR1 => LibC.SIGUSR1;

    public static int SIGUSR2 => LibC.SIGUSR2;

    public static int SIGHUP => LibC.SIGHUP;

    public static int SIGWINCH => LibC.SIGWINCH;

    public static int SIGCHLD => LibC.SIGCHLD;

    public static int SIGTERM => LibC.SIGTERM;

    public static int SIGINT => LibC.SIGINT;

    public static int EBADF => LibC.EBADF;

    public static int EEXIST => LibC.EEXIST;

    /// <summary>Sends <paramref name="signal"/> to this process.</summary>
    public static void Kill(int signal)
    {
        if (kill(getpid(), signal) != 0)
        {
            throw new InvalidOperationException($"kill failed: errno {errno}");
        }
    }

    /// <summary>A non-blocking, close-on-exec unix stream socket pair.</summary>
    public static (int A, int B) SocketPair()
    {
        int* fds = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
        {
            throw new InvalidOperationException($"socketpair failed: errno {errno}");
        }

        return (fds[0], fds[1]);
    }

    /// <summary>A non-blocking, close-on-exec pipe.</summary>
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        {
            throw new InvalidOperationException($"pipe2 failed: errno {errno}");
        }

        return (fds[0], fds[1]);
    }

    public static int Write(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            return (int)write(fd, p, data.Length);
        }
    }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes; -1 when it would block.</summary>
    public static int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return (int)read(fd, p, buffer.Length);
        }
    }

    /// <summary>Reads until the fd would block; returns the bytes read.</summary>
    public static byte[] Drain(int fd)
    {
        var all = new List<byte>();
        Span<byte> buffer = stackalloc byte[4096];
        int n;
        while ((n = Read(fd, buffer)) > 0)
        {
            all.AddRange(buffer[..n].ToArray());
        }

        return [.. all];
    }

    public static void Close(int fd) => close(fd);

    /// <summary>Makes <paramref name="target"/> refer to <paramref name="fd"/>'s file, closing what it referred to, in one step (dup3, close-on-exec).</summary>
    public static void DupOnto(int fd, int target)
    {
        if (dup3(fd, target, O_CLOEXEC) < 0)
        {
            throw new InvalidOperationException($"dup3 failed: errno {errno}");
        }
    }

    /// <summary>Whether O_NONBLOCK is set on <paramref name="fd"/>.</summary>
    public static bool IsNonBlocking(int fd) => (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;

    /// <summary>A blocking, close-on-exec unix stream socket pair (for the adapters that must set O_NONBLOCK themselves).</summary>
    public static (int A, int B) BlockingSocketPair()
    {
        int* fds = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        {
            throw new InvalidOperationException($"socketpair failed: errno {errno}");
        }

        return (fds[0], fds[1]);
    }

    /// <summary>shutdown(SHUT_WR): the peer then reads end of stream.</summary>
    public static void ShutdownWrite(int fd) => shutdown(fd, SHUT_WR);

    /// <summary>
    /// The fds open now that were not in <paramref name="before"/>, described by what they refer to; empty when none.
    /// Other threads of the runtime (a finalizer closing an earlier test's handle, a thread-pool callback finishing)
    /// may hold an fd for a moment, so it looks again, after collecting garbage, a bounded number of times.
    /// </summary>
    public static List<string> FdsOpenedSince(HashSet<int> before)
    {
        List<string> opened = [];
        for (int attempt = 0; attempt < 20; attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            opened = [.. OpenFds().Except(before).Select(fd => $"{fd} -> {DescribeFd(fd)}")];
            if (opened.Count == 0)
            {
                break;
            }

            Thread.Yield();
        }

        return opened;
    }

    /// <summary>What <paramref name="fd"/> refers to (its /proc/self/fd link), or a note when it was closed meanwhile.</summary>
    public static string DescribeFd(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? "?";
        }
        catch (IOException)
        {
            return "closed meanwhile";
        }
    }

    /// <summary>The fds this process has open, from /proc/self/fd.</summary>
    public static HashSet<int> OpenFds() =>
        [.. Directory.GetFiles("/proc/self/fd").Select(path => int.Parse(Path.GetFileName(path), System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Whether FD_CLOEXEC is set on <paramref name="fd"/>.</summary>
    public static bool IsCloseOnExec(int fd) => (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;

    /// <summary>Whether <paramref name="fd"/> is an open descriptor (fcntl F_GETFD).</summary>
    public static bool IsOpen(int fd) => fcntl(fd, F_GETFD) >= 0;

    /// <summary>Whether <paramref name="signal"/> is ignored (SIG_IGN) by this process, from /proc/self/status.</summary>
    public static bool IsIgnored(int signal)
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        ulong mask = ulong.Parse(line["SigIgn:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        return (mask & (1UL << (signal - 1))) != 0;
    }

    /// <summary>The calling thread's kernel thread id.</summary>
    public static int CurrentThreadId() => gettid();

    /// <summary>Sends <paramref name="signal"/> to one thread of this process, so that it is that thread the kernel interrupts.</summary>
    public static void KillThread(int tid, int signal)
    {
        if (tgkill(getpid(), tid, signal) != 0)
        {
            throw new InvalidOperationException($"tgkill failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>
    /// Waits (at most <paramref name="patience"/>, polling /proc) until thread <paramref name="tid"/> is blocked in an
    /// epoll wait system call; false if it never was. Lets a test act exactly while a dispatch waits.
    /// </summary>
    public static bool WaitUntilInEpollWait(int tid, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        string path = $"/proc/self/task/{tid}/syscall";
        while (DateTime.UtcNow < deadline)
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (IOException)
            {
                return false;
            }

            int space = text.IndexOf(' ');
            if (space > 0 && long.TryParse(text.AsSpan(0, space), out long number) && IsEpollWait(number))
            {
                return true;
            }

            Thread.Yield();
        }

        return false;
    }

    // epoll_wait, epoll_pwait and epoll_pwait2; arm64 has only the last two.
    private static bool IsEpollWait(long number) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => number is 232 or 281 or 441,
        Architecture.Arm64 => number is 22 or 441,
        _ => false,
    };

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int gettid();

    [DllImport("libc", EntryPoint = "tgkill", SetLastError = true)]
    private static extern int tgkill(int tgid, int tid, int sig);
}
