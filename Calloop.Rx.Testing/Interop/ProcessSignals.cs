using System.Runtime.InteropServices;

namespace Calloop.Rx.Testing.Interop;

/// <summary>kill(2) on this process: .NET has no API that sends a catchable signal.</summary>
internal static partial class ProcessSignals
{
    /// <summary>Sends signal <paramref name="number"/> to this process.</summary>
    /// <exception cref="InvalidOperationException">kill failed (the message carries errno).</exception>
    public static void RaiseInProcess(int number)
    {
        if (Kill(Environment.ProcessId, number) != 0)
        {
            throw new InvalidOperationException($"kill({Environment.ProcessId}, {number}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
