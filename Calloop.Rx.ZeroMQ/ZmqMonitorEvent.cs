using System.Runtime.InteropServices;
using System.Text;

namespace Calloop.Rx.ZeroMQ;

/// <summary>One event of a <see cref="ZmqMonitor"/>: what happened, its value, and on which endpoint.</summary>
/// <param name="Kind">What happened: a single <see cref="ZmqMonitorEvents"/> flag.</param>
/// <param name="Value">The event's number: an fd, an errno, an interval or a code, as <see cref="ZmqMonitorEvents"/> says for each kind.</param>
/// <param name="Endpoint">
/// The endpoint concerned as libzmq names it, e.g. <c>tcp://127.0.0.1:5555</c>: the one connected to, or the
/// one bound for <see cref="ZmqMonitorEvents.Accepted"/> and its followers; empty for <see cref="ZmqMonitorEvents.MonitorStopped"/>.
/// </param>
public readonly record struct ZmqMonitorEvent(ZmqMonitorEvents Kind, int Value, string Endpoint)
{
    /// <summary>
    /// Decodes libzmq's two frames: a 16-bit event and a 32-bit value in the host's byte order (libzmq copies them
    /// from memory), then the endpoint.
    /// </summary>
    /// <exception cref="FormatException">The message is not a monitor event.</exception>
    internal static ZmqMonitorEvent FromMessage(byte[][] message)
    {
        if (message.Length != 2 || message[0].Length != 6)
        {
            throw new FormatException($"Not a ZeroMQ monitor event: {message.Length} frames, the first of {(message.Length > 0 ? message[0].Length : 0)} bytes.");
        }

        ReadOnlySpan<byte> head = message[0];
        ushort kind = MemoryMarshal.Read<ushort>(head);
        int value = MemoryMarshal.Read<int>(head[2..]);
        return new ZmqMonitorEvent((ZmqMonitorEvents)kind, value, Encoding.UTF8.GetString(message[1]));
    }
}
