using System.Reactive;

namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>
/// An observer that checks the Rx grammar and the loop's threading rules on every call: no call after a terminal
/// one, no overlapping or nested calls, and every call on the loop thread inside a dispatch. A violation is
/// recorded and thrown (so it also comes out of Dispatch); <see cref="AssertClean"/> checks the record.
/// </summary>
public sealed class ContractObserver<T>(EventLoop loop, Action<T>? onNext = null) : IObserver<T>
{
    private readonly List<string> _violations = [];
    private readonly List<Notification<T>> _notifications = [];
    private int _inCall;
    private bool _terminated;

    public IReadOnlyList<T> Values => [.. _notifications.Where(n => n.Kind == NotificationKind.OnNext).Select(n => n.Value)];

    public IReadOnlyList<Notification<T>> Notifications => _notifications;

    public bool Completed => _notifications.Any(n => n.Kind == NotificationKind.OnCompleted);

    public Exception? Error => _notifications.FirstOrDefault(n => n.Kind == NotificationKind.OnError)?.Exception;

    public IReadOnlyList<string> Violations => _violations;

    public void OnNext(T value) => Call(Notification.CreateOnNext(value), () => onNext?.Invoke(value));

    public void OnError(Exception error) => Call(Notification.CreateOnError<T>(error), null);

    public void OnCompleted() => Call(Notification.CreateOnCompleted<T>(), null);

    public void AssertClean() => Assert.Empty(_violations);

    private void Call(Notification<T> notification, Action? body)
    {
        Check(!loop.IsOnLoopThread, $"{notification.Kind} off the loop thread (thread {Environment.CurrentManagedThreadId})");
        Check(Interlocked.Exchange(ref _inCall, 1) == 1, $"{notification.Kind} overlapping or nested in another call");
        try
        {
            Check(_terminated, $"{notification.Kind} after a terminal notification");
            _notifications.Add(notification);
            _terminated |= notification.Kind != NotificationKind.OnNext;
            body?.Invoke();
        }
        finally
        {
            Volatile.Write(ref _inCall, 0);
        }
    }

    private void Check(bool violated, string what)
    {
        if (violated)
        {
            _violations.Add(what);
            throw new InvalidOperationException("Observer contract violated: " + what);
        }
    }
}
