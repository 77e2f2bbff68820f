using System.Runtime.InteropServices;
using System.Text;
using Calloop.Rx.ZeroMQ.Interop;

namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// A libzmq socket (<c>zmq_socket</c>) as a <see cref="SafeHandle"/>: bind, connect, options, and multipart
/// messages sent and received whole. Failures throw <see cref="ZmqException"/>; "would block" is a <c>false</c>
/// return from the <c>Try</c> methods.
/// </summary>
/// <remarks>
/// <para>Like every libzmq socket it is not thread-safe: use it from one thread at a time (handing it over to
/// another thread is fine). Once it is given to <see cref="ZmqSource.Create"/>, only the loop thread uses it.</para>
/// <para>Closing (<see cref="SafeHandle.Dispose()"/>) sets linger to 0 first: messages libzmq has not yet
/// transmitted are dropped and nothing ever blocks, not even a PUSH socket with no peer. <see cref="Close(TimeSpan)"/>
/// closes with a bounded linger instead. The socket holds a
/// reference on its <see cref="ZmqContext"/>, so the context is terminated only after its last socket closed.</para>
/// </remarks>
public sealed unsafe class ZmqSocket : SafeHandle
{
    private readonly ZmqContext _context;
    private readonly List<byte[]> _parts = [];
    private int _closeLingerMs;

    /// <summary>Creates a socket of <paramref name="type"/> in <paramref name="context"/>.</summary>
    /// <exception cref="ObjectDisposedException">The context is disposed.</exception>
    /// <exception cref="ZmqException">libzmq refused (for example <c>EMFILE</c>, too many sockets).</exception>
    public ZmqSocket(ZmqContext context, ZmqSocketType type)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        ArgumentNullException.ThrowIfNull(context);
        bool added = false;
        context.DangerousAddRef(ref added);
        IntPtr socket = Zmq.Socket(context, (int)type);
        if (socket == IntPtr.Zero)
        {
            int errno = Zmq.LastError;
            context.DangerousRelease();
            throw new ZmqException($"zmq_socket({type})", errno);
        }

        _context = context;
        Type = type;
        SetHandle(socket);
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The socket's type.</summary>
    public ZmqSocketType Type { get; }

    /// <summary>The context the socket was made in (the scope of its <c>inproc://</c> endpoints).</summary>
    internal ZmqContext Context => _context;

    /// <summary>
    /// <c>ZMQ_FD</c>: an fd that becomes readable, edge-triggered, whenever <see cref="Events"/> may have changed.
    /// It is never writable even when the socket is, and it does not carry data. libzmq owns it; see <see cref="OpenFdHandle"/>.
    /// </summary>
    public int Fd => GetInt32(ZmqSocketOption.Fd);

    /// <summary><c>ZMQ_EVENTS</c>: whether a message can be received or sent right now. Reading it also lets libzmq
    /// process its pending commands, which is what re-arms <see cref="Fd"/>.</summary>
    public ZmqEvents Events => (ZmqEvents)GetInt32(ZmqSocketOption.Events);

    /// <summary><c>ZMQ_RCVMORE</c>: the frame last received has more frames after it.</summary>
    public bool ReceiveMore => GetInt32(ZmqSocketOption.ReceiveMore) != 0;

    /// <summary><c>ZMQ_LINGER</c>: how long unsent messages survive <c>zmq_close</c> (<see cref="Timeout.InfiniteTimeSpan"/> for ever). Closing this wrapper always sets it to zero first.</summary>
    public TimeSpan Linger
    {
        get => GetMilliseconds(ZmqSocketOption.Linger);
        set => SetMilliseconds(ZmqSocketOption.Linger, value);
    }

    /// <summary><c>ZMQ_SNDTIMEO</c>: the longest a blocking send waits (<see cref="Timeout.InfiniteTimeSpan"/> for ever).</summary>
    public TimeSpan SendTimeout
    {
        get => GetMilliseconds(ZmqSocketOption.SendTimeout);
        set => SetMilliseconds(ZmqSocketOption.SendTimeout, value);
    }

