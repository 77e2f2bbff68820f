using Calloop.Rx.Samples.ZeroMQ;

namespace Calloop.Rx.Samples;

/// <summary>Runs one sample by name: <c>dotnet run --project Calloop.Rx.Samples -- &lt;name&gt; [arguments]</c>.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            return Usage();
        }

        // Each sample gets the arguments after its name.
        string[] rest = args[1..];
        return args[0] switch
        {
            "zeromq" => ZeroMqSample.Run(rest, Console.Out),
            "zeromq-peer" => ZeroMqPeer.Run(rest, Console.Out),
            _ => Usage(),
        };
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Calloop.Rx.Samples <sample> [arguments]");
        Console.Error.WriteLine("  zeromq                       REQ/REP and PUB/SUB on one loop");
        Console.Error.WriteLine("  zeromq-peer <endpoint> [n]   a REP echo peer: connects, echoes n requests (default 1000) or until \"quit\"");
        return 2;
    }
}
