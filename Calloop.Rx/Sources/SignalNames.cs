using System.Runtime.InteropServices;
using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>Conversions between <see cref="PosixSignal"/> (named members are negative placeholders) and Linux numbers.</summary>
internal static class SignalNames
{
    private static readonly PosixSignal[] s_named =
    [
        PosixSignal.SIGHUP, PosixSignal.SIGINT, PosixSignal.SIGQUIT, PosixSignal.SIGTERM, PosixSignal.SIGCHLD,
        PosixSignal.SIGCONT, PosixSignal.SIGWINCH, PosixSignal.SIGTTIN, PosixSignal.SIGTTOU, PosixSignal.SIGTSTP,
    ];

    public static int ToNumber(PosixSignal signal) => Sys.SignalNumber(signal);

    public static PosixSignal ToPosixSignal(int number)
    {
        foreach (PosixSignal named in s_named)
        {
            if (Sys.SignalNumber(named) == number)
            {
                return named;
            }
        }

        return (PosixSignal)number;
    }
}
