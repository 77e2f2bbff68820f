
namespace Calloop.Rx.Collections;

/// <summary>
/// Items under small integer ids, reused after removal (a free list): adding, finding and removing by id are O(1)
/// and touch only the table, never other items (unlike a linked list, whose unlinking writes into both neighbours).
/// Not thread-safe.
/// </summary>
/// <remarks>The arrays are pooled chunks (<see cref="ChunkedArray{T}"/>) and go back to the pool on <see cref="Release"/>.</remarks>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class SlotTable<T>
    where T : class
{
    private ChunkedArray<Entry> _items = new();
    private ChunkedArray<int> _free = new();
    private int _freeCount;

    /// <summary>One more than the highest id handed out since the last <see cref="Release"/>.</summary>
    public int HighWater { get; private set; }

    /// <summary>Whether a removed id is waiting to be reused, so <see cref="Add"/> will not raise <see cref="HighWater"/>.</summary>
    public bool HasFree => _freeCount > 0;

    /// <summary>The item under <paramref name="id"/>, or null.</summary>
    public T? this[int id] => _items[id].Item;

    /// <summary>Stores <paramref name="item"/> and returns its id.</summary>
    public int Add(T item)
    {
        int id;
        if (_freeCount > 0)
        {
            id = _free[--_freeCount];
        }
        else
        {
            id = HighWater++;
            if (id == _items.Capacity)
            {
                _items.Grow();
            }

            if (id == _free.Capacity)
            {
                _free.Grow();
            }
        }

        _items[id].Item = item;
        return id;
    }

    /// <summary>Frees <paramref name="id"/>, which must hold an item.</summary>
    public void Remove(int id)
    {
        _items[id].Item = null;
        _free[_freeCount++] = id;
    }

    /// <summary>Empties the table and gives its arrays back to the pool; it stays usable.</summary>
    public void Release()
    {
        _items.Release();
        _free.Release();
        _freeCount = 0;
        HighWater = 0;
    }

    /// <summary>An array of this struct rather than of <typeparamref name="T"/>: storing into it needs no covariance check.</summary>
    private struct Entry
    {
        public T? Item;
    }
}
