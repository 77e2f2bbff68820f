namespace Calloop.Rx.Diagnostics;

/// <summary>What kind of event source a <see cref="SourceInfo"/> describes; also the <c>calloop.source.kind</c> tag of the metrics.</summary>
public enum SourceKind
{
    /// <summary>A custom source inserted with <see cref="EventLoop.Insert{T}(IEventSource{T})"/>.</summary>
    Custom,

    /// <summary>Readiness of an fd (<see cref="FdSource"/>).</summary>
    Fd,

    /// <summary>A timer (<see cref="TimerSource"/>).</summary>
    Timer,

    /// <summary>A ping (<see cref="PingSource"/>).</summary>
    Ping,

    /// <summary>A channel, bounded or not (<see cref="ChannelSource{T}"/>).</summary>
    Channel,

    /// <summary>Unix signals (<see cref="SignalSource"/>).</summary>
    Signal,

    /// <summary>File-system changes (<see cref="FileWatchSource"/>).</summary>
    FileWatch,

    /// <summary>A process's exit (<see cref="ProcessExitSource"/>).</summary>
    ProcessExit,

    /// <summary>Another loop driven by this one (<see cref="EmbeddedLoopSource"/>).</summary>
    Embedded,

    /// <summary>A user-written <see cref="CompositeSource{T}"/>.</summary>
    Composite,

    /// <summary>The loop's own feed of <see cref="SourceChangeSet"/>s (<see cref="LoopDiagnostics.Changes"/>).</summary>
    Diagnostics,
}
