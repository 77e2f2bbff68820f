using Tmds.Linux;

namespace Calloop.Rx.Samples.Interop;

/// <summary>The samples' only libc call: a process sending a signal to itself (for the signals sample's self-test).</summary>
internal static class SelfSignal
{
    /// <summary>Sends SIGTERM to this process, as <c>kill -TERM $pid</c> from a shell would.</summary>
    public static void Terminate() => Send(LibC.SIGTERM);

    /// <summary>Sends SIGUSR1 to this process.</summary>
    public static void User1() => Send(LibC.SIGUSR1);

    private static void Send(int signal)
    {
        if (LibC.kill(LibC.getpid(), signal) != 0)
        {
            throw new InvalidOperationException($"kill({signal}) failed: errno {LibC.errno}");
        }
    }
}
