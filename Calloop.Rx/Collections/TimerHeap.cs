using Calloop.Rx.Scheduling;

namespace Calloop.Rx.Collections;

/// <summary>
/// A 4-ary min-heap of <see cref="ITimedItem"/>s ordered by (deadline, insertion order), with O(log n) removal of
/// any item.
/// </summary>
/// <remarks>
/// Hand-written rather than <see cref="PriorityQueue{TElement, TPriority}"/> because cancellation must be cheap (a
/// chatty <c>Throttle</c> cancels a timer per element) and PriorityQueue's <c>Remove</c> is a linear scan. Each item
/// in the heap holds a small id; the heap keeps the keys in its node array (16 bytes a node, no references) and each
/// id's position in a side array, so sifting touches only contiguous arrays and never the items themselves.
/// <para>Removal is eager, although the scheduler contract would allow dead entries swept in batches: a sweep must
/// find the dead among the live and rebuild the heap, and in the <c>timer-cancel</c> workload that cost more per
/// cancel than the O(log n) removal, whose sift from a random position is usually a level or two.</para>
/// <para>Not thread-safe: the loop guards it with its gate. The ids come from a <see cref="SlotTable{T}"/>; the
/// arrays are pooled chunks (<see cref="ChunkedArray{T}"/>).</para>
/// </remarks>
internal sealed class TimerHeap
{
    // Four children per node: half the depth of a binary heap, and a node's children share one cache line,
    // so a pop from 100,000 timers misses the cache on fewer levels.
    private const int Arity = 4;

    private readonly SlotTable<ITimedItem> _items = new();
    private ChunkedArray<Node> _nodes = new();
    private ChunkedArray<int> _positions = new();
    private int _count;
    private uint _sequence;

    public TimerHeap()
    {
    }

    /// <summary>A heap whose insertion counter starts at <paramref name="firstSequence"/> (tests of its wrap-around).</summary>
    internal TimerHeap(uint firstSequence) => _sequence = firstSequence;

    /// <summary>Entries in the heap; every one is live, since removal is eager.</summary>
    public int Count => _count;

    /// <summary>The earliest deadline, or <see cref="long.MaxValue"/> when empty.</summary>
    public long NextDeadline => _count == 0 ? long.MaxValue : _nodes[0].Deadline;

    /// <summary>Whether <paramref name="item"/> is the earliest item.</summary>
    public bool IsHead(ITimedItem item) => item.HeapId >= 0 && _positions[item.HeapId] == 0;

    /// <summary>Inserts <paramref name="item"/> at <paramref name="deadline"/>, after every item already in with the same deadline.</summary>
    public void Insert(ITimedItem item, long deadline)
    {
        if (_sequence == uint.MaxValue)
        {
            Renumber();
        }

        if (_count == _nodes.Capacity)
        {
            _nodes.Grow();
        }

        int id = _items.Add(item);
        if (id == _positions.Capacity)
        {
            _positions.Grow();
        }

        item.HeapId = id;
        SiftUp(_count++, new Node(deadline, id, _sequence++));
    }

    /// <summary>Removes <paramref name="item"/> if it is in the heap; returns whether it was.</summary>
    public bool Remove(ITimedItem item)
    {
        int id = item.HeapId;
        if (id < 0 || _items[id] != item)
        {
            return false;
        }

        RemoveAt(_positions[id]);
        return true;
    }

    /// <summary>Removes and returns the earliest item, and the deadline it was inserted with, if that is at or before <paramref name="now"/>.</summary>
    public ITimedItem? PopDue(long now, out long deadline)
    {
        deadline = _count == 0 ? long.MaxValue : _nodes[0].Deadline;
        if (_count == 0 || deadline > now)
        {
            return null;
        }

        return RemoveAt(0);
    }

    /// <summary>Empties the heap and gives its arrays back to the pool (the loop is being disposed); it stays usable.</summary>
    public void Release()
    {
        // In array order, not popped one by one: disposing a loop with 100,000 timers then costs a pass, not n pops.
        for (int i = 0; i < _count; i++)
        {
            _items[_nodes[i].Id]!.HeapId = -1;
        }

        _items.Release();
        _nodes.Release();
        _positions.Release();
        _count = 0;
    }

    private static bool Less(in Node a, in Node b) =>
        a.Deadline < b.Deadline || (a.Deadline == b.Deadline && a.Sequence < b.Sequence);

    /// <summary>
    /// Before the insertion counter wraps (after 2^32 insertions): sorts the entries, which keeps a valid heap, and
    /// numbers them from zero in that order, so that ties keep their order with 4-byte sequence numbers.
    /// </summary>
    private void Renumber()
    {
        Node[] sorted = _nodes.ToArray(_count);
        Array.Sort(sorted, Comparer<Node>.Create(static (a, b) => Less(a, b) ? -1 : Less(b, a) ? 1 : 0));
        for (int i = 0; i < _count; i++)
        {
            Place(i, new Node(sorted[i].Deadline, sorted[i].Id, (uint)i));
        }

        _sequence = (uint)_count;
    }

    private ITimedItem RemoveAt(int index)
    {
        int id = _nodes[index].Id;
        ITimedItem item = _items[id]!;
        _count--;
        if (index != _count)
        {
            Node last = _nodes[_count];
            if (index > 0 && Less(last, _nodes[Parent(index)]))
            {
                SiftUp(index, last);
            }
            else
            {
                SiftDown(index, last);
            }
        }

        _items.Remove(id);
        item.HeapId = -1;
        return item;
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

            Place(index, _nodes[parent]);
            index = parent;
        }

        Place(index, node);
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

            Place(index, _nodes[child]);
            index = child;
        }

        Place(index, node);
    }

    private static int Parent(int index) => (index - 1) / Arity;

    private void Place(int index, in Node node)
    {
        _nodes[index] = node;
        _positions[node.Id] = index;
    }

    private readonly struct Node(long deadline, int id, uint sequence)
    {
        public readonly long Deadline = deadline;
        public readonly int Id = id;
        public readonly uint Sequence = sequence;
    }
}
