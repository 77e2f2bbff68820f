
namespace Calloop.Rx.Collections;

/// <summary>
/// The loop's idle callbacks: two arrays of struct entries swapped once per dispatch (what is added while idles run
/// waits for the next dispatch, as in calloop), so queueing an idle allocates nothing. An entry is found for
/// cancellation by binary search on its id, since ids only grow. Inserting, cancelling and swapping happen under
/// the loop's gate; running reads the swapped-out array on the loop thread alone. The arrays are pooled
/// (<see cref="PooledArray"/>): a million queued idles make them large-object-heap arrays.
/// </summary>
internal sealed class IdleQueue
{
    private Entry[] _pending = PooledArray.Rent<Entry>();
    private Entry[] _running = PooledArray.Rent<Entry>();
    private int _pendingCount;
    private int _runningCount;
    private int _cursor;
    private long _lastId;

    /// <summary>Whether nothing is queued for a later dispatch (read without the gate as a hint).</summary>
    public bool IsEmpty => Volatile.Read(ref _pendingCount) == 0;

    /// <summary>Caller holds the gate.</summary>
    public long AddLocked(Action callback)
    {
        if (_pendingCount == _pending.Length)
        {
            PooledArray.Grow(ref _pending, _pendingCount);
        }

        long id = ++_lastId;
        _pending[_pendingCount] = new Entry(callback, id);
        Volatile.Write(ref _pendingCount, _pendingCount + 1);
        return id;
    }

    /// <summary>Caller holds the gate.</summary>
    public void CancelLocked(long id)
    {
        if (!Cancel(_pending, _pendingCount, id))
        {
            Cancel(_running, _runningCount, id);
        }
    }

    /// <summary>Starts a run: what was queued so far becomes the batch. Caller holds the gate.</summary>
    public void SwapLocked()
    {
        (_pending, _running) = (_running, _pending);
        _runningCount = _pendingCount;
        _pendingCount = 0;
        _cursor = 0;
    }

    /// <summary>Loop thread: the next callback of the batch, or false when the batch is done. Resumable after an exception.</summary>
    public bool TryTakeNext(out Action? callback)
    {
        while (_cursor < _runningCount)
        {
            ref Entry entry = ref _running[_cursor++];
            callback = entry.Callback;
            entry = default;
            if (callback is not null)
            {
                return true;
            }
        }

        _runningCount = 0;
        callback = null;
        return false;
    }

    /// <summary>Drops everything and gives the arrays back to the pool (loop disposal); it stays usable. Caller holds the gate.</summary>
    public void ClearLocked()
    {
        PooledArray.Return(ref _pending);
        PooledArray.Return(ref _running);
        _pendingCount = 0;
        _runningCount = 0;
        _cursor = 0;
    }

    private static bool Cancel(Entry[] entries, int count, long id)
    {
        int lo = 0;
        int hi = count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long midId = entries[mid].Id;
            if (midId == id)
            {
                entries[mid].Callback = null;
                return true;
            }

            if (midId < id)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return false;
    }

    private struct Entry(Action callback, long id)
    {
        public Action? Callback = callback;
        public long Id = id;
    }
}
