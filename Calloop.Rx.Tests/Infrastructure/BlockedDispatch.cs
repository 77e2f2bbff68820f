namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>
/// One <c>Dispatch(null)</c> on its own thread, started and known to have reached its wait (through a
/// <see cref="WaitProbe"/>), so a test can check that something done from another thread wakes it.
/// </summary>
public sealed class BlockedDispatch : IDisposable
{
    private readonly Thread _thread;
    private readonly WaitProbe _probe;
    private int _threadId;

    private BlockedDispatch(EventLoop loop)
    {
        _probe = new WaitProbe(loop);
        _thread = new Thread(() =>
        {
            Volatile.Write(ref _threadId, Environment.CurrentManagedThreadId);
            try
            {
                loop.Dispatch(null);
            }
            catch (Exception e)
            {
                Error = e;
            }
        })
        {
            IsBackground = true,
            Name = "BlockedDispatch",
        };
    }

    /// <summary>The managed id of the dispatching thread.</summary>
    public int ThreadId => Volatile.Read(ref _threadId);

    /// <summary>What the dispatch threw, if anything (read after <see cref="AssertReturns"/>).</summary>
    public Exception? Error { get; private set; }

    /// <summary>Starts the dispatch and returns once the loop thread is about to wait.</summary>
    public static BlockedDispatch Start(EventLoop loop)
    {
        var blocked = new BlockedDispatch(loop);
        blocked._thread.Start();
        blocked._probe.WaitUntilLoopWaits();
        return blocked;
    }

    /// <summary>Asserts that the dispatch returns within <see cref="LoopExtensions.Patience"/>.</summary>
    public void AssertReturns() =>
        Assert.True(_thread.Join(LoopExtensions.Patience), "the blocked Dispatch(null) was never woken");

    public void Dispose() => _probe.Dispose();
}
