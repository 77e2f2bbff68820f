namespace Calloop.Rx.Scheduling;

/// <summary>
/// A binary min-heap of <see cref="WorkItem"/>s ordered by (deadline, sequence), each item knowing its own index.
/// Hand-written rather than <see cref="PriorityQueue{TElement, TPriority}"/> because cancellation must leave the heap
/// eagerly (a chatty <c>Throttle</c> cancels a timer per element) and PriorityQueue's <c>Remove</c> is a linear scan;
/// here removal is O(log n). The keys live in the node array, so sifting compares contiguous memory instead of
/// following a reference per level. Not thread-safe: the loop guards it with its gate.
/// </summary>
internal sealed class TimerHeap
{
    private Node[] _nodes = new Node[16];
    private int _count;

    public int Count => _count;

    /// <summary>The earliest deadline, or <see cref="long.MaxValue"/> when empty.</summary>
    public long NextDeadline => _count == 0 ? long.MaxValue : _nodes[0].Deadline;

    public void Insert(WorkItem item)
    {
        if (_count == _nodes.Length)
        {
            Array.Resize(ref _nodes, _count * 2);
        }

        SiftUp(_count++, new Node(item));
    }

    /// <summary>Removes <paramref name="item"/> if it is in the heap; returns whether it was.</summary>
    public bool Remove(WorkItem item)
    {
        int index = item.HeapIndex;
        if (index < 0 || index >= _count || _nodes[index].Item != item)
        {
            return false;
        }

        item.HeapIndex = -1;
        _count--;
        if (index != _count)
        {
            Node last = _nodes[_count];
            if (index > 0 && Less(last, _nodes[(index - 1) / 2]))
            {
                SiftUp(index, last);
            }
            else
            {
                SiftDown(index, last);
            }
        }

        _nodes[_count] = default;
        return true;
    }

    /// <summary>Removes and returns the earliest item if its deadline is at or before <paramref name="now"/>.</summary>
    public WorkItem? PopDue(long now)
    {
        if (_count == 0 || _nodes[0].Deadline > now)
        {
            return null;
        }

        WorkItem head = _nodes[0].Item;
        Remove(head);
        return head;
    }

    private static bool Less(in Node a, in Node b) =>
        a.Deadline < b.Deadline || (a.Deadline == b.Deadline && a.Sequence < b.Sequence);

    private void SiftUp(int index, Node node)
    {
        while (index > 0)
        {
            int parent = (index - 1) / 2;
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
            int child = (2 * index) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && Less(_nodes[child + 1], _nodes[child]))
            {
                child++;
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

    private void Place(int index, in Node node)
    {
        _nodes[index] = node;
        node.Item.HeapIndex = index;
    }

    private readonly struct Node(WorkItem item)
    {
        public readonly long Deadline = item.Deadline;
        public readonly long Sequence = item.Sequence;
        public readonly WorkItem Item = item;
    }
}
