namespace Calloop.Rx;

/// <summary>What the loop does with a custom source after its <see cref="IEventSource{T}.ProcessEvents"/> returns.</summary>
public enum PostAction
{
    /// <summary>Keep going as registered.</summary>
    Continue,

    /// <summary>Call <see cref="IEventSource{T}.Reregister"/> (for example to re-arm a one-shot fd).</summary>
    Reregister,

    /// <summary>Unregister but keep the source; nothing is delivered until <see cref="LoopSource{T}.Enable"/>.</summary>
    Disable,

    /// <summary>Unregister the source for good; its subscribers then get <c>OnCompleted</c>.</summary>
    Remove,
}

/// <summary>Combining rules for <see cref="PostAction"/>, as calloop's <c>|</c> operator.</summary>
public static class PostActionExtensions
{
    /// <summary>Equal actions stay as they are; any two different actions combine to <see cref="PostAction.Reregister"/>.</summary>
    public static PostAction Combine(this PostAction first, PostAction second) => first == second ? first : PostAction.Reregister;
}
