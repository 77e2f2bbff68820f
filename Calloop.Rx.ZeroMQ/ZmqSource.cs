using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Runtime.InteropServices;

namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// The calloop book's ZeroMQ event source, composed with Rx operators: the incoming multipart messages of a
/// <see cref="ZmqSocket"/>, delivered on the loop thread, plus (from <see cref="Create"/>) a <see cref="ZmqSender"/>
/// for outgoing ones.
/// </summary>
/// <remarks>
/// <para>It is three loop sources merged: the socket's <c>ZMQ_FD</c> (<see cref="EventLoop.Fd(SafeHandle, Interest, TriggerMode)"/>,
/// read, edge-triggered), a channel (the outbox the senders fill) and a ping (to wake itself). On a ping or an fd
/// edge the source drains the socket the way the book's chapter requires: after sending or receiving, re-read
/// <c>ZMQ_EVENTS</c> and go round again until it offers nothing to do, because <c>ZMQ_FD</c> only signals changes
/// and a send or a receive can change the state without a new edge (the REQ race, the REP stall). It also runs
/// once on every (re-)registration, through the ping, since the socket may already hold messages that will never
/// produce an edge. A message from the channel only joins the outbox and asks for a wake-up, so that a burst is
/// sent in one go in the next dispatch.</para>
/// <para>It never blocks the loop: outgoing messages wait in the outbox until <c>ZMQ_EVENTS</c> says the socket is
/// writable. A message the socket refuses even so (<c>EAGAIN</c> from a ROUTER with <c>ZMQ_ROUTER_MANDATORY</c>
/// whose peer is stalled while another is not, or from an XPUB with <c>ZMQ_XPUB_NODROP</c> at a subscriber's
/// high-water mark, since an XPUB always reports writable) waits, without the loop spinning on it, until the next
/// <c>ZMQ_FD</c> edge (libzmq signals one when a stalled peer drains), the next wake-up, or a retry timer that backs
/// off from 1 ms to 100 ms. On a ROUTER the outbox keeps one lane per peer (the first frame, the routing id): a
/// stalled peer holds up only its own messages, the others go on, and each peer's messages keep their order. It
/// is fair: after <see cref="ZmqSourceOptions.BatchLimit"/> messages received (or sent) it pings itself
/// and continues in the next dispatch, so a flood cannot starve timers, channels and other fds. Errors are not
/// retried: a failed send or receive (for example <c>EHOSTUNREACH</c> from a ROUTER with
/// <c>ZMQ_ROUTER_MANDATORY</c>) ends the source with <c>OnError</c>.</para>
/// <para>Like every <see cref="LoopSource{T}"/> it is hot and shared: subscribing registers the three inner
/// sources, several subscribers each get every message, the last disposal unregisters them; messages that arrive
/// in between stay in libzmq's queue (up to the high-water mark) and are delivered to the next subscriber, and
/// messages queued before anyone subscribed are sent once someone does. The exception is a send-only socket
/// (<see cref="ZmqSocketType.Push"/>, <see cref="ZmqSocketType.Pub"/>): it has nothing to receive, so its source
/// registers at creation and sends without any subscriber, until it ends; subscribe only to learn that it ended.
/// <see cref="LoopSource{T}.Disable"/> pauses sending and receiving alike.</para>
/// <para>The socket belongs to the source, but the loop thread may still configure it (connect, bind, subscribe)
/// between dispatches or from a callback; call <see cref="LoopSource{T}.Update"/> afterwards. Such calls change the
/// socket's state without an edge on <c>ZMQ_FD</c> (for example a PUSH that connects over inproc becomes writable
/// at once), and <c>Update</c> makes the source look at the socket again in the next dispatch.</para>
/// <para>Shutdown and the fate of pending messages: the source ends with <c>OnCompleted</c> on
/// <see cref="LoopSource{T}.Remove"/> or when the loop is disposed, and with <c>OnError</c> (a <see cref="ZmqException"/>)
/// when libzmq fails. Then the senders report <see cref="SendResult.Closed"/> (blocked ones wake up), messages still
/// in the outbox are dropped, and, unless <see cref="ZmqSourceOptions.LeaveSocketOpen"/>, the socket is closed with
/// linger 0: what libzmq had accepted but not yet transmitted, and what it had received but nobody took, is dropped
/// too. Nothing waits, not even a PUSH socket without a peer. If delivery matters, wait before removing the source:
/// for <see cref="ZmqSender.WhenDrainedAsync"/> (libzmq has everything), then close the socket with a linger, or
/// for the peers' replies or acknowledgements.</para>
/// </remarks>
public sealed class ZmqSource : CompositeSource<byte[][]>
{
    private readonly ZmqSocket _socket;
    private readonly ZmqSourceParts _parts;
    private readonly bool _leaveSocketOpen;
    private readonly int _batchLimit;
    private readonly Action _retryNow;