    /// <summary><c>ZMQ_RCVTIMEO</c>: the longest a blocking receive waits (<see cref="Timeout.InfiniteTimeSpan"/> for ever).</summary>
    public TimeSpan ReceiveTimeout
    {
        get => GetMilliseconds(ZmqSocketOption.ReceiveTimeout);
        set => SetMilliseconds(ZmqSocketOption.ReceiveTimeout, value);
    }

    /// <summary><c>ZMQ_SNDHWM</c>: messages queued per peer before sends block (0 for no limit). Set it before bind/connect.</summary>
    public int SendHighWaterMark
    {
        get => GetInt32(ZmqSocketOption.SendHighWaterMark);
        set => SetOption(ZmqSocketOption.SendHighWaterMark, value);
    }

    /// <summary><c>ZMQ_RCVHWM</c>: messages queued per peer on the receiving side (0 for no limit). Set it before bind/connect.</summary>
    public int ReceiveHighWaterMark
    {
        get => GetInt32(ZmqSocketOption.ReceiveHighWaterMark);
        set => SetOption(ZmqSocketOption.ReceiveHighWaterMark, value);
    }

    /// <summary><c>ZMQ_ROUTING_ID</c>: this socket's identity as seen by a ROUTER peer (1 to 255 bytes). Set it before connect.</summary>
    public byte[] RoutingId
    {
        get => GetBytes(ZmqSocketOption.RoutingId, 255);
        set => SetOption(ZmqSocketOption.RoutingId, value);
    }

    /// <summary><c>ZMQ_LAST_ENDPOINT</c>: the endpoint last bound or connected, with the real port after a <c>tcp://host:*</c> bind.</summary>
    public string LastEndpoint
    {
        get
        {
            byte[] value = GetBytes(ZmqSocketOption.LastEndpoint, 1024);
            int end = Array.IndexOf(value, (byte)0);
            return Encoding.UTF8.GetString(value, 0, end < 0 ? value.Length : end);
        }
    }

    /// <summary><c>zmq_bind</c>. <c>tcp://127.0.0.1:*</c> picks a free port; read it back from <see cref="LastEndpoint"/>.</summary>
    /// <exception cref="ZmqException">For example <c>EADDRINUSE</c>, or <c>EPROTONOSUPPORT</c> for an unknown transport.</exception>
    public void Bind(string endpoint) => Check(Zmq.Bind(this, endpoint), "zmq_bind", endpoint);

    /// <summary><c>zmq_connect</c>: returns at once; libzmq connects (and reconnects) in the background.</summary>
    /// <exception cref="ZmqException">The endpoint is malformed or its transport unknown.</exception>
    public void Connect(string endpoint) => Check(Zmq.Connect(this, endpoint), "zmq_connect", endpoint);

    /// <summary><c>zmq_unbind</c>.</summary>
    /// <exception cref="ZmqException">The endpoint is not bound (<c>ENOENT</c>).</exception>
    public void Unbind(string endpoint) => Check(Zmq.Unbind(this, endpoint), "zmq_unbind", endpoint);

    /// <summary><c>zmq_disconnect</c>.</summary>
    /// <exception cref="ZmqException">The endpoint is not connected (<c>ENOENT</c>).</exception>
    public void Disconnect(string endpoint) => Check(Zmq.Disconnect(this, endpoint), "zmq_disconnect", endpoint);

    /// <summary><c>ZMQ_SUBSCRIBE</c>: a SUB socket receives messages whose first frame starts with <paramref name="prefix"/> (empty: everything).</summary>
    public void Subscribe(ReadOnlySpan<byte> prefix) => SetOption(ZmqSocketOption.Subscribe, prefix);

    /// <summary><c>ZMQ_SUBSCRIBE</c> with a UTF-8 topic prefix.</summary>
    public void Subscribe(string prefix) => Subscribe(Encoding.UTF8.GetBytes(prefix));

