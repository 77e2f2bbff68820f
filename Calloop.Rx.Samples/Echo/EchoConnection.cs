using System.Net.Sockets;

namespace Calloop.Rx.Samples;

/// <summary>One client of an echo server (the echo and monitor samples): its socket, its fd source, and the bytes received but not yet echoed.</summary>
internal sealed class EchoConnection
{
    private readonly int _id;
    private readonly Socket _socket;
    private readonly FdSource _source;
    private readonly IDisposable _subscription;
    private readonly TextWriter _output;
    private readonly Action<EchoConnection> _onClosed;
    private readonly byte[] _buffer = new byte[64 * 1024];

    // Received but not yet echoed: _pending[_pendingStart.._pendingEnd]. Unbounded for simplicity; a real
    // server would stop reading (Interest.Write only) above some size.
    private byte[] _pending = new byte[4096];
    private int _pendingStart;
    private int _pendingEnd;
    private bool _readClosed;
    private bool _closed;
    private long _echoed;
    private int _writableWaits;

    public EchoConnection(int id, Socket socket, EventLoop loop, TextWriter output, Action<EchoConnection> onClosed)
    {
        _id = id;
        _socket = socket;
        _output = output;
        _onClosed = onClosed;
        socket.Blocking = false;
        socket.NoDelay = true;
        _source = loop.Fd(socket, Interest.Read);

        // Subscribing on the loop thread registers the fd for the next dispatch; nothing is delivered before
        // Subscribe returns, so _subscription is set by the time OnReadiness runs.
        _subscription = _source.Subscribe(OnReadiness);
    }

    private int PendingCount => _pendingEnd - _pendingStart;

    public void Close(string why)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;

        // Unregister first (the last subscription's disposal removes the fd from epoll), then close the socket.
        _subscription.Dispose();
        _socket.Dispose();
        _output.WriteLine($"client {_id} disconnected ({why}) after {_echoed} bytes echoed, waited for Writable {_writableWaits} times");
        _onClosed(this);
    }

    private void OnReadiness(Readiness readiness)
    {
        if (readiness.Error)
        {
            Close("socket error");
            return;
        }

        // One read per event keeps clients fair: level-triggered mode reports whatever is left next dispatch.
        // A hang-up is read too: Receive then returns 0 (end of stream) once the data before it is consumed.
        if (!_readClosed && (readiness.Readable || readiness.HangUp) && !Receive())
        {
            Close("connection reset");
            return;
        }

        if (!Flush())
        {
            Close("connection reset");
            return;
        }

        if (_readClosed && PendingCount == 0)
        {
            Close("end of stream");
            return;
        }

        // Ask for Writable only while output is queued: a level-triggered socket is almost always writable,
        // so watching it all the time would wake the loop on every dispatch.
        Interest wanted = PendingCount == 0 ? Interest.Read : _readClosed ? Interest.Write : Interest.Read | Interest.Write;
        if (wanted != _source.Interest)
        {
            if ((wanted & Interest.Write) != 0)
            {
                _writableWaits++;
            }

            // Inside the source's own callback the change is applied when the callback returns.
            _source.Interest = wanted;
            _source.Update();
        }
    }

    /// <summary>One non-blocking read into the pending output. False when the connection failed.</summary>
    private bool Receive()
    {
        int n = _socket.Receive(_buffer, SocketFlags.None, out SocketError error);
        if (error == SocketError.WouldBlock)
        {
            return true;
        }

        if (error != SocketError.Success)
        {
            return false;
        }

        if (n == 0)
        {
            _readClosed = true;
            return true;
        }

        Append(_buffer.AsSpan(0, n));
        return true;
    }

    /// <summary>Sends queued output until done or the socket would block. False when the connection failed.</summary>
    private bool Flush()
    {
        while (PendingCount > 0)
        {
            int sent = _socket.Send(_pending.AsSpan(_pendingStart, PendingCount), SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                return true;
            }

            if (error != SocketError.Success)
            {
                return false;
            }

            _pendingStart += sent;
            _echoed += sent;
        }

        _pendingStart = _pendingEnd = 0;
        return true;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_pendingEnd + data.Length > _pending.Length)
        {
            // Compact, growing if needed. Span.CopyTo copes with the overlap when compacting in place.
            int count = PendingCount;
            byte[] target = count + data.Length > _pending.Length ? new byte[Math.Max(_pending.Length * 2, count + data.Length)] : _pending;
            _pending.AsSpan(_pendingStart, count).CopyTo(target);
            _pending = target;
            _pendingStart = 0;
            _pendingEnd = count;
        }

        data.CopyTo(_pending.AsSpan(_pendingEnd));
        _pendingEnd += data.Length;
    }
}
