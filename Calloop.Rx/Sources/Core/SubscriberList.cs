namespace Calloop.Rx;

/// <summary>
/// The subscribers of one <see cref="LoopSource{T}"/>, then how it ended. It holds nothing, one
/// <see cref="Subscription{T}"/> (the usual case, and every timer's: no array), or an array of two or more. The array
/// is replaced on every change, never mutated, so the loop thread delivers from it without the gate and a copy of the
/// list is a snapshot. Once the source has ended it holds the error the source ended with, if any, for late subscribers.
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
/// <remarks>
/// Held in place by <see cref="LoopSource{T}"/>, so that a source costs no heap object more. <see cref="Add"/>,
/// <see cref="Remove"/>, <see cref="End"/> and <see cref="ReplayedEnd"/> run under the loop's gate; <see cref="OnNext"/>
/// runs on the loop thread, and <see cref="DeliverEnd"/> there or in loop disposal, without the gate.
/// </remarks>
internal struct SubscriberList<T>
{
    private object? _items;

    /// <summary>A list of <paramref name="subscription"/> alone, to owe a terminal notification to one late subscriber.</summary>
    public SubscriberList(Subscription<T> subscription) => _items = subscription;

    /// <summary>How many subscribers there are (none once the source has ended).</summary>
    public readonly int Count => _items switch
    {
        Subscription<T> => 1,
        Subscription<T>[] many => many.Length,
        _ => 0,
    };

    /// <summary>Adds a subscriber to a source that has not ended.</summary>
    public void Add(Subscription<T> subscription)
    {
        _items = _items switch
        {
            null => subscription,
            Subscription<T> one => new[] { one, subscription },
            Subscription<T>[] many => (Subscription<T>[])[.. many, subscription],
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>Removes a subscriber (nothing if it is not one, e.g. after the end); true when it was the only one.</summary>
    public bool Remove(Subscription<T> subscription)
    {
        if (ReferenceEquals(_items, subscription))
        {
            _items = null;
            return true;
        }

        if (_items is not Subscription<T>[] many || Array.IndexOf(many, subscription) is var index && index < 0)
        {
            return false;
        }

        if (many.Length == 2)
        {
            _items = many[1 - index];
            return false;
        }

        var next = new Subscription<T>[many.Length - 1];
        Array.Copy(many, next, index);
        Array.Copy(many, index + 1, next, index, next.Length - index);
        _items = next;
        return false;
    }

    /// <summary>The source has ended with <paramref name="error"/> (null: completed): returns the subscribers to notify and keeps the error for late ones.</summary>
    public SubscriberList<T> End(Exception? error)
    {
        SubscriberList<T> subscribers = this;
        _items = error;
        return subscribers;
    }

    /// <summary>
    /// What a late subscriber of the ended <paramref name="source"/> hears: how it ended; but a re-subscription from
    /// inside that very notification (Rx's <c>Repeat</c>, <c>Retry</c>, <c>Concat</c> of the same source) would be
    /// told the same end again and again, a loop that never blocks, so it is told why instead.
    /// </summary>
    public readonly Exception? ReplayedEnd(LoopSource<T> source)
    {
        if (!ReferenceEquals(source.Loop.Cycle.EndingSource, source) || !source.Loop.IsOnLoopThread)
        {
            return _items as Exception;
        }

        return new InvalidOperationException(
            $"{source.Name} has ended and was subscribed to again from inside its own end (Repeat, Retry or Concat of one loop source): " +
            "a hot source ends once. To start over, make a new source per subscription, e.g. Observable.Defer(() => loop.Timer(delay)).Repeat().");
    }

    /// <summary>Delivers <paramref name="value"/> to every live subscriber. Observer exceptions are recorded on the loop, not thrown.</summary>
    public void OnNext(T value, LoopSource<T> source)
    {
        object? items = Volatile.Read(ref _items);
        if (items is Subscription<T> one)
        {
            Deliver(one, value, source);
        }
        else if (items is Subscription<T>[] many)
        {
            for (int i = 0; i < many.Length; i++)
            {
                Deliver(many[i], value, source);
            }
        }
    }

    /// <summary>
    /// Delivers the end to these subscribers (a snapshot <see cref="End"/> returned), each at most once. Observer
    /// exceptions go to <paramref name="errors"/>, or are recorded on the loop when it is null.
    /// </summary>
    public readonly void DeliverEnd(LoopSource<T> source, Exception? error, List<Exception>? errors)
    {
        EventLoop loop = source.Loop;
        ILoopSource? outer = loop.Cycle.EndingSource;
        loop.Cycle.EndingSource = source;
        try
        {
            if (_items is Subscription<T> one)
            {
                EndOne(one, error, loop, errors);
            }
            else if (_items is Subscription<T>[] many)
            {
                foreach (Subscription<T> subscription in many)
                {
                    EndOne(subscription, error, loop, errors);
                }
            }
        }
        finally
        {
            loop.Cycle.EndingSource = outer;
        }
    }

    private static void Deliver(Subscription<T> subscription, T value, LoopSource<T> source)
    {
        try
        {
            // A disposed subscription's observer is a no-op one.
            subscription.Observer.OnNext(value);
        }
        catch (Exception e)
        {
            source.Loop.Cycle.RecordFailure(e);
        }
    }

    private static void EndOne(Subscription<T> subscription, Exception? error, EventLoop loop, List<Exception>? errors)
    {
        if (subscription.TryEnd() is { } observer)
        {
            try
            {
                if (error is null)
                {
                    observer.OnCompleted();
                }
                else
                {
                    observer.OnError(error);
                }
            }
            catch (Exception e)
            {
                if (errors is not null)
                {
                    errors.Add(e);
                }
                else
                {
                    loop.Cycle.RecordFailure(e);
                }
            }
        }
    }
}
