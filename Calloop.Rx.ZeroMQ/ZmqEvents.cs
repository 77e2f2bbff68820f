namespace Calloop.Rx.ZeroMQ;

/// <summary>The <c>ZMQ_EVENTS</c> bits: what the socket can do now without blocking.</summary>
[Flags]
public enum ZmqEvents
{
    /// <summary>Nothing: neither a message to receive nor room to send.</summary>
    None = 0,

    /// <summary><c>ZMQ_POLLIN</c>: at least one whole message can be received.</summary>
    In = 1,

    /// <summary><c>ZMQ_POLLOUT</c>: at least one message can be sent.</summary>
    Out = 2,

    /// <summary><c>ZMQ_POLLERR</c>.</summary>
    Error = 4,
}
