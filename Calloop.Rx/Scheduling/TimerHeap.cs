namespace Calloop.Rx.Scheduling;

/// <summary>
/// A binary min-heap of <see cref="WorkItem"/>s ordered by (deadline, sequence), each item knowing its own
/// index. Hand-written rather than <see cref="PriorityQueue{TElement, TPriority}"/> because cancellation must
/// leave the heap eagerly (a chatty <c>Throttle</c> cancels a timer per element) and PriorityQueue's
/// <c>Remove</c> is a linear scan; here removal is O(log n). Not thread-safe: the loop guards it with its gate.
/// </summary>
internal sealed class TimerHeap
{
    private WorkItem[] _items = new WorkItem[16];
    private int _count;

    public int Count => _count;

    /// <summary>The earliest deadline, or <see cref="long.MaxValue"/> when empty.</summary>
    public long NextDeadline => _count == 0 ? long.MaxValue : _items[0].Deadline;

    public void Insert(WorkItem item)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _count * 2);
        }

        _items[_count] = item;
        item.HeapIndex = _count;
        _count++;
        SiftUp(_count - 1);
    }

    /// <summary>Removes <paramref name="item"/> if it is in the heap; returns whether it was.</summary>
    public bool Remove(WorkItem item)
    {
        int index = item.HeapIndex;
        if (index < 0 || index >= _count || _items[index] != item)
        {
            return false;
        }

        item.HeapIndex = -1;
        _count--;
        if (index != _count)
        {
            WorkItem last = _items[_count];
            _items[index] = last;
            last.HeapIndex = index;
            if (index > 0 && Less(last, _items[(index - 1) / 2]))
            {
                SiftUp(index);
            }
            else
            {
                SiftDown(index);
            }
        }

        _items[_count] = null!;
        return true;
    }

    /// <summary>Removes and returns the earliest item if its deadline is at or before <paramref name="now"/>.</summary>
    public WorkItem? PopDue(long now)
    {
        if (_count == 0 || _items[0].Deadline > now)
        {
            return null;
        }

        WorkItem head = _items[0];
        Remove(head);
        return head;
    }

    private static bool Less(WorkItem a, WorkItem b) =>
        a.Deadline < b.Deadline || (a.Deadline == b.Deadline && a.Sequence < b.Sequence);

    private void SiftUp(int index)
    {
        WorkItem item = _items[index];
        while (index > 0)
        {
            int parent = (index - 1) / 2;
            WorkItem p = _items[parent];
            if (!Less(item, p))
            {
                break;
            }

            _items[index] = p;
            p.HeapIndex = index;
            index = parent;
        }

        _items[index] = item;
        item.HeapIndex = index;
    }

    private void SiftDown(int index)
    {
        WorkItem item = _items[index];
        while (true)
        {
            int child = (2 * index) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && Less(_items[child + 1], _items[child]))
            {
                child++;
            }

            WorkItem c = _items[child];
            if (!Less(c, item))
            {
                break;
            }

            _items[index] = c;
            c.HeapIndex = index;
            index = child;
        }

        _items[index] = item;
        item.HeapIndex = index;
    }
}
