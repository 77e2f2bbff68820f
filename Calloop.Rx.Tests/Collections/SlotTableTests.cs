using Calloop.Rx.Collections;

namespace Calloop.Rx.Tests.Collections;

/// <summary>The id table behind the timer heap, the loop's registration slots and its teardown list.</summary>
public class SlotTableTests
{
    [Fact]
    public void SlotTable_IdsReusedAfterRemoval_ItemsFoundById()
    {
        var table = new SlotTable<string>();
        var ids = Enumerable.Range(0, 100).Select(i => table.Add($"item {i}")).ToList();
        Assert.Equal(Enumerable.Range(0, 100), ids);
        Assert.Equal(100, table.HighWater);

        table.Remove(ids[42]);
        Assert.Null(table[42]);
        Assert.Equal(42, table.Add("again"));
        Assert.Equal("again", table[42]);
        Assert.Equal("item 7", table[7]);
        Assert.Equal(100, table.HighWater);
    }

    [Fact]
    public void Release_Table_LeavesItEmptyAndUsable()
    {
        var table = new SlotTable<string>();
        for (int i = 0; i < 1_000; i++)
        {
            table.Add("x");
        }

        table.Release();
        Assert.Equal(0, table.HighWater);
        Assert.Equal(0, table.Add("first"));
        Assert.Equal("first", table[0]);
    }

    [Fact]
    public void HasFree_TellsWhetherAddReusesAnIdRatherThanRaisingHighWater()
    {
        var table = new SlotTable<string>();
        Assert.False(table.HasFree);
        int first = table.Add("a");
        table.Add("b");
        Assert.False(table.HasFree);

        table.Remove(first);
        Assert.True(table.HasFree);
        Assert.Equal(first, table.Add("c"));
        Assert.False(table.HasFree);
        Assert.Equal(2, table.HighWater);
    }
}
