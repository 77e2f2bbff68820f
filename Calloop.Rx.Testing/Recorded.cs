using System.Reactive;

namespace Calloop.Rx.Testing;

/// <summary>A notification and the loop time at which it arrived (what Rx's testing library calls a recorded message).</summary>
/// <param name="Time">Loop time (<see cref="EventLoop.Now"/>) when the notification arrived.</param>
/// <param name="Value">The notification; equal notifications compare equal (OnNext by value, OnError by exception instance).</param>
public readonly record struct Recorded<T>(DateTimeOffset Time, Notification<T> Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Value}@{Time:HH:mm:ss.fffffff}";
}

/// <summary>Factories for expected <see cref="Recorded{T}"/> values.</summary>
public static class Recorded
{
    /// <summary>An expected <c>OnNext(value)</c> at <paramref name="time"/>.</summary>
    public static Recorded<T> OnNext<T>(DateTimeOffset time, T value) => new(time, Notification.CreateOnNext(value));

    /// <summary>An expected <c>OnCompleted()</c> at <paramref name="time"/>.</summary>
    public static Recorded<T> OnCompleted<T>(DateTimeOffset time) => new(time, Notification.CreateOnCompleted<T>());

    /// <summary>An expected <c>OnError(error)</c> at <paramref name="time"/>.</summary>
    public static Recorded<T> OnError<T>(DateTimeOffset time, Exception error) => new(time, Notification.CreateOnError<T>(error));
}
