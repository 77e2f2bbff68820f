using Calloop.Rx.Samples.Monitor;
using Terminal.Gui.App;

namespace Calloop.Rx.Samples;

/// <summary>
/// A terminal monitor of a loop (tokio-console's role): a live table of the loop's sources and their figures while an
/// echo server, timers and a producer channel run on it, with keys to disable, enable and remove the selected source.
/// </summary>
/// <remarks>
/// The loop runs on its own thread (<see cref="EventLoopThread"/>) and the UI follows it through
/// <see cref="Diagnostics.LoopDiagnostics.Changes"/> and <see cref="Diagnostics.LoopDiagnostics.Sample(TimeSpan)"/>
/// posted to Terminal.Gui's main loop, rather than being embedded in that main loop: Terminal.Gui 2 has no way to
/// watch a foreign fd (its drivers read the terminal on their own thread, and its main loop paces itself), so an
/// embedded loop would be polled from a UI timer, the echo server's latency tied to the UI's frame rate and a slow
/// redraw stalling the sockets. On its own thread the loop keeps its latency, and the monitor only observes it.
/// </remarks>
public static class MonitorSample
{
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        using (IApplication app = Application.Create().Init())
        using (var loopThread = EventLoopThread.Start("monitor loop"))
        using (var window = new MonitorWindow(loopThread.Loop, new TerminalGuiSynchronizationContext(app)))
        {
            // Sources may be created and subscribed from any thread; their events arrive on the loop thread.
            var workload = new MonitorWorkload(loopThread.Loop);
            try
            {
                app.Run(window);
            }
            finally
            {
                // Stop the loop first: then nothing is posted to a Terminal.Gui that is shutting down, and no
                // callback uses a socket the workload closes.
                loopThread.Dispose();
                workload.Dispose();
            }
        }

        output.WriteLine("monitor stopped");
        return 0;
    }
}
