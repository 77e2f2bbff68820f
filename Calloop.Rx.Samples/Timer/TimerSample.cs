using System.Globalization;

namespace Calloop.Rx.Samples;

/// <summary>
/// The calloop crate's first example: a timer that stops the loop when it fires. Optional argument: the delay in
/// milliseconds (default 2000), so that tests and CI can run it quickly.
/// </summary>
public static class TimerSample
{
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        TimeSpan delay = TimeSpan.FromSeconds(2);
        if (args.Length > 0)
        {
            if (!int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int milliseconds))
            {
                output.WriteLine($"timer: expected a delay in milliseconds, got '{args[0]}'");
                return 2;
            }

            delay = TimeSpan.FromMilliseconds(milliseconds);
        }

        // Create the event loop. The thread that runs it is the loop thread: every notification below arrives there.
        using var loop = new EventLoop();

        // Subscribing registers the timer with the loop; the subscription is the registration token.
        using IDisposable subscription = loop.Timer(delay).Subscribe(deadline =>
        {
            // The event is the deadline that fired (not "now"), so lateness can be measured.
            output.WriteLine($"Timeout for {deadline:O} expired!");

            // Stop is callable from anywhere; Run returns after the current dispatch.
            loop.Stop();
        });

        // Dispatch until stopped, waiting at most 20 ms between iterations; afterDispatch is where per-iteration
        // work would go (calloop's example leaves it empty too, e.g. the drawing of a GUI).
        loop.Run(TimeSpan.FromMilliseconds(20), afterDispatch: _ => { });
        return 0;
    }
}
