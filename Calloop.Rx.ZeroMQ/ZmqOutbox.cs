namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// The messages a <see cref="ZmqSource"/> took from its senders that the socket has not accepted yet, in lanes: one
/// per peer on a ROUTER (keyed by the routing-id frame), a single lane on every other socket. Lanes take turns, a
/// message at a time; within a lane the order is kept. A lane whose next message the socket refused (<c>EAGAIN</c>:
/// a ROUTER with <c>ZMQ_ROUTER_MANDATORY</c> and a stalled peer, an XPUB with <c>ZMQ_XPUB_NODROP</c> at the
/// high-water mark) is parked, so that it neither holds up the other lanes nor is retried in a busy loop, until
/// <see cref="Unpark"/>. Loop thread only.
/// </summary>
internal sealed class ZmqOutbox
{
    private readonly Dictionary<byte[], Lane>? _peers;
    private readonly Lane? _single;
    private readonly Queue<Lane> _ready = new();
    private readonly List<Lane> _parked = [];

    // Emptied peer lanes, reused: a ROUTER that answers one request at a time empties its lane on every send.
    private readonly Stack<Lane> _spare = new();

    /// <param name="perPeer">One lane per routing id (a ROUTER), rather than one lane for everything.</param>
    public ZmqOutbox(bool perPeer)
    {
        if (perPeer)
        {
            _peers = new Dictionary<byte[], Lane>(RoutingIdComparer.Instance);
        }
        else
        {
            _single = new Lane();
        }
    }

    /// <summary>Whether a lane that is not parked has a message.</summary>
    public bool HasReady => _ready.Count > 0;

    /// <summary>Queues a message behind the others of its lane.</summary>
    public void Add(byte[][] message)
    {
        Lane lane = _single ?? PeerLane(message[0]);
        lane.Messages.Enqueue(message);
        if (lane.Messages.Count == 1 && !lane.IsParked)
        {
            _ready.Enqueue(lane);
        }
    }

    /// <summary>The message whose turn it is. Only when <see cref="HasReady"/>.</summary>
    public byte[][] Next => _ready.Peek().Messages.Peek();

    /// <summary>The socket took <see cref="Next"/>: drop it, and give the next lane its turn.</summary>
    public void Accepted()
    {
        Lane lane = _ready.Dequeue();
        lane.Messages.Dequeue();
        if (lane.Messages.Count > 0)
        {
            _ready.Enqueue(lane);
        }
        else if (_peers is not null)
        {
            // Peers come and go: keep only the lanes that hold messages.
            _peers.Remove(lane.Key!);
            lane.Key = null;
            _spare.Push(lane);
        }
    }

    /// <summary>The socket refused <see cref="Next"/> (<c>EAGAIN</c>): set its lane aside until <see cref="Unpark"/>.</summary>
    public void Park()
    {
        Lane lane = _ready.Dequeue();
        lane.IsParked = true;
        _parked.Add(lane);
    }

    /// <summary>The socket may take messages again (an edge on <c>ZMQ_FD</c>, a retry): every parked lane takes its turn again.</summary>
    public void Unpark()
    {
        foreach (Lane lane in _parked)
        {
            lane.IsParked = false;
            _ready.Enqueue(lane);
        }

        _parked.Clear();
    }

    private Lane PeerLane(byte[] routingId)
    {
        if (!_peers!.TryGetValue(routingId, out Lane? lane))
        {
            lane = _spare.TryPop(out Lane? spare) ? spare : new Lane();
            lane.Key = routingId;
            _peers.Add(routingId, lane);
        }

        return lane;
    }

    private sealed class Lane
    {
        /// <summary>The routing id of a ROUTER peer's lane; null for the single lane, and for a spare one.</summary>
        public byte[]? Key { get; set; }

        public Queue<byte[][]> Messages { get; } = new();

        public bool IsParked { get; set; }
    }

    /// <summary>Routing ids compared by content: each message carries its own array.</summary>
    private sealed class RoutingIdComparer : IEqualityComparer<byte[]>
    {
        public static readonly RoutingIdComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
