using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Calloop.Rx.Interop;

/// <summary>
/// The few libc entry points Tmds.LibC does not declare. Kept in this one file on purpose.
/// </summary>
internal static unsafe partial class NativeMethods
{
    /// <summary>
    /// epoll_wait(2) for a zero timeout only: it never blocks, so the call skips the runtime's GC-mode transition, a
    /// measurable part of a zero-timeout dispatch (Tmds.LibC's declaration has the transition). Without the
    /// transition no runtime code runs between the call and its caller, so the caller reads errno after a failure
    /// (<see cref="Marshal.GetLastSystemError"/>) instead of having it saved on every call.
    /// </summary>
    [LibraryImport("libc", EntryPoint = "epoll_wait")]
    [SuppressGCTransition]
    public static partial int EpollPoll(int epfd, epoll_event* events, int maxevents, int timeout);

    /// <summary>epoll_pwait2(2): like epoll_wait with a nanosecond timeout (glibc 2.35, Linux 5.11).</summary>
    [LibraryImport("libc", EntryPoint = "epoll_pwait2", SetLastError = true)]
    public static partial int EpollPwait2(int epfd, epoll_event* events, int maxevents, KernelTimespec* timeout, void* sigmask);

    /// <summary>The kernel's <c>struct timespec</c> on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct KernelTimespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
