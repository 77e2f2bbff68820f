using Calloop.Rx.Diagnostics;

namespace Calloop.Rx;

/// <summary>The loop's non-generic view of a <see cref="LoopSource{T}"/>.</summary>
internal interface ILoopSource
{
    /// <summary>The current registration's token (sub-id 0); default while inactive.</summary>
    Token Token { get; }

    /// <summary>Whether the source holds OS resources that loop disposal must release (an owned socket) from creation until it ends.</summary>
    bool OwnsResources { get; }

    /// <summary>1 + the source's id in the loop's table of sources to tear down, 0 when not in it (guarded by the gate).</summary>
    int TrackedSlot { get; set; }

    /// <summary>A short description, e.g. <c>Fd 7</c>.</summary>
    string Name { get; }

    /// <summary>The source's diagnostics record while the loop's diagnostics are observed; null otherwise (guarded by the gate, read without it on hot paths).</summary>
    SourceRecord? Record { get; set; }

    /// <summary>The state the live model shows (caller holds the gate).</summary>
    SourceState DiagnosticState { get; }

    /// <summary>How many subscribers the source has (caller holds the gate).</summary>
    int SubscriberCount { get; }

    /// <summary>Resumes delivery (<see cref="LoopSource{T}.Enable"/>), for control by the live model's id.</summary>
    void Enable();

    /// <summary>Pauses delivery (<see cref="LoopSource{T}.Disable"/>), for control by the live model's id.</summary>
    void Disable();

    /// <summary>Ends the source (<see cref="LoopSource{T}.Remove"/>), for control by the live model's id.</summary>
    void Remove();

    /// <summary>Handles one event on the loop thread. Exceptions escaping it mean the source failed.</summary>
    void OnReady(Readiness readiness, Token token);

    /// <summary>Applies a Disable/Enable/Update/Remove requested from inside the source's own callback.</summary>
    void AfterCallback();

    /// <summary>The source cannot go on: OnError to its subscribers, then unregistered.</summary>
    void Fail(Exception error);

    /// <summary>
    /// Loop disposal: ends the source (unregistered, its resources released) and returns the <c>OnCompleted</c> owed
    /// to its subscribers, which the loop delivers once its own fds are closed; null when nothing is owed. A custom
    /// source's unregistration hook that threw goes to <paramref name="errors"/>.
    /// </summary>
    OwedCompletion? End(List<Exception> errors);

    /// <summary>Custom sources with lifecycle hooks: the before-sleep hook (may inject a synthetic event).</summary>
    bool BeforeSleep(out Token token, out Readiness readiness);

    /// <summary>Custom sources with lifecycle hooks: the events this poll produced for the source, before any is processed.</summary>
    void BeforeHandleEvents(IReadOnlyList<(Readiness Readiness, Token Token)> events);
}
