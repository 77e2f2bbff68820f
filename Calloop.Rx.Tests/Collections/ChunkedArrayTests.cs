using Calloop.Rx.Collections;

namespace Calloop.Rx.Tests.Collections;

/// <summary>The chunked growable array under the timer heap and the slot tables.</summary>
public class ChunkedArrayTests
{
    /// <summary>
    /// Counts around the first chunk's doublings and the chunk boundaries of the element sizes used below (1, 4, 16
    /// and 24 bytes: chunks of 32,768, 8,192, 2,048 and 1,024 elements, the last rounded down to a power of two).
    /// </summary>
    public static TheoryData<int> Counts => [1, 15, 16, 17, 2_047, 2_048, 2_049, 8_193, 40_000];

    [Theory]
    [MemberData(nameof(Counts))]
    public void Grow_AcrossChunkBoundaries_KeepsEveryElementInPlace(int count)
    {
        var bytes = new ChunkedArray<byte>();
        var ints = new ChunkedArray<int>();
        var longs = new ChunkedArray<(long, int)>();
        var triples = new ChunkedArray<(long, long, long)>();
        for (int i = 0; i < count; i++)
        {
            GrowTo(ref bytes, i);
            GrowTo(ref ints, i);
            GrowTo(ref longs, i);
            GrowTo(ref triples, i);
            bytes[i] = (byte)i;
            ints[i] = i;
            longs[i] = (i, -i);
            triples[i] = (i, i * 2L, i * 3L);
        }

        for (int i = 0; i < count; i++)
        {
            Assert.Equal((byte)i, bytes[i]);
            Assert.Equal(i, ints[i]);
            Assert.Equal((i, -i), longs[i]);
            Assert.Equal((i, i * 2L, i * 3L), triples[i]);
        }

        Assert.Equal(Enumerable.Range(0, count), ints.ToArray(count));
    }

    [Fact]
    public void Capacity_BelowOneChunk_GrowsByDoublingFromSixteen()
    {
        var array = new ChunkedArray<long>();
        Assert.Equal(16, array.Capacity);
        array.Grow();
        Assert.Equal(32, array.Capacity);
        while (array.Capacity < 4_096)
        {
            array.Grow();
        }

        Assert.Equal(4_096, array.Capacity);
        array.Grow();
        Assert.Equal(8_192, array.Capacity);
    }

    [Fact]
    public void Release_AfterGrowth_LeavesAnEmptyUsableArray()
    {
        var array = new ChunkedArray<string?>();
        for (int i = 0; i < 10_000; i++)
        {
            GrowTo(ref array, i);
            array[i] = "x";
        }

        array.Release();
        Assert.Equal(16, array.Capacity);
        Assert.Null(array[0]);
        array[0] = "first";
        Assert.Equal("first", array[0]);
    }

    private static void GrowTo<T>(ref ChunkedArray<T> array, int index)
    {
        while (index >= array.Capacity)
        {
            array.Grow();
        }
    }
}
