namespace Calloop.Rx;

/// <summary>
/// One subscriber of a <see cref="LoopSource{T}"/>, and the handle <see cref="LoopSource{T}.Subscribe"/> returns. Its
/// observer field is its state too: the observer until the subscription is disposed or ended, then a no-op observer
/// (one field less in an object that every live timer has).
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
internal sealed class Subscription<T>(LoopSource<T> source, IObserver<T> observer) : IDisposable
{
    private IObserver<T> _observer = observer;

    /// <summary>The observer, or one that ignores everything once the subscription is disposed or ended.</summary>
    public IObserver<T> Observer => Volatile.Read(ref _observer);

    /// <summary>Ends the subscription for a terminal notification: its observer, or null if it was already disposed or ended.</summary>
    public IObserver<T>? TryEnd()
    {
        IObserver<T> observer = Interlocked.Exchange(ref _observer, Gone.Instance);
        return ReferenceEquals(observer, Gone.Instance) ? null : observer;
    }

    /// <summary>Stops delivery to the observer and leaves the source (the last subscriber unregisters it). Idempotent, any thread.</summary>
    public void Dispose()
    {
        // The field only ever changes to Gone, so a failed exchange means another Dispose or the end came first.
        IObserver<T> observer = Volatile.Read(ref _observer);
        if (!ReferenceEquals(observer, Gone.Instance) && ReferenceEquals(Interlocked.CompareExchange(ref _observer, Gone.Instance, observer), observer))
        {
            source.Unsubscribe(this);
        }
    }

    /// <summary>The observer of a disposed or ended subscription: deliveries that race with the disposal go nowhere.</summary>
    private sealed class Gone : IObserver<T>
    {
        public static readonly Gone Instance = new();

        public void OnNext(T value)
        {
        }

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }
}
