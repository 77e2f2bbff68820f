namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// Socket options by their zmq.h number, for <see cref="ZmqSocket.SetOption(ZmqSocketOption, int)"/> and friends.
/// The common ones are named; any other can be passed as a cast number, e.g. <c>(ZmqSocketOption)57</c> for
/// <c>ZMQ_TOS</c>. Options marked write-only cannot be read back with <see cref="ZmqSocket.GetInt32"/> (libzmq
/// answers <c>EINVAL</c>).
/// </summary>
public enum ZmqSocketOption
{
    /// <summary><c>ZMQ_ROUTING_ID</c> (bytes, 1–255): how a ROUTER peer addresses this socket.</summary>
    RoutingId = 5,

    /// <summary><c>ZMQ_SUBSCRIBE</c> (bytes): a topic prefix for SUB sockets.</summary>
    Subscribe = 6,

    /// <summary><c>ZMQ_UNSUBSCRIBE</c> (bytes).</summary>
    Unsubscribe = 7,

    /// <summary><c>ZMQ_RATE</c> (int kilobits per second): the multicast data rate.</summary>
    Rate = 8,

    /// <summary><c>ZMQ_RECOVERY_IVL</c> (int milliseconds): the multicast recovery interval.</summary>
    RecoveryInterval = 9,

    /// <summary><c>ZMQ_SNDBUF</c> (int bytes, -1 for the OS default): the kernel send buffer.</summary>
    SendBuffer = 11,

    /// <summary><c>ZMQ_RCVBUF</c> (int bytes, -1 for the OS default): the kernel receive buffer.</summary>
    ReceiveBuffer = 12,

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

    /// <summary><c>ZMQ_BACKLOG</c> (int): the queue of pending connections of a bound socket.</summary>
    Backlog = 19,

    /// <summary><c>ZMQ_RECONNECT_IVL_MAX</c> (int milliseconds, 0 for no backoff): the longest reconnection interval.</summary>
    ReconnectIntervalMax = 21,

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

    /// <summary><c>ZMQ_ROUTER_MANDATORY</c> (int 0/1, write-only): a ROUTER reports EHOSTUNREACH instead of dropping.</summary>
    RouterMandatory = 33,

    /// <summary><c>ZMQ_TCP_KEEPALIVE</c> (int -1 OS default, 0 off, 1 on): <c>SO_KEEPALIVE</c>.</summary>
    TcpKeepalive = 34,

    /// <summary><c>ZMQ_TCP_KEEPALIVE_CNT</c> (int, -1 OS default): <c>TCP_KEEPCNT</c>.</summary>
    TcpKeepaliveCount = 35,

    /// <summary><c>ZMQ_TCP_KEEPALIVE_IDLE</c> (int seconds, -1 OS default): <c>TCP_KEEPIDLE</c>.</summary>
    TcpKeepaliveIdle = 36,

    /// <summary><c>ZMQ_TCP_KEEPALIVE_INTVL</c> (int seconds, -1 OS default): <c>TCP_KEEPINTVL</c>.</summary>
    TcpKeepaliveInterval = 37,

    /// <summary><c>ZMQ_IMMEDIATE</c> (int 0/1): queue only to completed connections.</summary>
    Immediate = 39,

    /// <summary><c>ZMQ_XPUB_VERBOSE</c> (int 0/1, write-only): pass every subscription, not only new ones.</summary>
    XPubVerbose = 40,

    /// <summary><c>ZMQ_IPV6</c> (int 0/1): use IPv6 as well as IPv4 on tcp endpoints.</summary>
    IPv6 = 42,

    /// <summary><c>ZMQ_PROBE_ROUTER</c> (int 0/1, write-only): send an empty message on connect, so a ROUTER peer learns this socket's routing id.</summary>
    ProbeRouter = 51,

    /// <summary><c>ZMQ_REQ_CORRELATE</c> (int 0/1, write-only): a REQ matches replies to requests by a request id.</summary>
    ReqCorrelate = 52,

    /// <summary><c>ZMQ_REQ_RELAXED</c> (int 0/1, write-only): a REQ may send again without waiting for the reply.</summary>
    ReqRelaxed = 53,

    /// <summary><c>ZMQ_CONFLATE</c> (int 0/1): keep only the last message in each queue (single-frame messages only).</summary>
    Conflate = 54,

    /// <summary><c>ZMQ_ROUTER_HANDOVER</c> (int 0/1, write-only): a new connection with a routing id already in use takes it over.</summary>
    RouterHandover = 56,

    /// <summary><c>ZMQ_CONNECT_ROUTING_ID</c> (bytes, write-only): the routing id a ROUTER gives the peer of its next connect.</summary>
    ConnectRoutingId = 61,

    /// <summary><c>ZMQ_HANDSHAKE_IVL</c> (int milliseconds, 0 for none): the longest a ZMTP handshake may take.</summary>
    HandshakeInterval = 66,

    /// <summary><c>ZMQ_XPUB_NODROP</c> (int 0/1, write-only): an XPUB at a subscriber's high-water mark refuses the send (<c>EAGAIN</c>) instead of dropping.</summary>
    XPubNoDrop = 69,

    /// <summary><c>ZMQ_XPUB_MANUAL</c> (int 0/1, write-only): an XPUB passes subscriptions to its application and applies only those it sets itself.</summary>
    XPubManual = 71,

    /// <summary><c>ZMQ_XPUB_WELCOME_MSG</c> (bytes, write-only): what an XPUB sends each new subscriber.</summary>
    XPubWelcomeMessage = 72,

    /// <summary><c>ZMQ_INVERT_MATCHING</c> (int 0/1): a PUB, XPUB or SUB delivers what does not match the subscriptions.</summary>
    InvertMatching = 74,

    /// <summary><c>ZMQ_HEARTBEAT_IVL</c> (int milliseconds, 0 off): send a ZMTP PING this often.</summary>
    HeartbeatInterval = 75,

    /// <summary><c>ZMQ_HEARTBEAT_TTL</c> (int milliseconds, multiple of 100): how long the peer may wait for the next PING before it disconnects.</summary>
    HeartbeatTtl = 76,

    /// <summary><c>ZMQ_HEARTBEAT_TIMEOUT</c> (int milliseconds): disconnect when no traffic arrives this long after a PING.</summary>
    HeartbeatTimeout = 77,

    /// <summary><c>ZMQ_XPUB_VERBOSER</c> (int 0/1, write-only): pass every subscription and unsubscription.</summary>
    XPubVerboser = 78,

    /// <summary><c>ZMQ_CONNECT_TIMEOUT</c> (int milliseconds, 0 for the OS): the longest a tcp connect may take.</summary>
    ConnectTimeout = 79,

    /// <summary><c>ZMQ_TCP_MAXRT</c> (int milliseconds, 0 for the OS): <c>TCP_USER_TIMEOUT</c>.</summary>
    TcpMaxRetransmitTimeout = 80,
}
