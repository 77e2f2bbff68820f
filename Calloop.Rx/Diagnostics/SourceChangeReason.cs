namespace Calloop.Rx.Diagnostics;

/// <summary>Why a <see cref="SourceChange"/> was made.</summary>
public enum SourceChangeReason
{
    /// <summary>The source joined the model: it was registered (its first subscriber), or it holds OS resources from creation.</summary>
    Added,

    /// <summary>The source left the model: its last subscriber left, or it ended (after an <see cref="Ended"/> change).</summary>
    Removed,

    /// <summary><see cref="LoopSource{T}.Enable"/> took effect.</summary>
    Enabled,

    /// <summary><see cref="LoopSource{T}.Disable"/> took effect.</summary>
    Disabled,

    /// <summary>Something else shown changed: <see cref="LoopSource{T}.Update"/>, or the number of subscribers.</summary>
    Updated,

    /// <summary>The source ended (completed, failed, removed, or the loop was disposed).</summary>
    Ended,
}
