using System.Net.Sockets;
using System.Reactive.Linq;
using System.Text;

namespace Calloop.Rx.Samples.AdaptIo;

/// <summary>
/// The calloop book's "Async IO types": a pair of connected Unix domain sockets adapted for async code with
/// <see cref="EventLoop.AsyncFd(Socket)"/>; one async block writes "Hello, world!", the other reads it.
/// </summary>
public static class AdaptIoSample
{
    public static int Run(string[] args, TextWriter output)
    {
        using var loop = new EventLoop();
        var (left, right) = SocketPair();
        using (left)
        using (right)
        {
            // Our async-ified Unix domain sockets.
            using AsyncFd sender = loop.AsyncFd(left);
            using AsyncFd receiver = loop.AsyncFd(right);

            IObservable<string> receive = loop.Spawn(async () =>
            {
                var buffer = new byte[13];
                await receiver.AsStream().ReadExactlyAsync(buffer);
                return Encoding.UTF8.GetString(buffer);
            });
            IObservable<string> send = loop.Spawn(async () =>
            {
                await sender.AsStream().WriteAsync("Hello, world!"u8.ToArray());
                return "Sent data...";
            });

            int exitCode = 0;
            receive.Merge(send).Subscribe(
                result => output.WriteLine($"Async block ended with: {result}"),
                error =>
                {
                    output.WriteLine($"Async block failed: {error.Message}");
                    exitCode = 1;
                    loop.Stop();
                },
                loop.Stop);

            output.WriteLine("Starting event loop.");
            loop.Run();
            output.WriteLine("Event loop ended.");
            return exitCode;
        }
    }

    /// <summary>Two connected Unix domain stream sockets (Rust's <c>UnixStream::pair()</c>), through a listener on an abstract address.</summary>
    private static (Socket Left, Socket Right) SocketPair()
    {
        var endpoint = new UnixDomainSocketEndPoint($"\0calloop-rx-adapt-io-{Environment.ProcessId}-{Guid.NewGuid():N}");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(endpoint);
        listener.Listen(1);
        var left = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        left.Connect(endpoint);
        return (left, listener.Accept());
    }
}
