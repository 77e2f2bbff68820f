using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Calloop.Rx.Samples;

/// <summary>
/// A TCP echo server on 127.0.0.1 made of non-blocking sockets watched by <c>loop.Fd</c>: one source for the
/// listening socket, one per client. Arguments: an optional port (default 0, an ephemeral port, printed) and
/// <c>--self-test</c>, which connects a client from another thread, checks a few echoes and exits.
/// </summary>
public static class EchoSample
{
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        bool selfTest = args.Contains("--self-test");
        string? portArgument = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
        int port = 0;
        if (portArgument is not null
            && (!int.TryParse(portArgument, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > IPEndPoint.MaxPort))
        {
            output.WriteLine($"echo: expected a port number, got '{portArgument}'");
            return 2;
        }

        using var loop = new EventLoop();

        // Ctrl-C (SIGINT) or SIGTERM stops the loop instead of killing the process, so the connections are closed
        // and every fd released, and the sample exits 0.
        using IDisposable stopping = loop.Signals(PosixSignal.SIGINT, PosixSignal.SIGTERM).Subscribe(signal =>
        {
            output.WriteLine($"echo server stopping on {signal.Signal}");
            loop.Stop();
        });

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        listener.Listen();

        // Non-blocking, so that Accept and Receive report WouldBlock instead of parking the loop thread.
        listener.Blocking = false;
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        output.WriteLine($"echo server listening on {endPoint} (port {endPoint.Port})");

        var connections = new List<Connection>();
        int accepted = 0;

        // Level-triggered: while a connection waits in the backlog, every dispatch reports the listener readable.
        using IDisposable accepting = loop.Fd(listener, Interest.Read).Subscribe(_ =>
        {
            while (TryAccept(listener) is { } client)
            {
                accepted++;
                output.WriteLine($"client {accepted} connected from {client.RemoteEndPoint}");
                connections.Add(new Connection(accepted, client, loop, output, closed => connections.Remove(closed)));
            }
        });

        int exitCode = 0;
        Thread? selfTestClient = null;
        IDisposable? selfTestReports = null;
        if (selfTest)
        {
            // The client runs on its own thread with a blocking socket and reports back through a channel, so its
            // verdict is printed by the loop thread, which then stops the loop.
            var (report, reports) = loop.Channel<string?>();
            selfTestReports = reports.Subscribe(failure =>
            {
                if (failure is null)
                {
                    output.WriteLine("echo self-test passed");
                }
                else
                {
                    output.WriteLine($"echo self-test FAILED: {failure}");
                    exitCode = 1;
                }

                loop.Stop();
            });
            selfTestClient = new Thread(() =>
            {
                using (report)
                {
                    report.Send(RunSelfTestClient(endPoint));
                }
            })
            { IsBackground = true };
            selfTestClient.Start();
        }

        loop.Run();

        selfTestReports?.Dispose();
        selfTestClient?.Join();
        foreach (Connection connection in connections.ToArray())
        {
            connection.Close("server stopping");
        }

        output.WriteLine("echo server stopped");
        return exitCode;
    }

    private static Socket? TryAccept(Socket listener)
    {
        try
        {
            return listener.Accept();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
        {
            // The backlog is empty (another wake-up already took the connection, or the client gave up).
            return null;
        }
    }

    /// <summary>The self-test's client: blocking calls on its own thread. Returns null on success, else what went wrong.</summary>
    private static string? RunSelfTestClient(IPEndPoint server)
    {
        // The last message is large enough to fill the socket buffers, so the server must queue output and wait for Writable.
        byte[] large = new byte[16 << 20];
        for (int i = 0; i < large.Length; i++)
        {
            large[i] = (byte)(i * 31 % 251);
        }

        byte[][] messages = ["hello"u8.ToArray(), "calloop"u8.ToArray(), large];
        try
        {
            // A small fixed receive buffer (no autotuning) keeps the kernel from absorbing the whole echo.
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            {
                ReceiveBufferSize = 64 * 1024,
                ReceiveTimeout = 5000,
                SendTimeout = 5000,
            };
            client.Connect(server);
            foreach (byte[] message in messages)
            {
                for (int sent = 0; sent < message.Length;)
                {
                    sent += client.Send(message.AsSpan(sent));
                }

                byte[] echo = new byte[message.Length];
                for (int received = 0; received < echo.Length;)
                {
                    int n = client.Receive(echo.AsSpan(received));
                    if (n == 0)
                    {
                        return $"the server closed the connection after {received} of {echo.Length} bytes";
                    }

                    received += n;
                }

                if (!echo.AsSpan().SequenceEqual(message))
                {
                    return $"a {message.Length}-byte message came back altered";
                }
            }

            // Half-close: the server sees EOF, finishes echoing (nothing left) and closes its side.
            client.Shutdown(SocketShutdown.Send);
            return client.Receive(new byte[1]) == 0 ? null : "the server sent more than it received";
        }
        catch (SocketException e)
        {
            return $"{e.SocketErrorCode}: {e.Message}";
        }
    }

    /// <summary>One client: its socket, its fd source, and the bytes received but not yet echoed.</summary>
    private sealed class Connection
    {
        private readonly int _id;
        private readonly Socket _socket;
        private readonly FdSource _source;
        private readonly IDisposable _subscription;
        private readonly TextWriter _output;
        private readonly Action<Connection> _onClosed;
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

        public Connection(int id, Socket socket, EventLoop loop, TextWriter output, Action<Connection> onClosed)
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
}
