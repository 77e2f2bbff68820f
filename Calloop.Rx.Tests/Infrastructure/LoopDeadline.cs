namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>
/// Bounds a documented example's plain <c>while (!done) loop.Dispatch(...)</c>: if the test is still running after
/// <see cref="LoopExtensions.Patience"/>, the loop is disposed, so the next <c>Dispatch</c> throws
/// <see cref="ObjectDisposedException"/> and the test fails instead of hanging. It is a failure bound, not a way to
/// synchronise; the example itself stays in public API.
/// </summary>
public sealed class LoopDeadline(EventLoop loop) : IDisposable
{
    private readonly System.Threading.Timer _timer = new(_ => loop.Dispose(), null, LoopExtensions.Patience, Timeout.InfiniteTimeSpan);

    public void Dispose() => _timer.Dispose();
}
