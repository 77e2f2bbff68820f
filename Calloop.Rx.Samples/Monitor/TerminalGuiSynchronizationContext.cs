using Terminal.Gui.App;

namespace Calloop.Rx.Samples.Monitor;

/// <summary>
/// Terminal.Gui's main loop as a <see cref="SynchronizationContext"/>: what <c>ObserveOn(context)</c> and
/// <see cref="Diagnostics.ObservableSourceCollection"/> take to hand the loop thread's notifications to the UI thread.
/// </summary>
internal sealed class TerminalGuiSynchronizationContext(IApplication app) : SynchronizationContext
{
    /// <summary>Queues <paramref name="d"/> to run on Terminal.Gui's main loop; returns at once.</summary>
    public override void Post(SendOrPostCallback d, object? state) => app.Invoke(() => d(state));

    /// <summary>Not supported: the loop thread must never wait for the UI.</summary>
    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("The loop thread does not wait for the UI thread: use Post.");

    /// <inheritdoc/>
    public override SynchronizationContext CreateCopy() => this;
}
