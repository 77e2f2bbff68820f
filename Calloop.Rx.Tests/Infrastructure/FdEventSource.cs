namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>
/// The tests' one custom source over a readable fd the test owns (a pipe's read end, usually), for where a test
/// needs "a user's <see cref="IEventSource{T}"/>" next to the built-ins. Each event of its token drains the fd and
/// emits how many bytes it read, then returns <see cref="After"/>; with <see cref="Failure"/> set it throws that
/// instead of emitting; with <see cref="UnregisterFailure"/> set its <see cref="Unregister"/> throws that after
/// removing the fd. It counts the lifecycle calls it receives, so tests can check what the loop asked of it.
/// </summary>
public sealed class FdEventSource(int fd) : IEventSource<int>
{
    private Token _token;

    public int RegisterCount { get; private set; }

    public int ReregisterCount { get; private set; }

    public int UnregisterCount { get; private set; }

    /// <summary>How many events of its token the source has processed (those that threw included).</summary>
    public int ProcessCount { get; private set; }

    /// <summary>What <see cref="ProcessEvents"/> returns after an event; <see cref="PostAction.Continue"/> by default.</summary>
    public PostAction After { get; set; } = PostAction.Continue;

    /// <summary>When set, event processing throws this (after draining the fd), which ends the source with OnError.</summary>
    public Exception? Failure { get; set; }

    /// <summary>When set, <see cref="Unregister"/> throws this after removing the fd, as a faulty user source might.</summary>
    public Exception? UnregisterFailure { get; init; }

    /// <summary>
    /// Whether the source opts into the lifecycle hooks; it keeps the interface's default (no-op) hooks either way, so
    /// opting in shows that the defaults alone deliver events.
    /// </summary>
    public bool NeedsExtraLifecycleEvents { get; init; }

    public void Register(Poller poller, TokenFactory tokens)
    {
        _token = tokens.Next();
        poller.Register(fd, Interest.Read, TriggerMode.Level, _token);
        RegisterCount++;
    }

    public void Reregister(Poller poller, TokenFactory tokens)
    {
        _token = tokens.Next();
        poller.Reregister(fd, Interest.Read, TriggerMode.Level, _token);
        ReregisterCount++;
    }

    public void Unregister(Poller poller)
    {
        poller.Unregister(fd);
        UnregisterCount++;
        if (UnregisterFailure is not null)
        {
            throw UnregisterFailure;
        }
    }

    public PostAction ProcessEvents(Readiness readiness, Token token, Action<int> emit)
    {
        if (token != _token)
        {
            return PostAction.Continue;
        }

        ProcessCount++;
        int read = Interop.TestSys.Drain(fd).Length;
        if (Failure is not null)
        {
            throw Failure;
        }

        emit(read);
        return After;
    }
}
