namespace Calloop.Rx.ZeroMQ;

/// <summary>The kinds of libzmq socket (the <c>ZMQ_PAIR</c> ... <c>ZMQ_STREAM</c> values of zmq.h).</summary>
public enum ZmqSocketType
{
    /// <summary>Exclusive pair.</summary>
    Pair = 0,

    /// <summary>Publisher: sends to every matching subscriber, never blocks (drops at the high-water mark).</summary>
    Pub = 1,

    /// <summary>Subscriber: receives what matches its subscriptions (prefixes of the first frame).</summary>
    Sub = 2,

    /// <summary>Requester: strict send, receive, send, receive.</summary>
    Req = 3,

    /// <summary>Replier: strict receive, send, receive, send.</summary>
    Rep = 4,

    /// <summary>Asynchronous requester: round-robin out, fair-queued in.</summary>
    Dealer = 5,

    /// <summary>Asynchronous replier: each incoming message starts with the sender's routing id.</summary>
    Router = 6,

    /// <summary>Pipeline input.</summary>
    Pull = 7,

    /// <summary>Pipeline output: round-robin to connected pullers, blocks when none can take more.</summary>
    Push = 8,

    /// <summary>Publisher that also receives subscription messages (<c>0x01</c>/<c>0x00</c> + topic).</summary>
    XPub = 9,

    /// <summary>Subscriber that sends subscriptions as messages.</summary>
    XSub = 10,

    /// <summary>Raw TCP.</summary>
    Stream = 11,
}
