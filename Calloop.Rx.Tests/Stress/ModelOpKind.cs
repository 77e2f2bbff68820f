namespace Calloop.Rx.Tests.Stress;

/// <summary>What an operation does.</summary>
public enum ModelOpKind
{
    /// <summary>Subscribes a new observer to a source.</summary>
    Subscribe,

    /// <summary>Disposes a subscription (for a timer: cancels it).</summary>
    Unsubscribe,

    /// <summary><see cref="LoopSource{T}.Enable"/>.</summary>
    Enable,

    /// <summary><see cref="LoopSource{T}.Disable"/>.</summary>
    Disable,

    /// <summary><see cref="LoopSource{T}.Update"/>.</summary>
    Update,

    /// <summary><see cref="LoopSource{T}.Remove"/>.</summary>
    Remove,

    /// <summary>A send on the source's sender (TrySend, or Ping.Send).</summary>
    Send,

    /// <summary>Disposes the source's only sender.</summary>
    DisposeSender,

    /// <summary>Creates a one-shot timer and subscribes to it.</summary>
    InsertTimer,

    /// <summary><c>Dispatch(TimeSpan.Zero)</c>.</summary>
    Dispatch,

    /// <summary><c>AdvanceBy</c> on the virtual clock.</summary>
    Advance,

    /// <summary>Disposes the loop.</summary>
    DisposeLoop
}
