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
    /// measurable part of a zero-timeout dispatch (Tmds.LibC's declaration has the transition). It does not save
    /// errno either: after a failure the caller polls again through the declaration that does (a failed poll takes
    /// no events), so the error it reports is that call's.
    /// </summary>
    [LibraryImport("libc", EntryPoint = "epoll_wait")]
    [SuppressGCTransition]
    public static partial int EpollPoll(int epfd, epoll_event* events, int maxevents, int timeout);

    /// <summary>epoll_pwait2(2): like epoll_wait with a nanosecond timeout (glibc 2.35, Linux 5.11).</summary>
    [LibraryImport("libc", EntryPoint = "epoll_pwait2", SetLastError = true)]
    public static partial int EpollPwait2(int epfd, epoll_event* events, int maxevents, KernelTimespec* timeout, void* sigmask);

    /// <summary>timerfd_create(2).</summary>
    [LibraryImport("libc", EntryPoint = "timerfd_create", SetLastError = true)]
    public static partial int TimerFdCreate(int clockId, int flags);

    /// <summary>timerfd_settime(2).</summary>
    [LibraryImport("libc", EntryPoint = "timerfd_settime", SetLastError = true)]
    public static partial int TimerFdSetTime(int fd, int flags, ITimerSpec* newValue, ITimerSpec* oldValue);

    /// <summary>inotify_init1(2).</summary>
    [LibraryImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    public static partial int InotifyInit1(int flags);

    /// <summary>inotify_add_watch(2); the path is passed as UTF-8, as the runtime's own file APIs do.</summary>
    [LibraryImport("libc", EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int InotifyAddWatch(int fd, string path, uint mask);

    /// <summary>inotify_rm_watch(2).</summary>
    [LibraryImport("libc", EntryPoint = "inotify_rm_watch", SetLastError = true)]
    public static partial int InotifyRmWatch(int fd, int wd);

    /// <summary>syscall(2) with two arguments: for pidfd_open, which glibc declares only from 2.36.</summary>
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall2(long number, long arg1, long arg2);

    /// <summary>waitid(2); <paramref name="info"/> points at a 128-byte <c>siginfo_t</c>.</summary>
    [LibraryImport("libc", EntryPoint = "waitid", SetLastError = true)]
    public static partial int WaitId(int idType, uint id, void* info, int options);

    /// <summary>syscall(2) with four arguments: for pidfd_send_signal, which glibc declares only from 2.36.</summary>
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall4(long number, long arg1, long arg2, long arg3, long arg4);

    /// <summary>posix_spawn(3): returns the error number (0 on success) instead of setting errno.</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    public static partial int PosixSpawn(int* pid, nint path, void* fileActions, void* attributes, nint* argv, nint* envp);

    /// <summary>posix_spawnp(3): like <see cref="PosixSpawn"/>, searching this process's PATH for a name without a slash.</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawnp")]
    public static partial int PosixSpawnp(int* pid, nint file, void* fileActions, void* attributes, nint* argv, nint* envp);

    /// <summary>posix_spawn_file_actions_init(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    public static partial int SpawnFileActionsInit(void* fileActions);

    /// <summary>posix_spawn_file_actions_destroy(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    public static partial int SpawnFileActionsDestroy(void* fileActions);

    /// <summary>posix_spawn_file_actions_adddup2(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static partial int SpawnFileActionsAddDup2(void* fileActions, int fd, int newFd);

    /// <summary>posix_spawn_file_actions_addchdir_np(3) (glibc 2.29): the child changes directory before exec.</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SpawnFileActionsAddChdir(void* fileActions, string path);

    /// <summary>posix_spawnattr_init(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    public static partial int SpawnAttrInit(void* attributes);

    /// <summary>posix_spawnattr_destroy(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    public static partial int SpawnAttrDestroy(void* attributes);

    /// <summary>posix_spawnattr_setflags(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    public static partial int SpawnAttrSetFlags(void* attributes, short flags);

    /// <summary>posix_spawnattr_setsigmask(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    public static partial int SpawnAttrSetSigMask(void* attributes, void* sigset);

    /// <summary>posix_spawnattr_setsigdefault(3).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    public static partial int SpawnAttrSetSigDefault(void* attributes, void* sigset);

    /// <summary>sigemptyset(3).</summary>
    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    public static partial int SigEmptySet(void* sigset);

    /// <summary>sigfillset(3).</summary>
    [LibraryImport("libc", EntryPoint = "sigfillset")]
    public static partial int SigFillSet(void* sigset);

    /// <summary><c>CLOCK_MONOTONIC</c>, the clock <see cref="System.Diagnostics.Stopwatch"/> reads on Linux.</summary>
    public const int ClockMonotonic = 1;

    /// <summary><c>TFD_CLOEXEC</c> | <c>TFD_NONBLOCK</c> (the same bits as <c>O_CLOEXEC</c> | <c>O_NONBLOCK</c>).</summary>
    public const int TfdCloexecNonblock = 0x80000 | 0x800;

    /// <summary>The kernel's <c>struct timespec</c> on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct KernelTimespec
    {
        public long Seconds;
        public long Nanoseconds;

        /// <summary>A non-negative <see cref="TimeSpan"/> tick count as a timespec.</summary>
        public static KernelTimespec FromTicks(long ticks) => new()
        {
            Seconds = ticks / TimeSpan.TicksPerSecond,
            Nanoseconds = ticks % TimeSpan.TicksPerSecond * 100,
        };
    }

    /// <summary>The kernel's <c>struct itimerspec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ITimerSpec
    {
        public KernelTimespec Interval;
        public KernelTimespec Value;
    }
}
