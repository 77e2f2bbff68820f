using System.Runtime.InteropServices;

namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// <c>ZMQ_FD</c> wrapped so that the loop can hold it: the handle value is the fd, and the handle keeps a reference
/// on its <see cref="ZmqSocket"/>. libzmq closes that fd (from its reaper thread) only after <c>zmq_close</c>, and
/// <c>zmq_close</c> waits for this reference, so while the loop has the fd registered (and add-ref'd) it cannot be
/// closed or reused underneath epoll. Releasing the handle never closes the fd.
/// </summary>
internal sealed class ZmqFdHandle : SafeHandle
{
    private readonly ZmqSocket _socket;

    public ZmqFdHandle(ZmqSocket socket, int fd)
        : base(new IntPtr(-1), ownsHandle: true)
    {
        bool added = false;
        socket.DangerousAddRef(ref added);
        _socket = socket;
        SetHandle(new IntPtr(fd));
    }

    public override bool IsInvalid => handle.ToInt64() < 0;

    protected override bool ReleaseHandle()
    {
        _socket.DangerousRelease();
        return true;
    }
}
