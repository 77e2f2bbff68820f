using System.Runtime.InteropServices;
using System.Text;
using static Tmds.Linux.LibC;

namespace Calloop.Rx.Interop;

/// <summary>
/// Starting a child with posix_spawn(3) and the fds it is given. Every fd made here is close-on-exec, so a child
/// started at the same time by another thread (<c>Process.Start</c> included) inherits none of them; the child gets
/// its standard fds through dup2 file actions, which clear close-on-exec on the copies only. Each method returns
/// errno (0 on success), as the rest of <c>Interop/</c> does.
/// </summary>
internal static unsafe class ProcessSpawn
{
    public static int SIGKILL => Tmds.Linux.LibC.SIGKILL;

    private const short SpawnSetSigDef = 0x04;
    private const short SpawnSetSigMask = 0x08;

    // glibc's posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336 and sigset_t 128 on 64-bit Linux;
    // allocated with room to spare.
    private const int FileActionsSize = 256;
    private const int AttributesSize = 512;
    private const int SigSetSize = 128;

    /// <summary>
    /// A close-on-exec pipe whose parent end is non-blocking (for the loop) and whose child end stays blocking (what
    /// programs expect of their standard fds). <paramref name="parentReads"/> says which end the parent keeps.
    /// </summary>
    public static int CreatePipe(bool parentReads, out int parentEnd, out int childEnd)
    {
        parentEnd = -1;
        childEnd = -1;
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
        {
            return Sys.Errno;
        }

        parentEnd = parentReads ? fds[0] : fds[1];
        childEnd = parentReads ? fds[1] : fds[0];
        int errno = FdIo.SetNonBlocking(parentEnd, nonBlocking: true);
        if (errno != 0)
        {
            Sys.Close(parentEnd);
            Sys.Close(childEnd);
            parentEnd = -1;
            childEnd = -1;
        }

        return errno;
    }

    /// <summary>/dev/null opened for reading and writing, close-on-exec.</summary>
    public static int OpenNull(out int fd)
    {
        fixed (byte* path = "/dev/null\0"u8)
        {
            fd = open(path, O_RDWR | O_CLOEXEC, 0);
        }

        return fd < 0 ? Sys.Errno : 0;
    }

    /// <summary>Whether <paramref name="path"/> is a directory this process may enter (searched, as chdir would).</summary>
    public static int CheckDirectory(string path)
    {
        byte[] bytes = Utf8Z(path);
        fixed (byte* p = bytes)
        {
            int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
            if (fd < 0)
            {
                return Sys.Errno;
            }

            Sys.Close(fd);
            return 0;
        }
    }

    /// <summary>
    /// Starts <paramref name="file"/> with <paramref name="argv"/> and <paramref name="environment"/> ("NAME=value"
    /// entries); the child's fds 0, 1 and 2 are <paramref name="standardFds"/>' entries, or this process's own where
    /// an entry is -1. Every signal is reset to its default action and none is blocked in the child: the runtime
    /// ignores SIGPIPE and the loop may block signals, and both would otherwise survive exec. glibc reports a failed
    /// exec (no such file, not executable) as the result, so a failure means no child was left behind.
    /// </summary>
    public static int Start(string file, IReadOnlyList<string> argv, IReadOnlyList<string> environment, string? workingDirectory, ReadOnlySpan<int> standardFds, out int pid)
    {
        pid = 0;
        nint[] args = new nint[argv.Count + 1];
        nint[] envp = new nint[environment.Count + 1];
        nint path = 0;
        byte* fileActions = (byte*)NativeMemory.AllocZeroed(FileActionsSize);
        byte* attributes = (byte*)NativeMemory.AllocZeroed(AttributesSize);
        byte* signals = (byte*)NativeMemory.AllocZeroed(SigSetSize);
        bool actionsMade = false;
        bool attributesMade = false;
        try
        {
            for (int i = 0; i < argv.Count; i++)
            {
                args[i] = Marshal.StringToCoTaskMemUTF8(argv[i]);
            }

            for (int i = 0; i < environment.Count; i++)
            {
                envp[i] = Marshal.StringToCoTaskMemUTF8(environment[i]);
            }

            path = Marshal.StringToCoTaskMemUTF8(file);
            int error = NativeMethods.SpawnFileActionsInit(fileActions);
            if (error != 0)
            {
                return error;
            }

            actionsMade = true;
            for (int target = 0; target < standardFds.Length; target++)
            {
                if (standardFds[target] >= 0 && (error = NativeMethods.SpawnFileActionsAddDup2(fileActions, standardFds[target], target)) != 0)
                {
                    return error;
                }
            }

            if (workingDirectory is not null && (error = NativeMethods.SpawnFileActionsAddChdir(fileActions, workingDirectory)) != 0)
            {
                return error;
            }

            if ((error = NativeMethods.SpawnAttrInit(attributes)) != 0)
            {
                return error;
            }

            attributesMade = true;
            NativeMethods.SigFillSet(signals);
            NativeMethods.SpawnAttrSetSigDefault(attributes, signals);
            NativeMethods.SigEmptySet(signals);
            NativeMethods.SpawnAttrSetSigMask(attributes, signals);
            NativeMethods.SpawnAttrSetFlags(attributes, SpawnSetSigDef | SpawnSetSigMask);
            int child;
            fixed (nint* argp = args)
            fixed (nint* envpp = envp)
            {
                error = file.Contains('/', StringComparison.Ordinal)
                    ? NativeMethods.PosixSpawn(&child, path, fileActions, attributes, argp, envpp)
                    : NativeMethods.PosixSpawnp(&child, path, fileActions, attributes, argp, envpp);
            }

            if (error == 0)
            {
                pid = child;
            }

            return error;
        }
        finally
        {
            if (attributesMade)
            {
                NativeMethods.SpawnAttrDestroy(attributes);
            }

            if (actionsMade)
            {
                NativeMethods.SpawnFileActionsDestroy(fileActions);
            }

            NativeMemory.Free(fileActions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(signals);
            Marshal.FreeCoTaskMem(path);
            foreach (nint arg in args)
            {
                Marshal.FreeCoTaskMem(arg);
            }

            foreach (nint entry in envp)
            {
                Marshal.FreeCoTaskMem(entry);
            }
        }
    }

    /// <summary>
    /// For a child whose pidfd could not be opened (out of fds): kills and reaps it by number, which is still its
    /// own because nobody has reaped it yet.
    /// </summary>
    public static void KillAndReap(int pid)
    {
        const int PPid = 1;
        const int WExited = 0x4;
        kill(pid, SIGKILL);
        byte* info = stackalloc byte[128];
        while (NativeMethods.WaitId(PPid, (uint)pid, info, WExited) < 0 && Sys.Errno == Sys.EINTR)
        {
        }
    }

    private static byte[] Utf8Z(string text)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}
