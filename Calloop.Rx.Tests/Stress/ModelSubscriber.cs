using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Stress;

/// <summary>One subscription in a model run: what the real observer received next to what the model expects.</summary>
internal sealed class ModelSubscriber<T>(string name, ContractObserver<T> observer)
{
    public string Name { get; } = name;

    public ContractObserver<T> Observer { get; } = observer;

    public IDisposable? Handle { get; set; }

    public List<T> Expected { get; } = [];

    public bool ExpectCompleted { get; set; }

    /// <summary>Owed OnCompleted on the next dispatch (the source was removed from outside, or subscribed after it ended).</summary>
    public bool OwedCompletion { get; set; }

    public bool Disposed { get; private set; }

    /// <summary>Neither disposed by the test nor ended: it must still receive what the source delivers.</summary>
    public bool Live => !Disposed && !ExpectCompleted;

    public void Dispose()
    {
        Handle?.Dispose();
        Disposed = true;
    }

    /// <summary>The next dispatch's terminal delivery: a subscription disposed meanwhile gets nothing.</summary>
    public void SettleOwedCompletion()
    {
        if (OwedCompletion && !Disposed)
        {
            ExpectCompleted = true;
        }

        OwedCompletion = false;
    }

    /// <summary>Null when the observer saw exactly what the model expects, else what differs.</summary>
    public string? Mismatch()
    {
        if (Observer.Violations.Count > 0)
        {
            return $"{Name}: observer contract violated: {string.Join("; ", Observer.Violations)}";
        }

        if (Observer.Error is { } error)
        {
            return $"{Name}: unexpected OnError({error.GetType().Name}: {error.Message})";
        }

        if (!Observer.Values.SequenceEqual(Expected))
        {
            return $"{Name}: expected values [{string.Join(", ", Expected)}] but received [{string.Join(", ", Observer.Values)}]";
        }

        if (Observer.Completed != ExpectCompleted)
        {
            return $"{Name}: expected {(ExpectCompleted ? "OnCompleted" : "no OnCompleted")} but {(Observer.Completed ? "OnCompleted was received" : "none was received")}";
        }

        return null;
    }
}
