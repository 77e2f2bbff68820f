namespace Calloop.Rx.Diagnostics;

/// <summary>
/// One observer's hold on a loop's diagnostics: the first installs the loop's <see cref="LoopMonitor"/>, the last
/// disposal removes it, so that the hot paths are back to testing one null field.
/// </summary>
internal sealed class MonitorLease : IDisposable
{
    private readonly EventLoop _loop;
    private int _disposed;

    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public MonitorLease(EventLoop loop)
    {
        _loop = loop;
        lock (loop.Gate)
        {
            Monitor = loop.Cycle.AcquireMonitorLocked();
        }
    }

    public LoopMonitor Monitor { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            lock (_loop.Gate)
            {
                _loop.Cycle.ReleaseMonitorLocked();
            }
        }
    }
}