    /// <summary><c>ZMQ_UNSUBSCRIBE</c>.</summary>
    public void Unsubscribe(ReadOnlySpan<byte> prefix) => SetOption(ZmqSocketOption.Unsubscribe, prefix);

    /// <summary><c>zmq_setsockopt</c> with an int value.</summary>
    /// <exception cref="ZmqException">libzmq refused (<c>EINVAL</c> for an unknown option or a bad value).</exception>
    public void SetOption(ZmqSocketOption option, int value) =>
        Check(Zmq.SetSockOpt(this, (int)option, &value, sizeof(int)), "zmq_setsockopt", option.ToString());

    /// <summary><c>zmq_setsockopt</c> with a binary value.</summary>
    /// <exception cref="ZmqException">libzmq refused.</exception>
    public void SetOption(ZmqSocketOption option, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value)
        {
            Check(Zmq.SetSockOpt(this, (int)option, p, (nuint)value.Length), "zmq_setsockopt", option.ToString());
        }
    }

    /// <summary><c>zmq_getsockopt</c> of an int option.</summary>
    /// <exception cref="ZmqException">libzmq refused (<c>ETERM</c> after the context was shut down).</exception>
    public int GetInt32(ZmqSocketOption option)
    {
        int value = 0;
        nuint length = sizeof(int);
        Check(Zmq.GetSockOpt(this, (int)option, &value, &length), "zmq_getsockopt", option.ToString());
        return value;
    }

    /// <summary><c>zmq_getsockopt</c> of a binary or string option, at most <paramref name="maxLength"/> bytes.</summary>
    /// <exception cref="ZmqException">libzmq refused.</exception>
    public byte[] GetBytes(ZmqSocketOption option, int maxLength = 256)
    {
        byte[] buffer = new byte[maxLength];
        nuint length = (nuint)maxLength;
        fixed (byte* p = buffer)
        {
            Check(Zmq.GetSockOpt(this, (int)option, p, &length), "zmq_getsockopt", option.ToString());
        }

        return buffer.AsSpan(0, (int)length).ToArray();
    }

    /// <summary>
    /// <c>zmq_socket_monitor</c>: libzmq reports <paramref name="events"/> as two-frame messages on a PAIR socket it
    /// binds at <paramref name="endpoint"/> (inproc), replacing any earlier monitor. libzmq guards the monitor with
    /// its own lock (its I/O thread reports through it), so any thread may call this.
    /// </summary>
    /// <exception cref="ZmqException">For example <c>ETERM</c> after the context was shut down.</exception>
    internal void StartMonitor(string endpoint, ZmqMonitorEvents events) =>
        Check(Zmq.SocketMonitor(this, endpoint, (int)events), "zmq_socket_monitor", endpoint);

    /// <summary><c>zmq_socket_monitor</c> with no endpoint: libzmq reports <see cref="ZmqMonitorEvents.MonitorStopped"/> if asked, and closes its PAIR.</summary>
    /// <exception cref="ZmqException">For example <c>ETERM</c> after the context was shut down.</exception>
    internal void StopMonitor() => Check(Zmq.SocketMonitor(this, null, 0), "zmq_socket_monitor", "null");

    /// <summary>
    /// A handle on <see cref="Fd"/> for <see cref="EventLoop.Fd(SafeHandle, Interest, TriggerMode)"/>: while it (or the loop's
    /// registration of it) is alive, the socket stays open, so epoll never watches an fd that libzmq closed and reused.
    /// Disposing it never closes the fd (libzmq owns it).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket is disposed.</exception>
    public SafeHandle OpenFdHandle() => new ZmqFdHandle(this, Fd);

    /// <summary>Sends one frame without blocking (<c>ZMQ_DONTWAIT</c>, plus <c>ZMQ_SNDMORE</c> when <paramref name="more"/>).</summary>
    /// <returns>False if the socket cannot take it now (EAGAIN): nothing was sent.</returns>
    /// <exception cref="ZmqException">Any other failure, e.g. <c>EFSM</c> (a REQ sending twice).</exception>
    public bool TrySend(ReadOnlySpan<byte> frame, bool more = false) =>
        SendFrame(frame, Zmq.DontWait | (more ? Zmq.SendMore : 0), throwOnAgain: false);

    /// <summary>
    /// Sends a multipart message without blocking. libzmq delivers messages atomically, so once the first frame is
    /// accepted the rest follow.
    /// </summary>
    /// <returns>False if the socket cannot take the message now (EAGAIN on its first frame): nothing was sent.</returns>
    /// <exception cref="ArgumentException"><paramref name="parts"/> is empty or holds a null frame.</exception>
    /// <exception cref="ZmqException">Any other failure.</exception>
    public bool TrySendMultipart(IReadOnlyList<byte[]> parts) => SendParts(parts, Zmq.DontWait, throwOnAgain: false);

    /// <summary>Sends a multipart message, blocking up to <see cref="SendTimeout"/>. Not for the loop thread.</summary>
    /// <exception cref="ZmqException">Including <c>EAGAIN</c> when the send timeout expired.</exception>
    public void SendMultipart(IReadOnlyList<byte[]> parts) => SendParts(parts, 0, throwOnAgain: true);

    /// <summary>Sends a multipart message of UTF-8 frames, blocking up to <see cref="SendTimeout"/>.</summary>
    public void SendMultipart(params string[] parts) => SendMultipart(parts.Select(Encoding.UTF8.GetBytes).ToArray());

    /// <summary>Receives one frame without blocking.</summary>
    /// <returns>False if no message is waiting (EAGAIN).</returns>
    /// <exception cref="ZmqException">Any other failure.</exception>
    public bool TryReceive(out byte[] frame, out bool more) => ReceiveFrame(Zmq.DontWait, throwOnAgain: false, out frame, out more);

    /// <summary>Receives a whole multipart message without blocking.</summary>
    /// <returns>False if no message is waiting (EAGAIN).</returns>
    /// <exception cref="ZmqException">Any other failure.</exception>
    public bool TryReceiveMultipart(out byte[][] parts) => ReceiveParts(Zmq.DontWait, throwOnAgain: false, out parts);

    /// <summary>Receives a whole multipart message, blocking up to <see cref="ReceiveTimeout"/>. Not for the loop thread.</summary>
    /// <exception cref="ZmqException">Including <c>EAGAIN</c> when the receive timeout expired.</exception>
    public byte[][] ReceiveMultipart()
    {
        ReceiveParts(0, throwOnAgain: true, out byte[][] parts);
        return parts;
    }

    /// <summary>
    /// Closes the socket like <see cref="SafeHandle.Dispose()"/>, but gives libzmq up to <paramref name="linger"/> to
    /// transmit the messages it has already accepted. <c>zmq_close</c> itself never waits: the wait, bounded by
    /// <paramref name="linger"/>, happens when the <see cref="ZmqContext"/> is disposed (<c>zmq_ctx_term</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="linger"/> is negative or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    public void Close(TimeSpan linger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(linger, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(linger, TimeSpan.FromMilliseconds(int.MaxValue));
        Volatile.Write(ref _closeLingerMs, (int)Math.Ceiling(linger.TotalMilliseconds));
        Dispose();
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        // Linger 0 (unless Close(linger) asked for more) so that zmq_close, and later zmq_ctx_term, never wait for
        // messages nobody will take: whatever libzmq still holds is dropped.
        int linger = Volatile.Read(ref _closeLingerMs);
        Zmq.SetSockOpt(handle, (int)ZmqSocketOption.Linger, &linger, sizeof(int));
        bool closed = Zmq.Close(handle) == 0;
        _context.DangerousRelease();
        return closed;
    }

    private static void Check(int rc, string call, string argument)
    {
        if (rc != 0)
        {
            throw ZmqException.FromLastError($"{call}({argument})");
        }
    }

    private TimeSpan GetMilliseconds(ZmqSocketOption option)
    {
        int ms = GetInt32(option);
        return ms < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(ms);
    }

    private void SetMilliseconds(ZmqSocketOption option, TimeSpan value)
    {
        if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Use a non-negative duration or Timeout.InfiniteTimeSpan.");
        }

        SetOption(option, value == Timeout.InfiniteTimeSpan ? -1 : checked((int)Math.Ceiling(value.TotalMilliseconds)));
    }

    private bool SendParts(IReadOnlyList<byte[]> parts, int flags, bool throwOnAgain)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new ArgumentException("A message has at least one frame.", nameof(parts));
        }

        int last = parts.Count - 1;
        for (int i = 0; i <= last; i++)
        {
            byte[] part = parts[i] ?? throw new ArgumentException($"Frame {i} is null.", nameof(parts));
            int frameFlags = flags | (i < last ? Zmq.SendMore : 0);
            if (i == 0)
            {
                if (!SendFrame(part, frameFlags, throwOnAgain))
                {
                    return false;
                }
            }
            else if (!SendFrame(part, frameFlags | Zmq.DontWait, throwOnAgain: false))
            {
                // Only a load-balancing socket whose peer vanished mid-message says EAGAIN here; libzmq has then
                // dropped the frames so far and discards the rest as they come, so finishing the message keeps the
                // socket's framing consistent. The message is lost, as libzmq loses it in blocking mode.
                DropRest(parts, i + 1, last);
                return true;
            }
        }

        return true;
    }

    private void DropRest(IReadOnlyList<byte[]> parts, int from, int last)
    {
        for (int i = from; i <= last; i++)
        {
            SendFrame(parts[i], Zmq.DontWait | (i < last ? Zmq.SendMore : 0), throwOnAgain: false);
        }
    }

    private bool SendFrame(ReadOnlySpan<byte> frame, int flags, bool throwOnAgain)
    {
        fixed (byte* p = frame)
        {
            while (true)
            {
                if (Zmq.Send(this, p, (nuint)frame.Length, flags) >= 0)
                {
                    return true;
                }

                int errno = Zmq.LastError;
                if (errno == Zmq.EINTR)
                {
                    // A signal (the runtime uses some for its own threads) interrupted a blocking wait: go on waiting.
                    continue;
                }

                if (errno == Zmq.EAGAIN && !throwOnAgain)
                {
                    return false;
                }

                throw new ZmqException("zmq_send", errno);
            }
        }
    }

    private bool ReceiveParts(int flags, bool throwOnAgain, out byte[][] parts)
    {
        if (!ReceiveFrame(flags, throwOnAgain, out byte[] first, out bool more))
        {
            parts = [];
            return false;
        }

        if (!more)
        {
            parts = [first];
            return true;
        }

        _parts.Clear();
        _parts.Add(first);
        while (more)
        {
            // The rest of a multipart message is already here (libzmq delivers messages whole), so this never waits.
            if (!ReceiveFrame(Zmq.DontWait, throwOnAgain: true, out byte[] next, out more))
            {
                break;
            }

            _parts.Add(next);
        }

        parts = [.. _parts];
        _parts.Clear();
        return true;
    }

    private bool ReceiveFrame(int flags, bool throwOnAgain, out byte[] frame, out bool more)
    {
        Zmq.Message message;
        Zmq.MsgInit(&message);
        try
        {
            while (Zmq.MsgRecv(&message, this, flags) < 0)
            {
                int errno = Zmq.LastError;
                if (errno == Zmq.EINTR)
                {
                    continue;
                }

                if (errno == Zmq.EAGAIN && !throwOnAgain)
                {
                    frame = [];
                    more = false;
                    return false;
                }

                throw new ZmqException("zmq_msg_recv", errno);
            }

            int size = checked((int)Zmq.MsgSize(&message));
            frame = size == 0 ? [] : new ReadOnlySpan<byte>(Zmq.MsgData(&message), size).ToArray();
            more = Zmq.MsgMore(&message) != 0;
            return true;
        }
        finally
        {
            Zmq.MsgClose(&message);
        }
    }
}
