using System.Runtime.InteropServices;

namespace Calloop.Rx.Interop;

/// <summary>
/// An fd the loop opened itself (epoll, eventfd). Unlike <c>SafeHandleZeroOrMinusOneIsInvalid</c>, fd 0 is valid.
/// Reference counting through <see cref="SafeHandle"/> means a read or write racing a close never touches a
/// reused fd number.
/// </summary>
internal sealed class FdHandle : SafeHandle
{
    public FdHandle(int fd)
        : base(new IntPtr(-1), ownsHandle: true)
    {
        SetHandle(new IntPtr(fd));
    }

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The fd number, for messages and epoll registration.</summary>
    public int Fd => (int)handle.ToInt64();

    // close(2) is never retried on EINTR: the number may already belong to someone else.
    protected override bool ReleaseHandle() => Sys.Close(Fd) == 0;
}
