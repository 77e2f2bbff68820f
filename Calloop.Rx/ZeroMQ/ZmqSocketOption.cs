namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// Socket options by their zmq.h number, for <see cref="ZmqSocket.SetOption(ZmqSocketOption, int)"/> and friends.
/// Any other option can be passed as a cast number, e.g. <c>(ZmqSocketOption)80</c> for <c>ZMQ_TCP_MAXRT</c>.
/// </summary>
public enum ZmqSocketOption
{
    /// <summary><c>ZMQ_ROUTING_ID</c> (bytes, 1–255): how a ROUTER peer addresses this socket.</summary>
    RoutingId = 5,

    /// <summary><c>ZMQ_SUBSCRIBE</c> (bytes): a topic prefix for SUB sockets.</summary>
    Subscribe = 6,

    /// <summary><c>ZMQ_UNSUBSCRIBE</c> (bytes).</summary>
    Unsubscribe = 7,

    /// <summary><c>ZMQ_RCVMORE</c> (int, read-only): the frame just received has more frames after it.</summary>
    ReceiveMore = 13,

    /// <summary><c>ZMQ_FD</c> (int, read-only): the edge-triggered notification fd.</summary>
    Fd = 14,

    /// <summary><c>ZMQ_EVENTS</c> (int, read-only): <see cref="ZmqEvents"/>.</summary>
    Events = 15,

    /// <summary><c>ZMQ_TYPE</c> (int, read-only).</summary>
    Type = 16,

    /// <summary><c>ZMQ_LINGER</c> (int milliseconds, -1 forever): how long unsent messages survive <c>zmq_close</c>.</summary>
    Linger = 17,

    /// <summary><c>ZMQ_RECONNECT_IVL</c> (int milliseconds).</summary>
    ReconnectInterval = 18,

    /// <summary><c>ZMQ_SNDHWM</c> (int messages, 0 unlimited).</summary>
    SendHighWaterMark = 23,

    /// <summary><c>ZMQ_RCVHWM</c> (int messages, 0 unlimited).</summary>
    ReceiveHighWaterMark = 24,

    /// <summary><c>ZMQ_RCVTIMEO</c> (int milliseconds, -1 forever): for blocking receives.</summary>
    ReceiveTimeout = 27,

    /// <summary><c>ZMQ_SNDTIMEO</c> (int milliseconds, -1 forever): for blocking sends.</summary>
    SendTimeout = 28,

    /// <summary><c>ZMQ_LAST_ENDPOINT</c> (string, read-only): the endpoint last bound, with the real port of a wildcard.</summary>
    LastEndpoint = 32,

    /// <summary><c>ZMQ_ROUTER_MANDATORY</c> (int 0/1): a ROUTER reports EHOSTUNREACH instead of dropping.</summary>
    RouterMandatory = 33,

    /// <summary><c>ZMQ_IMMEDIATE</c> (int 0/1): queue only to completed connections.</summary>
    Immediate = 39,

    /// <summary><c>ZMQ_XPUB_VERBOSE</c> (int 0/1): pass every subscription, not only new ones.</summary>
    XPubVerbose = 40,

    /// <summary><c>ZMQ_ROUTER_HANDOVER</c> (int 0/1): a new connection with a routing id already in use takes it over.</summary>
    RouterHandover = 56,
}
