using System.Runtime.InteropServices;

namespace Calloop.Rx.Interop;

/// <summary>
/// pidfd_open(2), pidfd_send_signal(2) and the exit status read through a pidfd with waitid(2). For a process the
/// loop only watches, the status is only looked at (<c>WNOWAIT</c>), never collected: the child stays for whoever
/// started it to reap, because the .NET runtime ends the whole process (<c>Environment.FailFast</c>) when a child it
/// started via <c>Process.Start</c> was reaped by someone else. A child the loop started itself it reaps.
/// </summary>
internal static unsafe class Pidfd
{
    public static int ESRCH => Tmds.Linux.LibC.ESRCH;

    public static int ECHILD => Tmds.Linux.LibC.ECHILD;

    // The same number on x86_64 and aarch64 (the unified syscall table from Linux 5.1 on).
    private const long SysPidfdOpen = 434;
    private const long SysPidfdSendSignal = 424;
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
    public static int PeekExit(int pidfd, out int? exitCode, out int? signal, out bool coreDumped) =>
        WaitExit(pidfd, WExited | WNoHang | WNoWait, out _, out exitCode, out signal, out coreDumped);

    /// <summary>
    /// Collects (reaps) the exited child behind <paramref name="pidfd"/>, waiting for it to exit only with
    /// <paramref name="block"/> (retrying on EINTR). Returns 0 with <paramref name="reaped"/> false when it has not
    /// exited yet (without <paramref name="block"/>); with <paramref name="reaped"/> true and both null when someone
    /// else collected it (ECHILD: nothing is left to reap, the status is unknown); else errno.
    /// </summary>
    public static int Reap(int pidfd, bool block, out bool reaped, out int? exitCode, out int? signal, out bool coreDumped)
    {
        int errno;
        do
        {
            errno = WaitExit(pidfd, block ? WExited : WExited | WNoHang, out reaped, out exitCode, out signal, out coreDumped);
        }
        while (errno == Sys.EINTR);

        return errno;
    }

    /// <summary>
    /// Whether the live process behind <paramref name="pidfd"/> is not a child of this one: waitid says ECHILD, yet the
    /// process is still there (signal 0 reaches it, or is refused for permission). A child of ours that someone else
    /// reaped in between (the runtime reaps its <c>Process.Start</c> children) is gone, so it does not count.
    /// </summary>
    public static bool IsNotOurChild(int pidfd)
    {
        SigInfo info = default;
        if (NativeMethods.WaitId(PPidfd, (uint)pidfd, &info, WExited | WNoHang | WNoWait) == 0 || Sys.Errno != ECHILD)
        {
            return false;
        }

        return SendSignal(pidfd, 0) != ESRCH;
    }

    /// <summary>pidfd_send_signal(2): 0, or errno (ESRCH once the process has been reaped).</summary>
    public static int SendSignal(int pidfd, int signal) =>
        NativeMethods.Syscall4(SysPidfdSendSignal, pidfd, signal, 0, 0) == 0 ? 0 : Sys.Errno;

    /// <summary>waitid(P_PIDFD) with <paramref name="options"/>; <paramref name="waited"/>: the exit was found, or ECHILD says there is none to find.</summary>
    private static int WaitExit(int pidfd, int options, out bool waited, out int? exitCode, out int? signal, out bool coreDumped)
    {
        waited = false;
        exitCode = null;
        signal = null;
        coreDumped = false;
        SigInfo info = default;
        if (NativeMethods.WaitId(PPidfd, (uint)pidfd, &info, options) != 0)
        {
            int errno = Sys.Errno;
            waited = errno == ECHILD;
            return waited ? 0 : errno;
        }

        // WNOHANG with nothing waitable leaves si_pid zero.
        if (info.Pid != 0)
        {
            waited = true;
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
