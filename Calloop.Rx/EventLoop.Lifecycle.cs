namespace Calloop.Rx;

public sealed partial class EventLoop
{
    private readonly List<(Readiness Readiness, Token Token)> _hookEvents = [];

    // Sources with lifecycle hooks, as an array replaced (never mutated) on change: each dispatch reads it without the
    // gate and without copying it.
    private ILoopSource[] _lifecycleSources = [];

    /// <summary>Caller holds the gate.</summary>
    internal void AddLifecycleSourceLocked(ILoopSource source) => Volatile.Write(ref _lifecycleSources, [.. _lifecycleSources, source]);

    /// <summary>Caller holds the gate.</summary>
    internal void RemoveLifecycleSourceLocked(ILoopSource source)
    {
        if (Array.IndexOf(_lifecycleSources, source) >= 0)
        {
            Volatile.Write(ref _lifecycleSources, Array.FindAll(_lifecycleSources, other => other != source));
        }
    }

    /// <summary>calloop's before_sleep phase: sources may inject one synthetic event each, which makes the wait a poll.</summary>
    private bool RunBeforeSleepHooks()
    {
        _synthetic.Clear();
        foreach (ILoopSource source in Volatile.Read(ref _lifecycleSources))
        {
            try
            {
                if (source.BeforeSleep(out Token token, out Readiness readiness) && token.SameRegistration(source.Token))
                {
                    _synthetic.Add((source, token, readiness));
                }
            }
            catch (Exception e)
            {
                source.Fail(e);
            }
        }

        return _synthetic.Count > 0;
    }

    /// <summary>calloop's before_handle_events phase: each source sees its real events of this poll before any is processed.</summary>
    private void RunBeforeHandleEventsHooks()
    {
        foreach (ILoopSource source in Volatile.Read(ref _lifecycleSources))
        {
            _hookEvents.Clear();
            for (int i = 0; i < _eventCount; i++)
            {
                var token = new Token(_epoll.DataAt(i));
                if (_epoll.DataAt(i) != WakerToken && token.SameRegistration(source.Token))
                {
                    _hookEvents.Add((Readiness.FromEpoll(_epoll.EventsAt(i)), token));
                }
            }

            try
            {
                source.BeforeHandleEvents(_hookEvents);
            }
            catch (Exception e)
            {
                source.Fail(e);
            }
        }
    }
}
