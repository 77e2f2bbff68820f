namespace Calloop.Rx.Tests.Infrastructure;

public static class LoopExtensions
{
    /// <summary>How long a test waits for a real event before failing; far above any expected latency.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(4);

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
