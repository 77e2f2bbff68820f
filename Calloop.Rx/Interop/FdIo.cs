using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Calloop.Rx.Interop;

/// <summary>
/// The non-blocking reads and writes of <see cref="AsyncFd"/>, and the O_NONBLOCK flag it sets and restores.
/// Each call returns the raw result with errno; EINTR and EAGAIN are the caller's to interpret.
/// </summary>
internal static unsafe class FdIo
{
    public static int EPIPE => Tmds.Linux.LibC.EPIPE;

    /// <summary>read(2): the bytes read (0 at end of file), or -1 with <paramref name="errno"/> set.</summary>
    public static int Read(int fd, Span<byte> buffer, out int errno)
    {
        fixed (byte* p = buffer)
        {
            int n = (int)read(fd, p, buffer.Length);
            errno = n < 0 ? Sys.Errno : 0;
            return n;
        }
    }

    /// <summary>write(2): the bytes written, or -1 with <paramref name="errno"/> set. (The runtime ignores SIGPIPE, so a closed peer is EPIPE.)</summary>
    public static int Write(int fd, ReadOnlySpan<byte> buffer, out int errno)
    {
        fixed (byte* p = buffer)
        {
            int n = (int)write(fd, p, buffer.Length);
            errno = n < 0 ? Sys.Errno : 0;
            return n;
        }
    }

    /// <summary>
    /// <see cref="Read(int, Span{byte}, out int)"/> on <paramref name="handle"/>'s fd, holding a reference so that a
    /// close from another thread cannot land in the middle (and let the number be reused); a closed handle is EBADF.
    /// </summary>
    public static int Read(SafeHandle handle, Span<byte> buffer, out int errno)
    {
        using var lease = new HandleLease(handle);
        if (lease.Fd < 0)
        {
            errno = Sys.EBADF;
            return -1;
        }

        return Read(lease.Fd, buffer, out errno);
    }

    /// <summary><see cref="Write(int, ReadOnlySpan{byte}, out int)"/> on <paramref name="handle"/>'s fd, as <see cref="Read(SafeHandle, Span{byte}, out int)"/> reads.</summary>
    public static int Write(SafeHandle handle, ReadOnlySpan<byte> buffer, out int errno)
    {
        using var lease = new HandleLease(handle);
        if (lease.Fd < 0)
        {
            errno = Sys.EBADF;
            return -1;
        }

        return Write(lease.Fd, buffer, out errno);
    }

    /// <summary>A reference held on a handle for the duration of one call: its fd, or -1 when it is closed already.</summary>
    private ref struct HandleLease
    {
        private readonly SafeHandle _handle;
        private bool _added;

        public HandleLease(SafeHandle handle)
        {
            _handle = handle;
            Fd = -1;
            try
            {
                handle.DangerousAddRef(ref _added);
                Fd = (int)handle.DangerousGetHandle();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public int Fd { get; }

        public void Dispose()
        {
            if (_added)
            {
                _handle.DangerousRelease();
                _added = false;
            }
        }
    }

    /// <summary>
    /// poll(2) with a zero timeout: whether <paramref name="fd"/> is readable (or, with <paramref name="write"/>,
    /// writable) right now, counting error and hang-up as ready. Returns -1 with <paramref name="errno"/> on failure.
    /// </summary>
    public static int PollNow(int fd, bool write, out int errno)
    {
        pollfd entry = default;
        entry.fd = fd;
        entry.events = (short)(write ? POLLOUT : POLLIN | POLLRDHUP);
        int n = poll(&entry, 1, 0);
        if (n < 0)
        {
            errno = Sys.Errno;
            return -1;
        }

        errno = 0;
        return n > 0 && entry.revents != 0 ? 1 : 0;
    }

    /// <summary>Whether O_NONBLOCK is set on <paramref name="fd"/>; returns errno (0 on success).</summary>
    public static int GetNonBlocking(int fd, out bool nonBlocking)
    {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0)
        {
            nonBlocking = false;
            return Sys.Errno;
        }

        nonBlocking = (flags & O_NONBLOCK) != 0;
        return 0;
    }

    /// <summary>Sets or clears O_NONBLOCK on <paramref name="fd"/> (the open file description, shared with dups); returns errno (0 on success).</summary>
    public static int SetNonBlocking(int fd, bool nonBlocking)
    {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0)
        {
            return Sys.Errno;
        }

        int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        return wanted == flags || fcntl(fd, F_SETFL, wanted) == 0 ? 0 : Sys.Errno;
    }
}
