namespace Calloop.Rx;

/// <summary>How an fd's readiness is reported.</summary>
public enum TriggerMode
{
    /// <summary>Reported on every dispatch while the fd is ready.</summary>
    Level,

    /// <summary>Reported once per transition to ready (EPOLLET): drain the fd until it would block.</summary>
    Edge,

    /// <summary>Reported once, then disarmed until <see cref="LoopSource{T}.Update"/> re-arms it (EPOLLONESHOT).</summary>
    OneShot,
}
