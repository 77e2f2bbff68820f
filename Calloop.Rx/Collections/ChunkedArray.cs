using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Calloop.Rx.Collections;

/// <summary>
/// A growable array kept in chunks of at most 32 KB taken from <see cref="ArrayPool{T}.Shared"/>, for the loop's
/// tables that reach hundreds of thousands of entries (the timer heap, the slot tables).
/// </summary>
/// <remarks>
/// <para>Growing adds a chunk instead of copying into an array twice as long. A doubling table holds up to twice the
/// memory it needs, never builds a large-object-heap array (whose allocation can start a full collection while
/// timers are being inserted), and leaves nothing behind in the pool while it grows (returned smaller arrays stayed
/// in the pool and counted against every live entry). The first chunk still grows by doubling, so a loop with a few
/// timers holds a few bytes, not a whole chunk.</para>
/// <para>A mutable struct so that reaching an element costs two loads rather than three: keep it in a field and
/// never copy it. Not thread-safe.</para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
internal struct ChunkedArray<T>
{
    private const int ChunkBytes = 32 * 1024;

    // A power of two, so that an index splits into chunk and offset with a shift and a mask.
    private static readonly int s_shift = BitOperations.Log2((uint)Math.Max(1, ChunkBytes / Unsafe.SizeOf<T>()));

    private T[][] _chunks;

    /// <summary>An empty array whose first chunk is a small pooled one.</summary>
    public ChunkedArray() => _chunks = [PooledArray.Rent<T>()];

    private static int ChunkLength => 1 << s_shift;

    /// <summary>How many elements fit without growing.</summary>
    public readonly int Capacity => _chunks.Length == 1 ? _chunks[0].Length : _chunks.Length << s_shift;

    /// <summary>The element at <paramref name="index"/>, which must be below <see cref="Capacity"/>.</summary>
    public readonly ref T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _chunks[index >> s_shift][index & (ChunkLength - 1)];
    }

    /// <summary>Makes room for one more element at index <see cref="Capacity"/>, keeping every element where it is.</summary>
    public void Grow()
    {
        if (_chunks.Length == 1 && _chunks[0].Length < ChunkLength)
        {
            // Pooled lengths are powers of two, as ChunkLength is: doubling reaches it exactly.
            PooledArray.Grow(ref _chunks[0], _chunks[0].Length);
            return;
        }

        int count = _chunks.Length;
        Array.Resize(ref _chunks, count + 1);
        _chunks[count] = ArrayPool<T>.Shared.Rent(ChunkLength);
    }

    /// <summary>Gives every chunk back to the pool and starts again empty.</summary>
    public void Release()
    {
        for (int i = 0; i < _chunks.Length; i++)
        {
            PooledArray.Return(ref _chunks[i]);
        }

        _chunks = [PooledArray.Rent<T>()];
    }

    /// <summary>The first <paramref name="count"/> elements, copied into one array (rare operations that need them contiguous).</summary>
    public readonly T[] ToArray(int count)
    {
        var copy = new T[count];
        for (int i = 0; i < count; i++)
        {
            copy[i] = this[i];
        }

        return copy;
    }
}
