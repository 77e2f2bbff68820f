namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>
/// Guards a wait that must end on its own (<c>Dispatch(null)</c>, <c>Run</c>): if the loop is still waiting after
/// <see cref="LoopExtensions.Patience"/>, the watchdog stops and wakes it and records that it had to, so the test
/// fails with a message instead of hanging. It is a failure bound, not a way to synchronise.
/// </summary>
public sealed class Watchdog : IDisposable
{
    private readonly System.Threading.Timer _timer;
    private volatile bool _fired;

    public Watchdog(EventLoop loop)
    {
        _timer = new System.Threading.Timer(
            _ =>
            {
                _fired = true;
                loop.Stop();
            },
            null,
            LoopExtensions.Patience,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>Whether the loop had to be woken by the watchdog.</summary>
    public bool Fired => _fired;

    /// <summary>Fails the test if the watchdog had to wake the loop.</summary>
    public void AssertNotFired(string what) => Assert.False(_fired, $"the loop had to be woken by the watchdog: {what}");

    /// <summary>Runs <c>Dispatch(null)</c>, which the test expects to return by itself, under a watchdog.</summary>
    public static void Dispatch(EventLoop loop, string what)
    {
        using var watchdog = new Watchdog(loop);
        loop.Dispatch();
        watchdog.AssertNotFired(what);
    }

    public void Dispose() => _timer.Dispose();
}
