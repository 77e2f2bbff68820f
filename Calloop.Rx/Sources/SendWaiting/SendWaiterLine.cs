namespace Calloop.Rx;

/// <summary>
/// The asynchronous senders waiting for room in a bounded queue, first come first served, and the spare waiters for
/// the next ones: a steady producer that waits on every send reuses the same waiter and allocates nothing. Not
/// thread-safe: its owner calls it under its own lock, and completes the waiters it took out after releasing it.
/// </summary>
/// <remarks>
/// The owner keeps this invariant: a sender joins the line only when it found no room, and room that comes back
/// goes to the line first. So while anyone waits here there is no room, and a newcomer cannot overtake the line.
/// </remarks>
internal sealed class SendWaiterLine<T>(ISendWaiterOwner<T> owner)
{
    private SendWaiter<T>? _first;
    private SendWaiter<T>? _last;
    private SendWaiter<T>? _spare;

    public bool IsEmpty => _first is null;

    /// <summary>A waiter for <paramref name="item"/> at the end of the line; the caller then <see cref="SendWaiter{T}.Watch"/>es it, outside the lock.</summary>
    public SendWaiter<T> Join(T item)
    {
        SendWaiter<T> waiter = _spare ?? new SendWaiter<T>(owner);
        _spare = waiter.Next;
        waiter.Next = null;
        waiter.Previous = _last;
        waiter.Item = item;
        waiter.InLine = true;
        if (_last is null)
        {
            _first = waiter;
        }
        else
        {
            _last.Next = waiter;
        }

        _last = waiter;
        return waiter;
    }

    /// <summary>
    /// Takes up to <paramref name="count"/> waiters off the front of the line, as a chain in line order linked by
    /// <see cref="SendWaiter{T}.Next"/>; null when nobody waits. The caller completes them with <see cref="CompleteAll"/>.
    /// </summary>
    public SendWaiter<T>? TakeFirst(int count)
    {
        SendWaiter<T>? first = _first;
        SendWaiter<T>? last = null;
        for (SendWaiter<T>? waiter = first; waiter is not null && count > 0; waiter = waiter.Next, count--)
        {
            waiter.InLine = false;
            waiter.Previous = null;
            last = waiter;
        }

        if (last is null)
        {
            return null;
        }

        _first = last.Next;
        if (_first is null)
        {
            _last = null;
        }
        else
        {
            _first.Previous = null;
        }

        last.Next = null;
        return first;
    }

    /// <summary>Outside the owner's lock: completes a chain from <see cref="TakeFirst"/>.</summary>
    public static void CompleteAll(SendWaiter<T>? chain, SendResult result)
    {
        while (chain is not null)
        {
            // Read first: once completed, the waiter may be awaited, recycled and relinked on another thread.
            SendWaiter<T>? next = chain.Next;
            chain.Next = null;
            chain.Complete(result);
            chain = next;
        }
    }

    /// <summary>Takes <paramref name="waiter"/> out of the line if it is still in it.</summary>
    public bool TryRemove(SendWaiter<T> waiter)
    {
        if (!waiter.InLine)
        {
            return false;
        }

        Remove(waiter);
        return true;
    }

    /// <summary>Keeps an awaited waiter for a later send.</summary>
    public void Recycle(SendWaiter<T> waiter)
    {
        waiter.Previous = null;
        waiter.Next = _spare;
        _spare = waiter;
    }

    private void Remove(SendWaiter<T> waiter)
    {
        if (waiter.Previous is null)
        {
            _first = waiter.Next;
        }
        else
        {
            waiter.Previous.Next = waiter.Next;
        }

        if (waiter.Next is null)
        {
            _last = waiter.Previous;
        }
        else
        {
            waiter.Next.Previous = waiter.Previous;
        }

        waiter.Next = null;
        waiter.Previous = null;
        waiter.InLine = false;
    }
}
