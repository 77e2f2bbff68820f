using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// A peer socket driven by blocking calls on its own thread (as a separate program would). Its sockets should have
/// receive and send timeouts, so a failed test ends the thread instead of hanging it. <see cref="Join"/> waits a
/// bounded time and rethrows what the peer threw.
/// </summary>
public sealed class PeerThread
{
    private readonly Thread _thread;
    private Exception? _error;
    private volatile bool _finished;

    private PeerThread(string name, Action body)
    {
        _thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                _error = e;
            }
            finally
            {
                _finished = true;
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
    }

    public bool IsFinished => _finished;

    public bool Failed => _finished && _error is not null;

    public static PeerThread Start(string name, Action body)
    {
        var peer = new PeerThread(name, body);
        peer._thread.Start();
        return peer;
    }

    public void Join()
    {
        Assert.True(_thread.Join(LoopExtensions.Patience), $"peer thread {_thread.Name} did not finish");
        if (_error is not null)
        {
            throw new InvalidOperationException($"peer thread {_thread.Name} failed", _error);
        }
    }
}