    // REQ and REP allow one send or one receive at a time (anything else is EFSM): for them every operation is
    // followed by a fresh ZMQ_EVENTS read. Other sockets send or receive until EAGAIN between two reads.
    private readonly int _perRound;

    // Loop thread only: messages taken from the channel that the socket has not accepted yet, and what this turn
    // has done (a turn ends when the socket has nothing left for us or when we yield).
    private readonly ZmqOutbox _outbox;
    private int _receivedThisTurn;
    private int _sentThisTurn;

    // Loop thread only: the timer that retries refused messages if no ZMQ_FD edge comes first, and its next delay.
    private IDisposable? _retry;
    private TimeSpan _retryDelay = FirstRetryDelay;

    private Connection? _connection;

    // The socket's monitor, if any; s_ended once the source has ended (set by the release, on any thread).
    private static readonly object s_ended = new();
    private object? _monitor;

    private ZmqSource(EventLoop loop, ZmqSocket socket, ZmqSourceOptions options, ZmqSourceParts parts)
        : base(loop, $"ZeroMQ {socket.Type}")
    {
        _socket = socket;
        _outbox = new ZmqOutbox(perPeer: socket.Type == ZmqSocketType.Router);
        _retryNow = RetryNow;
        _batchLimit = options.BatchLimit;
        _perRound = socket.Type is ZmqSocketType.Req or ZmqSocketType.Rep ? 1 : int.MaxValue;
        _leaveSocketOpen = options.LeaveSocketOpen;
        _parts = parts;
    }

    private static TimeSpan FirstRetryDelay => TimeSpan.FromMilliseconds(1);

    private static TimeSpan LastRetryDelay => TimeSpan.FromMilliseconds(100);

    /// <summary>Why the merged inner sources woke the drain.</summary>
    private enum Trigger
    {
        /// <summary>The ping: a (re-)registration, the continuation of a turn that yielded, or a retry.</summary>
        Wake,

        /// <summary>The <c>ZMQ_FD</c> edge: <c>ZMQ_EVENTS</c> may have changed.</summary>
        Readiness,

        /// <summary>A sender queued a message.</summary>
        Outgoing,
    }

    /// <summary>The socket this source drives. Only the loop thread may use it while the source is alive.</summary>
    public ZmqSocket Socket => _socket;

    /// <summary>
    /// Starts reporting the socket's connection events (<c>zmq_socket_monitor</c>): connected, accepted, disconnected,
    /// closed, handshakes, with their endpoints. Call it where the socket may be used: before the loop runs, or on
    /// the loop thread. The monitor lives as long as this source and ends with it.
    /// </summary>
    /// <param name="events">The kinds to report (default: all).</param>
    /// <returns>The events, hot, on the loop thread; see <see cref="ZmqMonitor"/>.</returns>
    /// <exception cref="InvalidOperationException">The socket already has a monitor (libzmq allows one).</exception>
    /// <exception cref="ObjectDisposedException">The source has ended, or the loop is disposed.</exception>
    /// <exception cref="ZmqException">libzmq refused (for example <c>ETERM</c>).</exception>
    public ZmqMonitor Monitor(ZmqMonitorEvents events = ZmqMonitorEvents.All)
    {
        object? current = Volatile.Read(ref _monitor);
        ObjectDisposedException.ThrowIf(current == s_ended, this);
        if (current is not null)
        {
            throw new InvalidOperationException("This socket already has a monitor: libzmq allows one per socket.");
        }

        ZmqMonitor monitor = ZmqMonitor.Start(Loop, _socket, events);
        object? raced = Interlocked.CompareExchange(ref _monitor, monitor, null);
        if (raced is not null)
        {
            // The source ended meanwhile (or another monitor won): this one must not outlive it.
            monitor.Stop();
            ObjectDisposedException.ThrowIf(raced == s_ended, this);
            throw new InvalidOperationException("This socket already has a monitor: libzmq allows one per socket.");
        }

        return monitor;
    }

