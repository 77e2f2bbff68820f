using System.Reactive;

namespace Calloop.Rx.Testing;

/// <summary>
/// An observer that records every notification with the loop time it arrived at, for assertions in tests
/// (with a virtual clock the times are exact). Thread-safe to read; it records whatever thread calls it.
/// </summary>
public sealed class Recorder<T> : IObserver<T>
{
    private readonly EventLoop _loop;
    private readonly List<Recorded<T>> _messages = [];

    /// <summary>Creates a recorder stamping notifications with <paramref name="loop"/>'s clock.</summary>
    public Recorder(EventLoop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        _loop = loop;
    }

    /// <summary>A snapshot of what was recorded so far, in arrival order.</summary>
    public IReadOnlyList<Recorded<T>> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>The values of the <c>OnNext</c> notifications recorded so far.</summary>
    public IReadOnlyList<T> Values
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages.Where(m => m.Value.Kind == NotificationKind.OnNext).Select(m => m.Value.Value)];
            }
        }
    }

    /// <summary>Whether <c>OnCompleted</c> was recorded.</summary>
    public bool IsCompleted => Messages.Any(m => m.Value.Kind == NotificationKind.OnCompleted);

    /// <summary>The exception of a recorded <c>OnError</c>, or null.</summary>
    public Exception? Error => Messages.FirstOrDefault(m => m.Value.Kind == NotificationKind.OnError).Value?.Exception;

    /// <inheritdoc/>
    public void OnNext(T value) => Add(Notification.CreateOnNext(value));

    /// <inheritdoc/>
    public void OnError(Exception error) => Add(Notification.CreateOnError<T>(error));

    /// <inheritdoc/>
    public void OnCompleted() => Add(Notification.CreateOnCompleted<T>());

    private void Add(Notification<T> notification)
    {
        lock (_messages)
        {
            _messages.Add(new Recorded<T>(_loop.Now, notification));
        }
    }
}

/// <summary>Subscribing a <see cref="Recorder{T}"/> in one call.</summary>
public static class RecorderExtensions
{
    /// <summary>Subscribes a new recorder to <paramref name="source"/>, stamping with <paramref name="loop"/>'s clock.</summary>
    /// <param name="source">What to record.</param>
    /// <param name="loop">Whose clock stamps the notifications.</param>
    /// <param name="subscription">The subscription, to dispose when the test wants to stop recording.</param>
    public static Recorder<T> Record<T>(this IObservable<T> source, EventLoop loop, out IDisposable subscription)
    {
        ArgumentNullException.ThrowIfNull(source);
        var recorder = new Recorder<T>(loop);
        subscription = source.Subscribe(recorder);
        return recorder;
    }

    /// <summary>Subscribes a new recorder to <paramref name="source"/> for the rest of the loop's life.</summary>
    public static Recorder<T> Record<T>(this IObservable<T> source, EventLoop loop) => source.Record(loop, out _);
}
