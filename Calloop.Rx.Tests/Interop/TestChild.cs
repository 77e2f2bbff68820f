using System.Runtime.InteropServices;

namespace Calloop.Rx.Tests.Interop;

/// <summary>
/// A child process started with posix_spawn, so that the .NET runtime does not track it and never reaps it: its exit
/// status stays readable until <see cref="Reap"/> (or disposal) collects it. Disposal kills a child still running and
/// reaps it, so no test leaves a zombie behind.
/// </summary>
internal sealed unsafe partial class TestChild : IDisposable
{
    private const int WNoHang = 0x1;
    private const int WExited = 0x4;
    private const int WNoWait = 0x0100_0000;
    private const int PPid = 1;
    private const int SigKill = 9;
    private bool _reaped;

    private TestChild(int pid)
    {
        Pid = pid;
    }

    public int Pid { get; }

    /// <summary>Starts <c>/bin/sh -c <paramref name="script"/></c> with an empty environment.</summary>
    public static TestChild Shell(string script)
    {
        string[] argv = ["/bin/sh", "-c", script];
        nint[] args = new nint[argv.Length + 1];
        try
        {
            for (int i = 0; i < argv.Length; i++)
            {
                args[i] = Marshal.StringToCoTaskMemUTF8(argv[i]);
            }

            nint noEnvironment = 0;
            int pid;
            fixed (nint* argp = args)
            {
                int error = PosixSpawn(&pid, args[0], null, null, argp, &noEnvironment);
                if (error != 0)
                {
                    throw new InvalidOperationException($"posix_spawn failed: errno {error}");
                }
            }

            return new TestChild(pid);
        }
        finally
        {
            foreach (nint arg in args)
            {
                Marshal.FreeCoTaskMem(arg);
            }
        }
    }

    /// <summary>Sends <paramref name="signal"/> to the child.</summary>
    public void Kill(int signal)
    {
        if (KillProcess(Pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits (bounded) until the child has exited, leaving its status uncollected.</summary>
    public void WaitExitedNotReaped(TimeSpan timeout)
    {
        int pid = Pid;
        Task waiting = Task.Factory.StartNew(
            () =>
            {
                byte* info = stackalloc byte[128];
                int result;
                do
                {
                    result = WaitId(PPid, (uint)pid, info, WExited | WNoWait);
                }
                while (result != 0 && Marshal.GetLastPInvokeError() == 4);
            },
            TaskCreationOptions.LongRunning);
        Assert.True(waiting.Wait(timeout), $"child {Pid} did not exit");
    }

    /// <summary>Whether the child has not exited yet (waitid with WNOHANG and WNOWAIT finds nothing to report).</summary>
    public bool IsRunning
    {
        get
        {
            byte* info = stackalloc byte[128];
            new Span<byte>(info, 128).Clear();
            if (WaitId(PPid, (uint)Pid, info, WExited | WNoHang | WNoWait) != 0)
            {
                throw new InvalidOperationException($"waitid failed: errno {Marshal.GetLastPInvokeError()}");
            }

            // si_pid, at offset 16, stays zero when nothing is waitable.
            return *(int*)(info + 16) == 0;
        }
    }

    /// <summary>Collects the exited child's status (blocking until it exits); the raw wait status.</summary>
    public int Reap()
    {
        int status;
        int result;
        do
        {
            result = WaitPid(Pid, &status, 0);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == 4);

        if (result != Pid)
        {
            throw new InvalidOperationException($"waitpid failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _reaped = true;
        return status;
    }

    public void Dispose()
    {
        if (!_reaped)
        {
            KillProcess(Pid, SigKill);
            Reap();
        }
    }

    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    private static partial int PosixSpawn(int* pid, nint path, void* fileActions, void* attributes, nint* argv, nint* envp);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport("libc", EntryPoint = "waitid", SetLastError = true)]
    private static partial int WaitId(int idType, uint id, void* info, int options);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillProcess(int pid, int signal);
}
