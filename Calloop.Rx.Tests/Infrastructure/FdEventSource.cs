namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>
/// A minimal custom source over one readable, non-blocking fd the test owns: each event drains the fd and emits
/// how many bytes it read. Used where a test needs "a user's <see cref="IEventSource{T}"/>" next to the built-ins.
/// </summary>
public sealed class FdEventSource(int fd) : IEventSource<int>
{
    private Token _token;

    public int RegisterCount { get; private set; }

    public int UnregisterCount { get; private set; }

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
    }

    public void Unregister(Poller poller)
    {
        poller.Unregister(fd);
        UnregisterCount++;
    }

    public PostAction ProcessEvents(Readiness readiness, Token token, Action<int> emit)
    {
        if (token == _token)
        {
            emit(Interop.TestSys.Drain(fd).Length);
        }

        return PostAction.Continue;
    }
}
