namespace Calloop.Rx.ZeroMQ;

/// <summary>The <c>ZMQ_EVENT_*</c> kinds a <see cref="ZmqMonitor"/> reports; combine them to choose which to receive.</summary>
[Flags]
public enum ZmqMonitorEvents
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary><c>ZMQ_EVENT_CONNECTED</c>: a connect succeeded at the transport level. Value: the fd.</summary>
    Connected = 0x0001,

    /// <summary><c>ZMQ_EVENT_CONNECT_DELAYED</c>: a connect is in progress (not completed at once). Value: the errno.</summary>
    ConnectDelayed = 0x0002,

    /// <summary><c>ZMQ_EVENT_CONNECT_RETRIED</c>: a failed or lost connection will be retried. Value: the reconnect interval in milliseconds.</summary>
    ConnectRetried = 0x0004,

    /// <summary><c>ZMQ_EVENT_LISTENING</c>: a bind succeeded. Value: the listening fd.</summary>
    Listening = 0x0008,

    /// <summary><c>ZMQ_EVENT_BIND_FAILED</c>: a bind failed. Value: the errno.</summary>
    BindFailed = 0x0010,

    /// <summary><c>ZMQ_EVENT_ACCEPTED</c>: a bound socket accepted a connection. Value: the fd.</summary>
    Accepted = 0x0020,

    /// <summary><c>ZMQ_EVENT_ACCEPT_FAILED</c>: accepting a connection failed. Value: the errno.</summary>
    AcceptFailed = 0x0040,

    /// <summary><c>ZMQ_EVENT_CLOSED</c>: a connection's or listener's fd was closed. Value: the fd.</summary>
    Closed = 0x0080,

    /// <summary><c>ZMQ_EVENT_CLOSE_FAILED</c>: closing an fd failed. Value: the errno.</summary>
    CloseFailed = 0x0100,

    /// <summary><c>ZMQ_EVENT_DISCONNECTED</c>: an established connection was lost (the peer went away or broke the protocol). Value: the fd.</summary>
    Disconnected = 0x0200,

    /// <summary><c>ZMQ_EVENT_MONITOR_STOPPED</c>: monitoring ended. Value: 0.</summary>
    MonitorStopped = 0x0400,

    /// <summary><c>ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL</c>: the ZMTP handshake failed (for example the peer vanished). Value: the errno.</summary>
    HandshakeFailedNoDetail = 0x0800,

    /// <summary><c>ZMQ_EVENT_HANDSHAKE_SUCCEEDED</c>: the ZMTP handshake completed: the connection carries messages from now on. Value: 0.</summary>
    HandshakeSucceeded = 0x1000,

    /// <summary><c>ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL</c>: the peer broke the ZMTP protocol. Value: a <c>ZMQ_PROTOCOL_ERROR_*</c> code.</summary>
    HandshakeFailedProtocol = 0x2000,

    /// <summary><c>ZMQ_EVENT_HANDSHAKE_FAILED_AUTH</c>: the peer failed authentication. Value: the ZAP status code.</summary>
    HandshakeFailedAuth = 0x4000,

    /// <summary><c>ZMQ_EVENT_ALL</c>: everything.</summary>
    All = 0xFFFF,
}
