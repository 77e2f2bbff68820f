namespace Calloop.Rx.Diagnostics;

/// <summary>Where a source stands in its life, as the live model shows it.</summary>
public enum SourceState
{
    /// <summary>Registered with the loop and delivering.</summary>
    Active,

    /// <summary>Registered but paused by <see cref="LoopSource{T}.Disable"/>.</summary>
    Disabled,

    /// <summary>Holding OS resources but without subscribers, so not registered (a composite source nobody subscribes to).</summary>
    Idle,

    /// <summary>Ended (completed, failed or removed); its row leaves the model in the same change set.</summary>
    Ended,
}
