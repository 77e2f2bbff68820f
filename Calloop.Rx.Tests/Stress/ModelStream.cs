using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// The model of one queue-backed hot source (a channel, a bounded channel, a ping) and its subscriptions: what is
/// pending, whether it is enabled, whether it has ended, and what each subscriber must have received.
/// </summary>
/// <param name="name">The source's name in failure messages.</param>
/// <param name="source">The real source.</param>
/// <param name="send">Sends the numbered message on the real sender and reports its result (and the value the subscribers must see).</param>
/// <param name="sender">The real sender, disposed by <see cref="DisposeSender"/>.</param>
/// <param name="capacity">Bounded capacity, or 0 for unbounded.</param>
/// <param name="coalesces">Whether sends before a dispatch coalesce into one event (a ping).</param>
internal sealed class ModelStream<T>(string name, LoopSource<T> source, Func<int, (SendResult Result, T Value)> send, IDisposable sender, int capacity, bool coalesces)
    : IModelStream
{
    private readonly List<ModelSubscriber<T>> _subscribers = [];
    private readonly Queue<T> _pending = new();
    private bool _enabled = true;
    private bool _senderGone;

    public string Name { get; } = name;

    /// <summary>Removed, or the loop disposed: control calls are skipped (their outcome on an ended source is not decided yet).</summary>
    public bool Ended { get; private set; }

    public IEnumerable<string> Mismatches() => _subscribers.Select(s => s.Mismatch()).OfType<string>();

    /// <summary>Subscribes a new observer; one subscribed after the source ended is owed OnCompleted on the next dispatch.</summary>
    public void Subscribe(EventLoop loop)
    {
        var subscriber = new ModelSubscriber<T>($"{Name} subscriber #{_subscribers.Count}", new ContractObserver<T>(loop));
        subscriber.Handle = source.Subscribe(subscriber.Observer);
        subscriber.OwedCompletion = Ended;
        _subscribers.Add(subscriber);
    }

    /// <summary>Disposes the <paramref name="index"/>-th (modulo) subscription the test has not disposed, if there is one.</summary>
    public void Unsubscribe(int index)
    {
        var open = _subscribers.Where(s => !s.Disposed).ToList();
        if (open.Count > 0)
        {
            open[index % open.Count].Dispose();
        }
    }

    /// <summary>Applies a control call; none is made once the source has ended.</summary>
    public void Control(ModelOpKind kind)
    {
        if (Ended)
        {
            return;
        }

        switch (kind)
        {
            case ModelOpKind.Enable:
                source.Enable();
                _enabled = true;
                break;
            case ModelOpKind.Disable:
                source.Disable();
                _enabled = false;
                break;
            case ModelOpKind.Update:
                source.Update();
                break;
            case ModelOpKind.Remove:
                source.Remove();
                End(owed: true);
                break;
        }
    }

    /// <summary>Sends message <paramref name="number"/>; null when the sender answered what the model expects, else what differs.</summary>
    public string? Send(int number)
    {
        SendResult expected = Ended || _senderGone ? SendResult.Closed
            : capacity > 0 && _pending.Count >= capacity ? SendResult.Full
            : SendResult.Sent;
        var (actual, value) = send(number);
        if (actual != expected)
        {
            return $"{Name}: send of {number} answered {actual}, expected {expected} ({_pending.Count} pending, capacity {(capacity == 0 ? "unbounded" : capacity)})";
        }

        if (expected == SendResult.Sent && !(coalesces && _pending.Count > 0))
        {
            _pending.Enqueue(value);
        }

        return null;
    }

    /// <summary>Disposes the only sender: the source completes once it has delivered what is queued, and sends answer Closed.</summary>
    public void DisposeSender()
    {
        sender.Dispose();
        _senderGone = true;
    }

    /// <summary>
    /// One dispatch: an enabled source with a live subscriber delivers everything pending, then completes if its
    /// sender is gone; owed completions arrive.
    /// </summary>
    public void Dispatch()
    {
        if (!Ended && _enabled && _subscribers.Any(s => s.Live))
        {
            foreach (T value in _pending)
            {
                foreach (var subscriber in _subscribers.Where(s => s.Live))
                {
                    subscriber.Expected.Add(value);
                }
            }

            _pending.Clear();
            if (_senderGone)
            {
                LoopDisposed();
            }
        }

        foreach (var subscriber in _subscribers)
        {
            subscriber.SettleOwedCompletion();
        }
    }

    /// <summary>The source ends now (the loop was disposed, or it completed in a dispatch): every subscriber not disposed by the test completes, exactly once.</summary>
    public void LoopDisposed() => End(owed: false);

    private void End(bool owed)
    {
        Ended = true;
        _pending.Clear();
        foreach (var subscriber in _subscribers.Where(s => s.Live))
        {
            if (owed)
            {
                subscriber.OwedCompletion = true;
            }
            else
            {
                subscriber.ExpectCompleted = true;
                subscriber.OwedCompletion = false;
            }
        }
    }
}
