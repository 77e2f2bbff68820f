using System.Runtime.InteropServices;

namespace Calloop.Rx;

/// <summary>
/// Unix signals seen by a <see cref="EventLoop.Signals(PosixSignal[])"/> source: one event per signal number and
/// dispatch, with the number of deliveries folded into it.
/// </summary>
/// <param name="Number">The Linux signal number (for example 10 for SIGUSR1).</param>
/// <param name="Count">How many times the signal arrived since the previous event (the kernel may merge some before that).</param>
/// <param name="Time">Loop time when the loop saw it.</param>
public readonly record struct SignalEvent(int Number, int Count, DateTimeOffset Time)
{
    /// <summary>The signal as a <see cref="PosixSignal"/>: the named member when .NET has one, else the raw number.</summary>
    public PosixSignal Signal => SignalNames.ToPosixSignal(Number);
}
