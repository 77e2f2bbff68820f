namespace Calloop.Rx.Tests.Infrastructure;

public static class LoopExtensions
{
    /// <summary>How long a test waits for a real event before failing; far above any expected latency.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(4);

    /// <summary>
    /// Subscribes to a source whose registration the kernel refuses and returns the <see cref="LoopException"/> its
    /// observer gets through <c>OnError</c> on the loop thread; the source stays unregistered.
    /// </summary>
    public static LoopException AssertRefused<T>(this LoopSource<T> source)
    {
        var observer = new ContractObserver<T>(source.Loop);
        using IDisposable subscription = source.Subscribe(observer);
        Assert.False(source.IsActive);
        source.Loop.Dispatch(TimeSpan.Zero);
        observer.AssertClean();
        Assert.Empty(observer.Values);
        return Assert.IsType<LoopException>(observer.Error);
    }

    /// <summary>Dispatches until <paramref name="condition"/> holds; fails after <see cref="Patience"/>.</summary>
    public static void DispatchUntil(this EventLoop loop, Func<bool> condition, string? what = null)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            TimeSpan left = deadline - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero, $"timed out waiting for {what ?? "the condition"}");
            loop.Dispatch(left < TimeSpan.FromMilliseconds(50) ? left : TimeSpan.FromMilliseconds(50));
        }
    }
}
