namespace Calloop.Rx;

/// <summary>
/// What a <see cref="SourceRegistration"/> drives: the hooks that each kind of source overrides in
/// <see cref="LoopSource{T}"/>, which stay <c>private protected</c> there and are reached through this interface.
/// The hooks are called under the loop's gate.
/// </summary>
internal interface IRegistrationHooks : ILoopSource
{
    /// <summary>The loop the source is registered with.</summary>
    EventLoop Loop { get; }

    /// <summary>Whether the source needs a token (a slab slot) for epoll events.</summary>
    bool UsesToken { get; }

    /// <summary>Registers with epoll, the timer heap or a notifier; throws <see cref="LoopException"/> on refusal.</summary>
    void Arm();

    /// <summary>Unregisters; must not throw (see <see cref="TakeDisarmFailure"/>).</summary>
    void Disarm();

    /// <summary>Applies changed settings while armed.</summary>
    void Rearm();

    /// <summary>What the last <see cref="Disarm"/> caught from user code, once; null if nothing.</summary>
    Exception? TakeDisarmFailure();

    /// <summary>The source was unregistered; must not throw.</summary>
    void OnDeactivated();
}
