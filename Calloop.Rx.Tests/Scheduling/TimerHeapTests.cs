using Calloop.Rx.Scheduling;

namespace Calloop.Rx.Tests.Scheduling;

/// <summary>
/// The loop's 4-ary timer heap against a sorted-set model: random inserts (with many equal deadlines), removals of
/// random entries and pops, checked after every step; then reuse after <see cref="TimerHeap.Release"/>.
/// </summary>
public class TimerHeapTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_inserts_removals_and_pops_match_a_sorted_model(int seed)
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
                heap.Insert(item, item.Sequence);
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
                while (heap.PopDue(now) is Item popped)
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
    public void After_Release_the_heap_is_empty_and_usable()
    {
        var heap = new TimerHeap();
        var released = new List<Item>();
        for (int i = 0; i < 1_000; i++)
        {
            released.Add(new Item(1_000 - i, i));
            heap.Insert(released[^1], i);
        }

        heap.Release();
        Assert.Equal(0, heap.Count);
        Assert.Equal(long.MaxValue, heap.NextDeadline);
        Assert.All(released, item => Assert.Equal(-1, item.HeapId));
        Assert.False(heap.Remove(released[0]));

        var late = new Item(20, 1);
        var early = new Item(10, 2);
        heap.Insert(late, 1);
        heap.Insert(early, 2);
        Assert.True(heap.IsHead(early));
        Assert.Same(early, heap.PopDue(long.MaxValue));
        Assert.Same(late, heap.PopDue(long.MaxValue));
        Assert.Null(heap.PopDue(long.MaxValue));
    }

    private sealed class Item(long deadline, long sequence) : ITimedItem
    {
        public long Deadline { get; } = deadline;

        public long Sequence { get; } = sequence;

        public int HeapId { get; set; } = -1;

        public void Invoke()
        {
        }
    }
}
