using System.Diagnostics;
using System.Text;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Samples.ZeroMQ;

/// <summary>
/// <c>zeromq-peer &lt;endpoint&gt; [count]</c>: a REP echo peer in its own process, for trying a loop against a
/// real remote socket. It connects to the endpoint, echoes every request, and exits after <c>count</c> requests
/// (default 1000), after a request <c>quit</c> (answered <c>bye</c>), or after ten seconds without a request.
/// </summary>
public static class ZeroMqPeer
{
    private static readonly TimeSpan s_idleLimit = TimeSpan.FromSeconds(10);

    public static int Run(string[] args, TextWriter output)
    {
        // Accept the sample's own name first too, in case the dispatcher passes every argument along.
        string[] rest = args.Length > 0 && args[0] == "zeromq-peer" ? args[1..] : args;
        if (rest.Length is < 1 or > 2 || (rest.Length == 2 && !int.TryParse(rest[1], out _)))
        {
            output.WriteLine("usage: zeromq-peer <endpoint> [count]");
            return 2;
        }

        string endpoint = rest[0];
        int limit = rest.Length == 2 ? int.Parse(rest[1]) : 1000;

        using var context = new ZmqContext();
        using var loop = new EventLoop();
        var socket = new ZmqSocket(context, ZmqSocketType.Rep);
        socket.Connect(endpoint);
        var (reply, requests) = ZmqSource.Create(loop, socket);

        int served = 0;
        bool idle = false;
        var watchdog = loop.Timer(s_idleLimit, _ => TimeoutAction.Drop);
        using var idleSubscription = watchdog.Subscribe(_ =>
        {
            idle = true;
            loop.Stop();
        });
        using var subscription = requests.Subscribe(request =>
        {
            served++;
            watchdog.Deadline = loop.Now + s_idleLimit;
            watchdog.Update();
            if (Encoding.UTF8.GetString(request[0]) == "quit")
            {
                reply.Send([Encoding.UTF8.GetBytes("bye")]);
                loop.Stop();
                return;
            }

            reply.Send(request);
            if (served == limit)
            {
                loop.Stop();
            }
        });

        output.WriteLine($"peer: echoing on {endpoint}");
        output.Flush();
        loop.Run();

        // The last reply may still be queued: let the loop hand it to libzmq (for at most a second), then close with
        // a linger, which gives libzmq up to a second more (spent when the context is disposed) to put it on the wire.
        Task drained = reply.WhenDrainedAsync();
        var flushing = Stopwatch.StartNew();
        while (!drained.IsCompleted && flushing.Elapsed < TimeSpan.FromSeconds(1))
        {
            loop.Dispatch(TimeSpan.FromMilliseconds(10));
        }

        socket.Close(TimeSpan.FromSeconds(1));
        output.WriteLine(idle ? $"peer: idle, served {served}" : $"peer: served {served}");
        return idle ? 1 : 0;
    }
}
