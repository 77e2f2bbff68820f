namespace Calloop.Rx.Diagnostics;

/// <summary>One source of a loop as the live model shows it at one moment: an immutable row, keyed by <see cref="Id"/>.</summary>
/// <param name="Id">The source's id in this loop's model, unique for the loop's life; a source that leaves the model and joins it again gets a new one.</param>
/// <param name="Kind">What kind of source it is.</param>
/// <param name="Name">A short description, e.g. <c>Fd 7</c>.</param>
/// <param name="Fd">The fd it watches, for fd sources; otherwise null.</param>
/// <param name="Interest">What the fd is watched for, for fd sources; otherwise null.</param>
/// <param name="Mode">How the fd's readiness is reported, for fd sources; otherwise null.</param>
/// <param name="State">Whether it is active, disabled, idle or ended.</param>
/// <param name="SubscriberCount">How many subscribers it has.</param>
/// <param name="CreatedAt">When it joined the model (loop time): its registration, or, for sources already registered, when the model was first observed.</param>
public sealed record SourceInfo(
    long Id,
    SourceKind Kind,
    string Name,
    int? Fd,
    Interest? Interest,
    TriggerMode? Mode,
    SourceState State,
    int SubscriberCount,
    DateTimeOffset CreatedAt);
