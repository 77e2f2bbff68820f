using Calloop.Rx.Interop;

namespace Calloop.Rx.Loop;

/// <summary>
/// calloop's per-dispatch hooks of custom sources that ask for them: before the wait a source may inject one
/// synthetic event (which turns the wait into a poll), and after it each source sees its real events of that poll
/// before any is delivered. Most loops have no such source, so the dispatch checks <see cref="IsEmpty"/> first.
/// </summary>
/// <remarks>Adding and removing hold the gate; running the hooks is for the thread that holds the dispatch role.</remarks>
internal sealed class LifecycleHooks
{
    private readonly List<(Readiness Readiness, Token Token)> _events = [];

    // Replaced (never mutated) on change: each dispatch reads it without the gate and without copying it.
    private ILoopSource[] _sources = [];

    /// <summary>Whether no source has hooks (one load, checked on every dispatch).</summary>
    public bool IsEmpty => Volatile.Read(ref _sources).Length == 0;

    /// <summary>Caller holds the gate.</summary>
    public void AddLocked(ILoopSource source) => Volatile.Write(ref _sources, [.. _sources, source]);

    /// <summary>Caller holds the gate.</summary>
    public void RemoveLocked(ILoopSource source)
    {
        if (Array.IndexOf(_sources, source) >= 0)
        {
            Volatile.Write(ref _sources, Array.FindAll(_sources, other => other != source));
        }
    }

    /// <summary>
    /// The before-sleep phase: replaces <paramref name="synthetic"/> with the events the sources inject; true if there
    /// are any. A hook that throws fails its source.
    /// </summary>
    public bool RunBeforeSleep(List<(ILoopSource Source, Token Token, Readiness Readiness)> synthetic)
    {
        synthetic.Clear();
        foreach (ILoopSource source in Volatile.Read(ref _sources))
        {
            try
            {
                if (source.BeforeSleep(out Token token, out Readiness readiness) && token.SameRegistration(source.Token))
                {
                    synthetic.Add((source, token, readiness));
                }
            }
            catch (Exception e)
            {
                source.Fail(e);
            }
        }

        return synthetic.Count > 0;
    }

    /// <summary>The before-handle-events phase: shows each source its own events among the first <paramref name="count"/> of <paramref name="epoll"/>.</summary>
    public void RunBeforeHandleEvents(Epoll epoll, int count)
    {
        foreach (ILoopSource source in Volatile.Read(ref _sources))
        {
            _events.Clear();
            for (int i = 0; i < count; i++)
            {
                ulong data = epoll.DataAt(i);
                if (data != Waiter.WakerToken && new Token(data).SameRegistration(source.Token))
                {
                    _events.Add((Readiness.FromEpoll(epoll.EventsAt(i)), new Token(data)));
                }
            }

            try
            {
                source.BeforeHandleEvents(_events);
            }
            catch (Exception e)
            {
                source.Fail(e);
            }
        }
    }
}
