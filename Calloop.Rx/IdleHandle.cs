namespace Calloop.Rx;

/// <summary>
/// Returned by <see cref="EventLoop.InsertIdle(Action)"/>: disposing it cancels the idle callback if it has not run
/// yet (exactly on the loop thread; best effort from another thread). A struct, so queueing an idle allocates nothing.
/// </summary>
public readonly struct IdleHandle : IDisposable
{
    private readonly EventLoop? _loop;
    private readonly long _id;

    internal IdleHandle(EventLoop loop, long id)
    {
        _loop = loop;
        _id = id;
    }

    /// <summary>Cancels the callback if it has not run. Idempotent; does nothing on a disposed loop.</summary>
    public void Dispose() => _loop?.CancelIdle(_id);
}
