namespace Calloop.Rx;

public sealed partial class EventLoop
{
    // Slab of active sources indexed by the slot part of a token. A freed slot's generation is bumped, so an event
    // still in flight for the old occupant never reaches a new one (calloop #155).
    private ILoopSource?[] _slots = new ILoopSource?[64];
    private uint[] _generations = new uint[64];
    private readonly Stack<int> _freeSlots = new();
    private int _slotHighWater;

    // Which registration owns each fd number an FdSource added to epoll. epoll_ctl(DEL) names an fd by number, so
    // after a watched fd was closed and its number reused by another source's fd, a stale source must not delete it.
    private readonly Dictionary<int, ulong> _fdOwners = [];

    /// <summary>Reserves a slot for an activating source and returns its token (sub-id 0). Caller holds the gate.</summary>
    internal Token AllocateSlotLocked(ILoopSource source)
    {
        if (!_freeSlots.TryPop(out int slot))
        {
            slot = _slotHighWater++;
            if (slot >= Token.MaxSlot)
            {
                throw new InvalidOperationException($"The event loop cannot hold more than {Token.MaxSlot} active sources.");
            }

            if (slot == _slots.Length)
            {
                // Grow by copy and publish: the loop thread reads _slots without the gate.
                var slots = new ILoopSource?[slot * 2];
                Array.Copy(_slots, slots, slot);
                Array.Resize(ref _generations, slot * 2);
                Volatile.Write(ref _slots, slots);
            }
        }

        _slots[slot] = source;
        return Token.Create(slot, 0, _generations[slot]);
    }

    /// <summary>Frees a slot; later events carrying its old token are ignored. Caller holds the gate.</summary>
    internal void FreeSlotLocked(Token token)
    {
        int slot = token.Slot;
        if ((uint)slot < (uint)_slots.Length && _slots[slot] is not null && _generations[slot] == token.Generation)
        {
            _slots[slot] = null;
            _generations[slot] = (_generations[slot] + 1) & Token.MaxGeneration;
            _freeSlots.Push(slot);
        }
    }

    /// <summary>Records that <paramref name="token"/>'s registration now owns <paramref name="fd"/> in epoll. Caller holds the gate.</summary>
    internal void ClaimFdLocked(int fd, Token token) => _fdOwners[fd] = token.Value;

    /// <summary>Whether <paramref name="token"/>'s registration still owns <paramref name="fd"/>. Caller holds the gate.</summary>
    internal bool OwnsFdLocked(int fd, Token token) => _fdOwners.TryGetValue(fd, out ulong owner) && owner == token.Value;

    /// <summary>Whether <paramref name="token"/>'s registration still owns <paramref name="fd"/>, forgetting it if so. Caller holds the gate.</summary>
    internal bool ReleaseFdLocked(int fd, Token token) => OwnsFdLocked(fd, token) && _fdOwners.Remove(fd);

    private ILoopSource? Lookup(ulong data)
    {
        var token = new Token(data);
        ILoopSource?[] slots = Volatile.Read(ref _slots);
        int slot = token.Slot;
        if ((uint)slot >= (uint)slots.Length)
        {
            return null;
        }

        ILoopSource? source = slots[slot];
        return source is not null && source.Token.SameRegistration(token) ? source : null;
    }
}
