namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>A plain observer: the workloads' callbacks, without Rx's safe-observer wrapping.</summary>
internal sealed class Observer<T>(Action<T> onNext) : IObserver<T>
{
    public void OnNext(T value) => onNext(value);

    public void OnError(Exception error) => throw error;

    public void OnCompleted()
    {
    }
}
