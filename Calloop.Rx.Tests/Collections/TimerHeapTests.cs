using Calloop.Rx.Collections;
using Calloop.Rx.Scheduling;

namespace Calloop.Rx.Tests.Collections;

/// <summary>
/// The loop's 4-ary timer heap against a sorted-set model: random inserts (with many equal deadlines), removals of
/// random entries and pops, checked after every step; then reuse after <see cref="TimerHeap.Release"/>, re-insertion,
/// the scheduler contract's bound on cancelled entries, and tie order across the insertion counter's wrap-around.
/// </summary>
public class TimerHeapTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TimerHeap_RandomOperations_MatchASortedModel(int seed)
    {
        var random = new Random(seed);
        var heap = new TimerHeap();
        var model = new SortedSet<Item>(Comparer<Item>.Create((a, b) => (a.Deadline, a.Sequence).CompareTo((b.Deadline, b.Sequence))));
        var live = new List<Item>();
        long sequence = 0;
        for (int step = 0; step < 20_000; step++)
        {
            int choice = random.Next(10);
            if (choice < 5 || live.Count == 0)
            {
                // Few distinct deadlines, so that the sequence decides many ties.
                var item = new Item(random.Next(200), ++sequence);
                heap.Insert(item, item.Deadline);
                model.Add(item);
                live.Add(item);
            }
            else if (choice < 8)
            {
                int at = random.Next(live.Count);
                Item item = live[at];
                live[at] = live[^1];
                live.RemoveAt(live.Count - 1);
                Assert.True(heap.Remove(item));
                Assert.False(heap.Remove(item));
                Assert.Equal(-1, item.HeapId);
                model.Remove(item);
            }
            else
            {
                long now = random.Next(200);
                while (PopDue(heap, now) is Item popped)
                {
                    Item expected = model.Min!;
                    Assert.Same(expected, popped);
                    Assert.True(popped.Deadline <= now);
                    model.Remove(popped);
                    live.Remove(popped);
                }

                Assert.True(model.Count == 0 || model.Min!.Deadline > now);
            }

            Assert.Equal(model.Count, heap.Count);
            Assert.Equal(model.Count == 0 ? long.MaxValue : model.Min!.Deadline, heap.NextDeadline);
        }
    }

    [Fact]
    public void Release_Heap_LeavesItEmptyAndUsable()
    {
        var heap = new TimerHeap();
        var released = new List<Item>();
        for (int i = 0; i < 1_000; i++)
        {
            released.Add(new Item(1_000 - i, i));
            heap.Insert(released[^1], released[^1].Deadline);
        }

        heap.Release();
        Assert.Equal(0, heap.Count);
        Assert.Equal(long.MaxValue, heap.NextDeadline);
        Assert.All(released, item => Assert.Equal(-1, item.HeapId));
        Assert.False(heap.Remove(released[0]));

        var late = new Item(20, 1);
        var early = new Item(10, 2);
        heap.Insert(late, late.Deadline);
        heap.Insert(early, early.Deadline);
        Assert.True(heap.IsHead(early));
        Assert.Same(early, PopDue(heap, long.MaxValue));
        Assert.Same(late, PopDue(heap, long.MaxValue));
        Assert.Null(PopDue(heap, long.MaxValue));
    }

    [Fact]
    public void Remove_TenMillionLongDeadlines_KeepsTheHeapWithinTwiceTheLiveCount()
    {
        var heap = new TimerHeap();
        var live = new List<Item>();
        for (int i = 0; i < 1_000; i++)
        {
            live.Add(new Item(1_000 + i, i));
            heap.Insert(live[^1], live[^1].Deadline);
        }

        // Long deadlines, so that a cancelled timer is never the head: a heap that leaves cancelled entries behind
        // (which the scheduler contract allows) would keep every one of them until it sweeps.
        var cancelled = new Item[64];
        for (int i = 0; i < cancelled.Length; i++)
        {
            cancelled[i] = new Item(long.MaxValue / 2, -1);
        }

        for (int i = 0; i < 10_000_000; i++)
        {
            Item item = cancelled[i & 63];
            heap.Insert(item, item.Deadline);
            if (!heap.Remove(item) || heap.Count > 2 * live.Count)
            {
                Assert.Fail($"after {i + 1} cancellations: {heap.Count} entries for {live.Count} live items");
            }
        }

        Assert.Equal(live.Count, heap.Count);
        foreach (Item expected in live)
        {
            Assert.Same(expected, PopDue(heap, long.MaxValue));
        }

        Assert.Null(PopDue(heap, long.MaxValue));
        Assert.Equal(0, heap.Count);
    }

    [Fact]
    public void Insert_RemovedItemAgain_FiresOnceAtItsNewDeadline()
    {
        var heap = new TimerHeap();
        var other = new Item(10, 1);
        var item = new Item(50, 2);
        var far = new Item(100, 3);
        heap.Insert(other, other.Deadline);
        heap.Insert(item, item.Deadline);
        heap.Insert(far, far.Deadline);
        Assert.True(heap.Remove(item));

        item.Deadline = 5;
        heap.Insert(item, item.Deadline);
        Assert.True(heap.IsHead(item));
        Assert.Same(item, PopDue(heap, long.MaxValue));
        Assert.Same(other, PopDue(heap, long.MaxValue));
        Assert.Same(far, PopDue(heap, long.MaxValue));
        Assert.Null(PopDue(heap, long.MaxValue));
        Assert.Equal(0, heap.Count);
    }

    [Fact]
    public void Pop_EqualDeadlines_KeepInsertionOrderAcrossTheSequenceWrap()
    {
        var heap = new TimerHeap(uint.MaxValue - 50);
        var inserted = new List<Item>();
        for (int i = 0; i < 200; i++)
        {
            inserted.Add(new Item(i % 3 == 0 ? 7 : 9, i));
            heap.Insert(inserted[^1], inserted[^1].Deadline);
        }

        var expected = inserted.OrderBy(item => item.Deadline).ThenBy(item => item.Sequence).ToList();
        foreach (Item item in expected)
        {
            Assert.Same(item, PopDue(heap, long.MaxValue));
        }
    }

    /// <summary>The heap's <see cref="TimerHeap.PopDue"/>, checking that it hands back the deadline the item was inserted with.</summary>
    private static Item? PopDue(TimerHeap heap, long now)
    {
        var item = (Item?)heap.PopDue(now, out long deadline);
        if (item is not null)
        {
            Assert.Equal(item.Deadline, deadline);
        }

        return item;
    }

    private sealed class Item(long deadline, long sequence) : ITimedItem
    {
        public long Deadline { get; set; } = deadline;

        public long Sequence { get; } = sequence;

        public int HeapId { get; set; } = -1;

        public void Invoke(long deadline)
        {
        }
    }
}
