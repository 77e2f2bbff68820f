namespace Calloop.Rx.Tests.Stress;

/// <summary>A <see cref="ModelStream{T}"/> whatever its event type, so the model treats channels and the ping alike.</summary>
internal interface IModelStream
{
    void Subscribe(EventLoop loop);

    void Unsubscribe(int index);

    void Control(ModelOpKind kind);

    /// <summary>Sends the message numbered <paramref name="number"/> (a ping carries no value).</summary>
    string? Send(int number);

    void DisposeSender();

    void Dispatch();

    void LoopDisposed();

    IEnumerable<string> Mismatches();
}
