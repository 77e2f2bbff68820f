namespace Calloop.Rx;

/// <summary>A change of a source's registration asked for through <see cref="LoopSource{T}"/>'s control surface.</summary>
internal enum RegistrationRequest : byte
{
    /// <summary>Nothing requested.</summary>
    None,

    /// <summary><see cref="LoopSource{T}.Enable"/>.</summary>
    Enable,

    /// <summary><see cref="LoopSource{T}.Disable"/>.</summary>
    Disable,

    /// <summary><see cref="LoopSource{T}.Update"/>.</summary>
    Update,

    /// <summary><see cref="LoopSource{T}.Remove"/>.</summary>
    Remove,
}