    /// <summary>The first sender (also returned by <see cref="Create"/>).</summary>
    internal ZmqSender Sender => _parts.Sender;

    /// <summary>
    /// Makes the source for a socket the caller has configured (type, options, bind/connect; before or after does
    /// not matter). From now on only the loop thread may use the socket.
    /// </summary>
    /// <param name="loop">The loop that delivers the messages.</param>
    /// <param name="socket">The socket; the source owns it unless <see cref="ZmqSourceOptions.LeaveSocketOpen"/>.</param>
    /// <param name="options">Fairness, back pressure and ownership; null for <see cref="ZmqSourceOptions.Default"/>.</param>
    /// <returns>The sender that queues outgoing messages, and the source of incoming ones (subscribe to start).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The batch limit or outbox capacity is less than 1.</exception>
    /// <exception cref="ObjectDisposedException">The loop or the socket is disposed.</exception>
    /// <exception cref="ZmqException">libzmq refused to give the socket's fd.</exception>
    /// <exception cref="LoopException">A send-only socket's source could not register (it is removed).</exception>
    public static (ZmqSender Sender, ZmqSource Source) Create(EventLoop loop, ZmqSocket socket, ZmqSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(socket);
        options ??= ZmqSourceOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchLimit, 1, nameof(options.BatchLimit));
        if (options.OutboxCapacity is { } capacity)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1, nameof(options.OutboxCapacity));
        }

        ObjectDisposedException.ThrowIf(socket.IsClosed, socket);
        ZmqSourceParts parts = ZmqSourceParts.Make(loop, socket, options);
        ZmqSource source;
        try
        {
            source = new ZmqSource(loop, socket, options, parts);
        }
        catch
        {
            // Never tracked (the loop was disposed meanwhile): release the inner pieces, and leave the socket to the caller.
            parts.Release();
            throw;
        }

        if (socket.Type is ZmqSocketType.Push or ZmqSocketType.Pub)
        {
            // Nothing will ever be received, so nobody has a reason to subscribe: register now, so the outbox is
            // sent anyway. This subscription lasts as long as the source; failures reach the other subscribers.
            try
            {
                source.Subscribe(Observer.Create<byte[][]>(static _ => { }, static _ => { }));
            }
            catch
            {
                source.Remove();
                throw;
            }
        }

        return (source.Sender, source);
    }

    /// <summary>
    /// Registration: the merged inner sources, each trigger running the drain. The ping is sent first, so that the
    /// socket is drained once even without an edge (it may hold messages already).
    /// </summary>
    protected override IObservable<byte[][]> Connect()
    {
        var connection = new Connection();
        _connection = connection;
        _parts.Wake.Send();
        return Observable
            .Merge(
                _parts.Wakes.Select(static _ => Trigger.Wake),
                _parts.Readiness.Select(static _ => Trigger.Readiness),
                _parts.Outgoing.Do(_outbox.Add).Select(static _ => Trigger.Outgoing))
            .SelectMany(trigger => Drain(trigger, connection));
    }

    /// <summary>Unregistration: the inner sources went with the subscription; the outbox and libzmq's queues stay.</summary>
    protected override void OnDisconnected()
    {
        _connection?.Stop();
        _connection = null;
        CancelRetry();
    }

    /// <summary>
    /// <see cref="LoopSource{T}.Update"/>: look at the socket again. Changes made directly on the socket (connect,
    /// bind, subscribe) are done by the caller's thread, not signalled by libzmq's I/O thread, so they produce no
    /// edge on <c>ZMQ_FD</c>: a PUSH that just connected over inproc is writable, yet nothing wakes the source.
    /// </summary>
    protected override void OnUpdate() => _parts.Wake.Send();

    /// <summary>Releases the inner sources, the monitor and (unless left open) the socket.</summary>
    protected override void OnEnded()
    {
        CancelRetry();
        _parts.Release();

        // Before the socket closes: libzmq's monitor must stop while its PAIR reader is still open.
        (Interlocked.Exchange(ref _monitor, s_ended) as ZmqMonitor)?.Stop();
        if (!_leaveSocketOpen)
        {
            // Linger 0 (ZmqSocket sets it on close). If the loop thread is inside a libzmq call right now, the
            // SafeHandle defers zmq_close until that call returns.
            _socket.Dispose();
        }
    }

    /// <summary>
    /// The book's loop, as a lazy sequence so that each message reaches the subscribers before the next is
    /// received: read <c>ZMQ_EVENTS</c>; if writable, send what the outbox holds; if readable, receive what is
    /// there; and go round again, until <c>ZMQ_EVENTS</c> offers nothing to do. The last call before leaving is
    /// always that <c>ZMQ_EVENTS</c> read, so whatever changes afterwards produces a new edge on <c>ZMQ_FD</c>.
    /// Yields to the loop (pinging itself) when a batch limit is reached or a subscriber threw.
    /// </summary>
    private IEnumerable<byte[][]> Drain(Trigger trigger, Connection connection)
    {
        switch (trigger)
        {
            case Trigger.Outgoing:
                // The channel delivers its whole batch in this dispatch: send it together, on the wake-up, rather
                // than go through ZMQ_EVENTS for every message.
                _parts.Wake.Send();
                yield break;
            case Trigger.Wake:
                // The loop ran everything else since we yielded: a new turn.
                _receivedThisTurn = 0;
                _sentThisTurn = 0;
                break;
        }

        // A wake-up or an edge: the socket may now take what it refused.
        _outbox.Unpark();

        while (!connection.IsStopped)
        {
            if (IsDeliveryInterrupted)
            {
                // A subscriber threw: Dispatch rethrows once this delivery is over; carry on in the next one.
                _parts.Wake.Send();
                yield break;
            }

            ZmqEvents events = _socket.Events;
            bool canSend = (events & ZmqEvents.Out) != 0 && _outbox.HasReady;
            bool canReceive = (events & ZmqEvents.In) != 0;
            if (!canSend && !canReceive)
            {
                // Nothing for us: the next ZMQ_FD edge (or queued message) starts a new turn.
                _receivedThisTurn = 0;
                _sentThisTurn = 0;
                yield break;
            }

            int sent = 0;
            bool parked = false;
            while (canSend && sent < _perRound && _outbox.HasReady && _sentThisTurn < _batchLimit)
            {
                if (_socket.TrySendMultipart(_outbox.Next))
                {
                    _outbox.Accepted();
                    _parts.Limit.Give();
                    _sentThisTurn++;
                    sent++;
                    _retryDelay = FirstRetryDelay;
                }
                else
                {
                    // Writable, yet EAGAIN: this message's peer is full (ROUTER_MANDATORY with another peer free,
                    // XPUB_NODROP, whose POLLOUT is always set). Trying again at once would spin the loop for as
                    // long as the peer stalls: set it aside until an edge (the peer drained) or the retry timer.
                    _outbox.Park();
                    parked = true;
                }
            }

            if (parked)
            {
                RetryLater();
            }

            int received = 0;
            while (canReceive && received < _perRound && _receivedThisTurn < _batchLimit && !connection.IsStopped
                && !IsDeliveryInterrupted && _socket.TryReceiveMultipart(out byte[][] message))
            {
                _receivedThisTurn++;
                received++;
                yield return message;
            }

            if (sent + received == 0 && !parked)
            {
                // A batch limit is reached (or a receive said EAGAIN after all): the ping brings us back after the
                // other sources had their turn; nothing is lost, the socket and the outbox still hold it.
                _parts.Wake.Send();
                yield break;
            }
        }
    }

    /// <summary>Arms the retry timer, unless it is armed; each retry that finds the socket still refusing waits twice as long.</summary>
    private void RetryLater()
    {
        if (_retry is null)
        {
            _retry = Loop.Scheduler.Schedule(_retryDelay, _retryNow);
            _retryDelay = _retryDelay * 2 < LastRetryDelay ? _retryDelay * 2 : LastRetryDelay;
        }
    }

    private void RetryNow()
    {
        _retry = null;
        _parts.Wake.Send();
    }

    private void CancelRetry()
    {
        _retry?.Dispose();
        _retry = null;
    }

    /// <summary>One registration, which the drain checks so it stops at once when unregistered.</summary>
    private sealed class Connection
    {
        private volatile bool _stopped;

        public bool IsStopped => _stopped;

        public void Stop() => _stopped = true;
    }
}
