using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Stress;

/// <summary>A background thread of a race test whose exception is kept and rethrown by <see cref="Join"/>.</summary>
public sealed class RaceThread
{
    private readonly Thread _thread;
    private Exception? _error;

    private RaceThread(string name, Action body)
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
        })
        {
            IsBackground = true,
            Name = name,
        };
    }

    /// <summary>Whether the thread is blocked (in a wait, a join or a sleep) right now.</summary>
    public bool IsBlocked => (_thread.ThreadState & ThreadState.WaitSleepJoin) != 0;

    public static RaceThread Start(string name, Action body)
    {
        var thread = new RaceThread(name, body);
        thread._thread.Start();
        return thread;
    }

    /// <summary>Asserts that the thread ends within <see cref="LoopExtensions.Patience"/>, then rethrows what it threw.</summary>
    public void Join()
    {
        Assert.True(_thread.Join(LoopExtensions.Patience), $"{_thread.Name} did not finish");
        if (_error is not null)
        {
            throw new InvalidOperationException($"{_thread.Name} threw", _error);
        }
    }
}
