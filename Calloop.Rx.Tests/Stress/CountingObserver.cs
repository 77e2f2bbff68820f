namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// A thread-safe observer for race tests, where teardown may call it from whichever thread disposed the loop: it
/// counts notifications and records grammar violations (a call after the terminal one, overlapping calls).
/// </summary>
public sealed class CountingObserver<T>(string name) : IObserver<T>
{
    private int _next;
    private int _completed;
    private int _errors;
    private int _violations;
    private int _inCall;

    public string Name { get; } = name;

    public int NextCount => Volatile.Read(ref _next);

    public int Completions => Volatile.Read(ref _completed);

    public bool Ended => Volatile.Read(ref _completed) + Volatile.Read(ref _errors) > 0;

    /// <summary>Asserts one OnCompleted, no OnError and no violation.</summary>
    public void AssertCompletedOnce()
    {
        Assert.True(Volatile.Read(ref _violations) == 0, $"{Name}: notification after the terminal one, or overlapping calls");
        Assert.True(Volatile.Read(ref _errors) == 0, $"{Name}: OnError");
        Assert.True(Completions == 1, $"{Name}: {Completions} OnCompleted calls, expected exactly one");
    }

    public void OnNext(T value) => Call(ref _next);

    public void OnError(Exception error) => Call(ref _errors);

    public void OnCompleted() => Call(ref _completed);

    private void Call(ref int counter)
    {
        if (Interlocked.Exchange(ref _inCall, 1) == 1 || Ended)
        {
            Interlocked.Increment(ref _violations);
        }

        Interlocked.Increment(ref counter);
        Volatile.Write(ref _inCall, 0);
    }
}
