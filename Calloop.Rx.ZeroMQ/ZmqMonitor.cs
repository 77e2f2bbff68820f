using System.Reactive.Linq;

namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// The connection events of the socket of a <see cref="ZmqSource"/> (libzmq's <c>zmq_socket_monitor</c>): connected,
/// accepted, disconnected, closed, handshakes, each with its endpoint. Made by <see cref="ZmqSource.Monitor"/>.
/// </summary>
/// <remarks>
/// <para>It is a hot observable delivered on the loop thread, like every loop source: libzmq writes the events to an
/// inproc PAIR socket, which a second <see cref="ZmqSource"/> reads. The first subscriber starts reading, several
/// subscribers each get every event, and events that happen while nobody is subscribed wait for the next one
/// (without a limit: libzmq reports them with a blocking send, so a bounded queue would stall libzmq's I/O thread
/// once full). Only TCP, IPC and other stream transports have connections to report; inproc has none.</para>
/// <para>It ends with <c>OnCompleted</c> when the monitored source ends (removed, failed, or its loop disposed):
/// libzmq's monitor is stopped first, then the PAIR socket is closed, so libzmq never reports into a closed
/// socket.</para>
/// </remarks>
public sealed class ZmqMonitor : IObservable<ZmqMonitorEvent>
{
    private readonly ZmqSocket _socket;
    private readonly ZmqSocket _pair;
    private readonly ZmqSource _source;
    private readonly IObservable<ZmqMonitorEvent> _events;

    private ZmqMonitor(ZmqSocket socket, ZmqSocket pair, ZmqSource source)
    {
        _socket = socket;
        _pair = pair;
        _source = source;
        _events = source.Select(ZmqMonitorEvent.FromMessage);
    }

    /// <summary>Subscribes to the events; the first subscriber starts reading them.</summary>
    /// <returns>A handle whose disposal stops delivery to <paramref name="observer"/>.</returns>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IDisposable Subscribe(IObserver<ZmqMonitorEvent> observer) => _events.Subscribe(observer);

    /// <summary>Starts monitoring <paramref name="socket"/> and reading the events on <paramref name="loop"/>.</summary>
    internal static ZmqMonitor Start(EventLoop loop, ZmqSocket socket, ZmqMonitorEvents events)
    {
        string endpoint = $"inproc://calloop-monitor-{Guid.NewGuid():N}";
        var pair = new ZmqSocket(socket.Context, ZmqSocketType.Pair);
        try
        {
            // Unbounded (an inproc pipe is when either side's high-water mark is 0): see the remarks.
            pair.ReceiveHighWaterMark = 0;
            socket.StartMonitor(endpoint, events);
            try
            {
                pair.Connect(endpoint);

                // The PAIR stays open when its source ends: only Stop closes it, after libzmq stopped writing to it.
                var (sender, source) = ZmqSource.Create(loop, pair, new ZmqSourceOptions { LeaveSocketOpen = true });
                sender.Dispose();
                return new ZmqMonitor(socket, pair, source);
            }
            catch
            {
                socket.StopMonitor();
                throw;
            }
        }
        catch
        {
            pair.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The monitored source ended: stop libzmq's monitor, end the event source, close the PAIR. In this order
    /// because libzmq reports with a blocking send, which would hang for ever on a PAIR whose peer is gone.
    /// </summary>
    internal void Stop()
    {
        try
        {
            _socket.StopMonitor();
        }
        catch (Exception e) when (e is ZmqException or ObjectDisposedException)
        {
            // The context is shut down or the socket closed: libzmq has already stopped the monitor.
        }

        // Also during the loop's disposal: the completion is then delivered by its teardown.
        _source.Remove();

        _pair.Dispose();
    }
}
