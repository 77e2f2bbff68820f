namespace Calloop.Rx;

/// <summary>An idle callback queued by <see cref="EventLoop.InsertIdle(Action)"/>; disposing cancels it.</summary>
internal sealed class Idle(Action callback) : IDisposable
{
    private volatile bool _cancelled;

    public void Run(EventLoop loop)
    {
        if (_cancelled)
        {
            return;
        }

        _cancelled = true;
        try
        {
            callback();
        }
        catch (Exception e)
        {
            loop.RecordFailure(e);
        }
    }

    public void Dispose() => _cancelled = true;
}
