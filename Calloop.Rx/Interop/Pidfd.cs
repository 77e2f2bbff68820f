using System.Runtime.InteropServices;

namespace Calloop.Rx.Interop;

/// <summary>
/// pidfd_open(2) and the exit status read through a pidfd with waitid(2). The status is only looked at
/// (<c>WNOWAIT</c>), never collected: the child stays for whoever started it to reap, because the .NET runtime ends
/// the whole process (<c>Environment.FailFast</c>) when a child it started via <c>Process.Start</c> was reaped by
/// someone else.
/// </summary>
internal static unsafe class Pidfd
{
    public static int ESRCH => Tmds.Linux.LibC.ESRCH;

    public static int ECHILD => Tmds.Linux.LibC.ECHILD;

    // The same number on x86_64 and aarch64 (the unified syscall table from Linux 5.1 on).
    private const long SysPidfdOpen = 434;
    private const int PPidfd = 3;
    private const int WNoHang = 0x1;
    private const int WExited = 0x4;
    private const int WNoWait = 0x0100_0000;
    private const int CldExited = 1;
    private const int CldKilled = 2;
    private const int CldDumped = 3;

    /// <summary>A close-on-exec pidfd for <paramref name="pid"/>; -1 with errno set on failure (ESRCH: no such process).</summary>
    public static int Open(int pid) => (int)NativeMethods.Syscall2(SysPidfdOpen, pid, 0);

    /// <summary>
    /// Reads how the process behind <paramref name="pidfd"/> ended without reaping it. Returns 0 and the status;
    /// 0 with both null when the status cannot be read (not our child, or already reaped: ECHILD; or not yet
    /// waitable); else errno.
    /// </summary>
    public static int PeekExit(int pidfd, out int? exitCode, out int? signal, out bool coreDumped)
    {
        exitCode = null;
        signal = null;
        coreDumped = false;
        SigInfo info = default;
        if (NativeMethods.WaitId(PPidfd, (uint)pidfd, &info, WExited | WNoHang | WNoWait) != 0)
        {
            int errno = Sys.Errno;
            return errno == ECHILD ? 0 : errno;
        }

        // WNOHANG with nothing waitable leaves si_pid zero.
        if (info.Pid != 0)
        {
            switch (info.Code)
            {
                case CldExited:
                    exitCode = info.Status;
                    break;
                case CldKilled:
                case CldDumped:
                    signal = info.Status;
                    coreDumped = info.Code == CldDumped;
                    break;
            }
        }

        return 0;
    }

    /// <summary>The start of the kernel's 128-byte <c>siginfo_t</c> as filled for SIGCHLD, padded to its full size.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct SigInfo
    {
        [FieldOffset(8)]
        public int Code;

        [FieldOffset(16)]
        public int Pid;

        [FieldOffset(24)]
        public int Status;
    }
}
