using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Calloop.Rx;

public sealed partial class EventLoop
{
    /// <summary>
    /// Adapts a raw fd for <c>async</c> reads and writes driven by this loop (calloop's <c>adapt_io</c>); see
    /// <see cref="Calloop.Rx.AsyncFd"/>. The fd is set non-blocking until the adapter is disposed; the caller keeps it open
    /// until then and closes it afterwards.
    /// </summary>
    /// <exception cref="LoopException">The fd is not open, or epoll refuses it (a regular file, say).</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public AsyncFd AsyncFd(int fd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        ThrowIfDisposed();
        return new AsyncFd(this, fd, null, null);
    }

    /// <summary>Adapts the fd of <paramref name="handle"/> (kept alive by the adapter) for <c>async</c> reads and writes; see <see cref="AsyncFd(int)"/>.</summary>
    /// <exception cref="LoopException">The fd is not open, or epoll refuses it.</exception>
    /// <exception cref="ObjectDisposedException">The handle or the loop is disposed.</exception>
    public AsyncFd AsyncFd(SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ObjectDisposedException.ThrowIf(handle.IsClosed || handle.IsInvalid, handle);
        ThrowIfDisposed();
        return new AsyncFd(this, (int)handle.DangerousGetHandle(), handle, null);
    }

    /// <summary>
    /// Adapts a socket for <c>async</c> reads and writes on this loop; <see cref="Socket.Blocking"/> is set to false
    /// until the adapter is disposed. Do not also use the socket's own asynchronous methods meanwhile.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket or the loop is disposed.</exception>
    public AsyncFd AsyncFd(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        SafeHandle handle = socket.SafeHandle;
        ObjectDisposedException.ThrowIf(handle.IsClosed || handle.IsInvalid, socket);
        ThrowIfDisposed();
        return new AsyncFd(this, (int)handle.DangerousGetHandle(), handle, socket);
    }
}
