using System.Reactive.Concurrency;
using System.Runtime.InteropServices;
using Calloop.Rx.Samples.Interop;

namespace Calloop.Rx.Samples;

/// <summary>
/// Unix signals on the loop: prints SIGINT (Ctrl-C), SIGTERM, SIGHUP and SIGUSR1 as they arrive and ends cleanly on
/// SIGINT or SIGTERM. With <c>--self-test</c> it sends itself SIGUSR1 and then SIGTERM, so it ends by itself.
/// </summary>
public static class SignalsSample
{
    /// <summary>.NET names only the portable signals; others are passed as their Linux number.</summary>
    private const PosixSignal SIGUSR1 = (PosixSignal)10;

    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        bool selfTest = args.Contains("--self-test");

        using var loop = new EventLoop();
        SignalSource signals = loop.Signals(PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, SIGUSR1);

        // While this subscription lives, these signals no longer run their default action (SIGTERM would end the
        // process): each one becomes an event on the loop thread instead.
        using IDisposable subscription = signals.Subscribe(signal =>
        {
            output.WriteLine($"Received {Name(signal.Signal)} (signal {signal.Number}, {signal.Count}x) at {signal.Time:O}");
            if (signal.Signal is PosixSignal.SIGINT or PosixSignal.SIGTERM)
            {
                output.WriteLine("Shutting down cleanly");
                loop.Stop();
            }
            else if (selfTest && signal.Signal == SIGUSR1)
            {
                SelfSignal.Terminate();
            }
        });

        output.WriteLine($"Process {Environment.ProcessId} waits for signals: Ctrl-C or `kill {Environment.ProcessId}` ends it, `kill -HUP` or `kill -USR1` just says hello.");
        if (selfTest)
        {
            // Scheduled work runs in the first dispatch, once the loop is running and the signals are ours.
            loop.Scheduler.Schedule(SelfSignal.User1);
        }

        loop.Run();
        return 0;
    }

    private static string Name(PosixSignal signal) => signal == SIGUSR1 ? "SIGUSR1" : signal.ToString();
}
