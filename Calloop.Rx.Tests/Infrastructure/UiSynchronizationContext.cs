using System.Collections.Concurrent;

namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>
/// A single-threaded SynchronizationContext like a GUI framework's: posted callbacks run one at a time, in order, on
/// its own "UI" thread, which pumps them until the context is disposed.
/// </summary>
public sealed class UiSynchronizationContext : SynchronizationContext, IDisposable
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = [];
    private readonly Thread _thread;

    public UiSynchronizationContext()
    {
        _thread = new Thread(Pump) { Name = "UI", IsBackground = true };
        _thread.Start();
    }

    public int ManagedThreadId => _thread.ManagedThreadId;

    public override void Post(SendOrPostCallback d, object? state) => _queue.Add((d, state));

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("The test UI context only posts.");

    public override SynchronizationContext CreateCopy() => this;

    public void Dispose()
    {
        _queue.CompleteAdding();
        Assert.True(_thread.Join(LoopExtensions.Patience), "the UI thread did not end");
        _queue.Dispose();
    }

    private void Pump()
    {
        SetSynchronizationContext(this);
        foreach (var (callback, state) in _queue.GetConsumingEnumerable())
        {
            callback(state);
        }
    }
}
