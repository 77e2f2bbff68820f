using System.Reactive;
using Microsoft.Reactive.Testing;

namespace Calloop.Rx.Testing;

/// <summary>Small conveniences over Microsoft.Reactive.Testing's observers, for tests of loop pipelines.</summary>
public static class TestableObserverExtensions
{
    /// <summary>
    /// Subscribes a new <see cref="TestScheduler.CreateObserver{T}"/> observer to <paramref name="source"/> now (at
    /// <c>Clock</c>), for when <c>Start(create, …)</c> does not fit, such as a source made before the clock starts.
    /// </summary>
    /// <param name="source">What to record.</param>
    /// <param name="scheduler">Whose clock stamps the notifications.</param>
    /// <param name="subscription">The subscription, to dispose when the test wants to stop recording.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static ITestableObserver<T> Record<T>(this IObservable<T> source, TestScheduler scheduler, out IDisposable subscription)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(scheduler);
        ITestableObserver<T> observer = scheduler.CreateObserver<T>();
        subscription = source.Subscribe(observer);
        return observer;
    }

    /// <summary>Subscribes a new recording observer to <paramref name="source"/> for the rest of the test; see <see cref="Record{T}(IObservable{T}, TestScheduler, out IDisposable)"/>.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static ITestableObserver<T> Record<T>(this IObservable<T> source, TestScheduler scheduler) => source.Record(scheduler, out _);

    /// <summary>The values of the <c>OnNext</c> notifications recorded so far, in order.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="observer"/> is null.</exception>
    public static IReadOnlyList<T> Values<T>(this ITestableObserver<T> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        return [.. observer.Messages.Where(m => m.Value.Kind == NotificationKind.OnNext).Select(m => m.Value.Value)];
    }
}
