namespace Calloop.Rx.Scheduling;

/// <summary>
/// A 4-ary min-heap of <see cref="ITimedItem"/>s ordered by (deadline, insertion order), with O(1) amortized removal
/// of any item: a removed item's entry stays behind, dead, and dead entries are swept out in one pass once they
/// outnumber the live ones, so they never take more than half the heap, and the head is always live.
/// </summary>
/// <remarks>
/// Hand-written rather than <see cref="PriorityQueue{TElement, TPriority}"/> because cancellation must be cheap (a
/// chatty <c>Throttle</c> cancels a timer per element) and PriorityQueue's <c>Remove</c> is a linear scan. Each item
/// in the heap holds a small id (a <see cref="SlotTable{T}"/> slot); the node array holds only keys and ids, 16 bytes
/// a node and no references, so sifting touches one contiguous array and never the items or the garbage collector's
/// card table. A dead entry's slot is emptied at once (the item is free to be collected or inserted again under a new
/// id) but stays reserved until the sweep or the pop that drops the entry. Not thread-safe: the loop guards it with
/// its gate. All the arrays are pooled (<see cref="PooledArray"/>).
/// </remarks>
internal sealed class TimerHeap
{
    // Four children per node: half the depth of a binary heap, and a node's children share one cache line, so a pop
    // from 100,000 timers misses the cache on fewer levels.
    private const int Arity = 4;

    private readonly SlotTable<ITimedItem> _items = new();
    private Node[] _nodes = PooledArray.Rent<Node>();
    private int _count;
    private int _dead;
    private uint _sequence;

    public TimerHeap()
    {
    }

    /// <summary>A heap whose insertion counter starts at <paramref name="firstSequence"/> (tests of its wrap-around).</summary>
    internal TimerHeap(uint firstSequence) => _sequence = firstSequence;

    /// <summary>Live items: inserted and neither popped nor removed.</summary>
    public int Count => _count - _dead;

    /// <summary>Entries in the node array, live and dead; never more than twice <see cref="Count"/> (plus one while a removal sweeps).</summary>
    public int Entries => _count;

    /// <summary>The earliest live deadline, or <see cref="long.MaxValue"/> when empty.</summary>
    public long NextDeadline => _count == 0 ? long.MaxValue : _nodes[0].Deadline;

    /// <summary>Whether <paramref name="item"/> is the earliest item.</summary>
    public bool IsHead(ITimedItem item) => item.HeapId >= 0 && _count > 0 && _nodes[0].Id == item.HeapId;

    /// <summary>Inserts <paramref name="item"/> at its <see cref="ITimedItem.Deadline"/>, after every item already in with the same deadline.</summary>
    public void Insert(ITimedItem item)
    {
        if (_sequence == uint.MaxValue)
        {
            Renumber();
        }

        if (_count == _nodes.Length)
        {
            PooledArray.Grow(ref _nodes, _count);
        }

        int id = _items.Add(item);
        item.HeapId = id;
        SiftUp(_count++, new Node(item.Deadline, id, _sequence++));
    }

    /// <summary>Removes <paramref name="item"/> if it is in the heap; returns whether it was. It will not be popped.</summary>
    public bool Remove(ITimedItem item)
    {
        int id = item.HeapId;
        if (id < 0 || _items[id] != item)
        {
            return false;
        }

        item.HeapId = -1;
        if (_nodes[0].Id == id)
        {
            // The head leaves at once, so the loop never wakes for a dead deadline.
            RemoveHead();
            return true;
        }

        _items.Clear(id);
        if (++_dead > _count - _dead)
        {
            Sweep();
        }

        return true;
    }

    /// <summary>Removes and returns the earliest item if its deadline is at or before <paramref name="now"/>.</summary>
    public ITimedItem? PopDue(long now)
    {
        if (_count == 0 || _nodes[0].Deadline > now)
        {
            return null;
        }

        ITimedItem item = _items[_nodes[0].Id]!;
        item.HeapId = -1;
        RemoveHead();
        return item;
    }

    /// <summary>Empties the heap and gives its arrays back to the pool (the loop is being disposed); it stays usable.</summary>
    public void Release()
    {
        // In array order, not popped one by one: disposing a loop with 100,000 timers then costs a pass, not n pops.
        for (int i = 0; i < _count; i++)
        {
            if (_items[_nodes[i].Id] is { } item)
            {
                item.HeapId = -1;
            }
        }

        _items.Release();
        PooledArray.Return(ref _nodes);
        _count = 0;
        _dead = 0;
    }

    private static bool Less(in Node a, in Node b) =>
        a.Deadline < b.Deadline || (a.Deadline == b.Deadline && a.Sequence < b.Sequence);

    private static int Parent(int index) => (index - 1) / Arity;

    /// <summary>
    /// Drops the head entry, then any dead entries that surface after it, so that the head is live again; sweeps if
    /// the dead now outnumber the live (a pop or removal of a live head makes fewer live ones too).
    /// </summary>
    private void RemoveHead()
    {
        DropRoot();
        while (_count > 0 && _items[_nodes[0].Id] is null)
        {
            _dead--;
            DropRoot();
        }

        if (_dead > _count - _dead)
        {
            Sweep();
        }
    }

    private void DropRoot()
    {
        _items.Remove(_nodes[0].Id);
        if (--_count > 0)
        {
            SiftDown(0, _nodes[_count]);
        }
    }

    /// <summary>Drops every dead entry and rebuilds the heap bottom-up: O(entries), paid for by the removals that made them.</summary>
    private void Sweep()
    {
        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            Node node = _nodes[i];
            if (_items[node.Id] is null)
            {
                _items.Remove(node.Id);
            }
            else
            {
                _nodes[kept++] = node;
            }
        }

        _count = kept;
        _dead = 0;
        for (int i = Parent(_count - 1); i >= 0; i--)
        {
            SiftDown(i, _nodes[i]);
        }
    }

    /// <summary>
    /// Before the insertion counter wraps (after 2^32 insertions): sorts the entries, which keeps a valid heap, and
    /// numbers them from zero in that order, so that ties keep their order with 4-byte sequence numbers.
    /// </summary>
    private void Renumber()
    {
        Array.Sort(_nodes, 0, _count, Comparer<Node>.Create(static (a, b) => Less(a, b) ? -1 : Less(b, a) ? 1 : 0));
        for (int i = 0; i < _count; i++)
        {
            _nodes[i] = new Node(_nodes[i].Deadline, _nodes[i].Id, (uint)i);
        }

        _sequence = (uint)_count;
    }

    private void SiftUp(int index, Node node)
    {
        while (index > 0)
        {
            int parent = Parent(index);
            if (!Less(node, _nodes[parent]))
            {
                break;
            }

            _nodes[index] = _nodes[parent];
            index = parent;
        }

        _nodes[index] = node;
    }

    private void SiftDown(int index, Node node)
    {
        while (true)
        {
            int first = (Arity * index) + 1;
            if (first >= _count)
            {
                break;
            }

            int child = first;
            int end = Math.Min(first + Arity, _count);
            for (int other = first + 1; other < end; other++)
            {
                if (Less(_nodes[other], _nodes[child]))
                {
                    child = other;
                }
            }

            if (!Less(_nodes[child], node))
            {
                break;
            }

            _nodes[index] = _nodes[child];
            index = child;
        }

        _nodes[index] = node;
    }

    private readonly struct Node(long deadline, int id, uint sequence)
    {
        public readonly long Deadline = deadline;
        public readonly int Id = id;
        public readonly uint Sequence = sequence;
    }
}
