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

        var connections = new List<EchoConnection>();
        int accepted = 0;

        // Level-triggered: while a connection waits in the backlog, every dispatch reports the listener readable.
        using IDisposable accepting = loop.Fd(listener, Interest.Read).Subscribe(_ =>
        {
            while (TryAccept(listener) is { } client)
            {
                accepted++;
                output.WriteLine($"client {accepted} connected from {client.RemoteEndPoint}");
                connections.Add(new EchoConnection(accepted, client, loop, output, closed => connections.Remove(closed)));
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
        foreach (EchoConnection connection in connections.ToArray())
        {
            connection.Close("server stopping");
        }

        output.WriteLine("echo server stopped");
        return exitCode;
    }

    /// <summary>Accepts one waiting connection from a non-blocking listener; null when none is waiting.</summary>
    internal static Socket? TryAccept(Socket listener)
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
}
