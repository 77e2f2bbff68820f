namespace Calloop.Rx.Samples;

/// <summary>Runs one sample by name: <c>dotnet run --project Calloop.Rx.Samples -- &lt;name&gt; [arguments]</c>.</summary>
public static class Program
{
    private static readonly (string Name, string Arguments, string Description, Func<string[], TextWriter, int> Run)[] s_samples =
    [
        ("timer", "[milliseconds]", "a timer stops the loop: the calloop crate's first example (default 2000 ms)", TimerSample.Run),
        ("channel", "", "producer threads feed a Channel and a BoundedChannel; Rx operators print what arrives", ChannelSample.Run),
        ("signals", "[--self-test]", "prints SIGINT, SIGTERM, SIGHUP and SIGUSR1; ends cleanly on SIGINT or SIGTERM", SignalsSample.Run),
        ("watch", "<path> | --self-test", "prints changes under a file or directory tree as they happen (inotify)", WatchSample.Run),
        ("run", "<program> [arguments]", "starts a child process; prints its output lines and exit status through Rx operators", RunSample.Run),
        ("echo", "[port] [--self-test]", "a TCP echo server on 127.0.0.1 made of non-blocking sockets and loop.Fd", EchoSample.Run),
        ("async", "", "the calloop book's friendly/aloof exchange: two async tasks spawned on the loop", Async.AsyncSample.Run),
        ("adapt-io", "", "the book's socket pair \"Hello, world!\" through the async fd adapter", AdaptIo.AdaptIoSample.Run),
        ("lines", "", "a composite source written outside the library: lines read from a pipe, split across reads", Lines.LinesSample.Run),
        ("counters", "[seconds] [--self-test]", "a busy loop publishing the Calloop.Rx meter, for dotnet-counters (default 60 s)", Counters.CountersSample.Run),
        ("monitor", "", "a terminal UI (Terminal.Gui) of the loop's sources and figures, with keys to disable, enable and remove them", MonitorSample.Run),
        ("zeromq", "", "the calloop book's ZeroMQ source composed with Rx: REQ/REP and PUB/SUB on one loop", ZeroMQ.ZeroMqSample.Run),
        ("zeromq-peer", "<endpoint> [n]", "a REP echo peer in its own process: echoes n requests (default 1000) or until \"quit\"", ZeroMQ.ZeroMqPeer.Run),
    ];

    /// <summary>The names of the samples, in the order they are listed.</summary>
    public static IReadOnlyList<string> SampleNames { get; } = [.. s_samples.Select(s => s.Name)];

    public static int Main(string[] args) => Run(args, Console.Out);

    /// <summary>Runs the sample named by <paramref name="args"/>[0] with the remaining arguments; lists the samples otherwise.</summary>
    /// <returns>The sample's exit code; 0 after listing the samples for no name, 2 for an unknown one.</returns>
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        if (args.Length == 0)
        {
            PrintSamples(output);
            return 0;
        }

        foreach (var sample in s_samples)
        {
            if (string.Equals(sample.Name, args[0], StringComparison.OrdinalIgnoreCase))
            {
                return sample.Run(args[1..], output);
            }
        }

        output.WriteLine($"Unknown sample '{args[0]}'.");
        PrintSamples(output);
        return 2;
    }

    private static void PrintSamples(TextWriter output)
    {
        output.WriteLine("Calloop.Rx samples. Usage: dotnet run --project Calloop.Rx.Samples -- <name> [arguments]");
        output.WriteLine();
        int width = s_samples.Max(s => s.Name.Length + 1 + s.Arguments.Length);
        foreach (var sample in s_samples)
        {
            output.WriteLine($"  {(sample.Name + " " + sample.Arguments).PadRight(width)}  {sample.Description}");
        }
    }
}
