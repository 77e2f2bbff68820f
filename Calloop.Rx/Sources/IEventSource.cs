namespace Calloop.Rx;

/// <summary>
/// A low-level event source (calloop's <c>EventSource</c> trait) for what the built-in sources do not cover:
/// several fds owned by one source, a protocol that must drain a socket in a particular way, a lock taken
/// before the loop sleeps. Insert it with <see cref="EventLoop.Insert{T}(IEventSource{T})"/>; the resulting
/// <see cref="LoopSource{T}"/> registers it when first subscribed.
/// </summary>
/// <typeparam name="T">The events it produces.</typeparam>
/// <remarks>
/// <para>Notes to implementers: every member is called on the loop thread, or under the loop's lock from the
/// thread that subscribes or changes the source, never concurrently. Register each fd with a token from the
/// given <see cref="TokenFactory"/>; ignore events whose token you did not hand out. Unregister every fd you
/// registered. An exception thrown from <see cref="ProcessEvents"/> means the source failed: its subscribers get
/// <c>OnError</c> and it is unregistered; the other sources go on.</para>
/// </remarks>
public interface IEventSource<T>
{
    /// <summary>Whether the loop calls <see cref="BeforeSleep"/> and <see cref="BeforeHandleEvents"/> on every dispatch while the source is registered and enabled.</summary>
    bool NeedsExtraLifecycleEvents => false;

    /// <summary>Registers the source's fds with <paramref name="poller"/>.</summary>
    void Register(Poller poller, TokenFactory tokens);

    /// <summary>Registers again after <see cref="PostAction.Reregister"/> or <see cref="LoopSource{T}.Update"/> (fresh tokens).</summary>
    void Reregister(Poller poller, TokenFactory tokens);

    /// <summary>Removes every fd the source registered.</summary>
    void Unregister(Poller poller);

    /// <summary>Handles one event for one of the source's tokens, calling <paramref name="emit"/> for each event to deliver.</summary>
    /// <param name="readiness">What the kernel reported (or what <see cref="BeforeSleep"/> injected).</param>
    /// <param name="token">Which of the source's registrations fired.</param>
    /// <param name="emit">Delivers an event to every subscriber. Observer exceptions do not come back through it; they come out of <c>Dispatch</c> after this method returns.</param>
    /// <returns>What the loop should do with the source now.</returns>
    PostAction ProcessEvents(Readiness readiness, Token token, Action<T> emit);

    /// <summary>
    /// Called before the loop waits. Returning true injects a synthetic event for <paramref name="token"/> (one of
    /// this source's) and makes the wait return at once, as calloop's <c>before_sleep</c>.
    /// </summary>
    bool BeforeSleep(out Token token, out Readiness readiness)
    {
        token = default;
        readiness = default;
        return false;
    }

    /// <summary>Called after the wait and before any event is processed, with this source's real events of this poll (possibly none).</summary>
    void BeforeHandleEvents(IReadOnlyList<(Readiness Readiness, Token Token)> events)
    {
    }
}
