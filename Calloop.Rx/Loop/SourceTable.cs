using Calloop.Rx.Collections;

namespace Calloop.Rx.Loop;

/// <summary>
/// Who is registered with the loop and what they hold: the epoll registrations by token, which registration owns
/// each fd number, the sources disposal must end, and the inotify instance file watches share. Guarded by the gate,
/// except <see cref="Lookup"/>, which the loop thread calls for every fd event without it.
/// </summary>
/// <remarks>
/// Two indexes, because they differ in both key and reader. A registration lives from a source's activation to its
/// deactivation, only for sources that put fds in epoll, and its slot is read by the loop thread without the gate,
/// with a generation that makes a stale event for a previous occupant miss. A tracked source lives from creation
/// (when it owns OS resources) or activation (otherwise) until it ends, whether or not it uses epoll (timers, pings,
/// channels do not), and is only walked under the gate. One index keyed by tracking would give every short-lived
/// timer an epoll slot and would keep a source's token across re-registrations, so stale events could reach it.
/// </remarks>
internal sealed class SourceTable
{
    // Hands out registration slots (a free list). Its storage is not safe to read without the gate (its first chunk
    // doubles through the pool, and a grown table's chunk directory is replaced), so the loop thread, which reads
    // without the gate, reads the copy below instead: grown by copy and published, never returned.
    private readonly SlotTable<ILoopSource> _registrations = new();
    private ILoopSource?[] _bySlot = new ILoopSource?[64];
    private uint[] _generations = new uint[64];

    // epoll_ctl(DEL) names an fd by number, so after a watched fd was closed and its number reused by another
    // source's fd, a stale source must not delete it.
    private readonly Dictionary<int, ulong> _fdOwners = [];

    // A slot table so that the churn of short-lived timers costs O(1), no allocation, and touches no other source.
    private readonly SlotTable<ILoopSource> _tracked = new();

    /// <summary>The inotify instance all file watches share, made by the first watch; null until then. Caller holds the gate.</summary>
    public InotifyHub? Inotify { get; set; }

    /// <summary>Reserves a slot for an activating source and returns its token (sub-id 0). Caller holds the gate.</summary>
    /// <exception cref="InvalidOperationException">Every slot is taken.</exception>
    public Token AllocateLocked(ILoopSource source)
    {
        if (_registrations.HighWater == Token.MaxSlot && !_registrations.HasFree)
        {
            throw new InvalidOperationException($"The event loop cannot hold more than {Token.MaxSlot} active sources.");
        }

        int slot = _registrations.Add(source);
        if (slot == _bySlot.Length)
        {
            var bySlot = new ILoopSource?[slot * 2];
            Array.Copy(_bySlot, bySlot, slot);
            Array.Resize(ref _generations, slot * 2);
            Volatile.Write(ref _bySlot, bySlot);
        }

        _bySlot[slot] = source;
        return Token.Create(slot, 0, _generations[slot]);
    }

    /// <summary>Frees <paramref name="token"/>'s slot; later events carrying it are ignored. Caller holds the gate.</summary>
    public void FreeLocked(Token token)
    {
        int slot = token.Slot;
        if ((uint)slot < (uint)_bySlot.Length && _bySlot[slot] is not null && _generations[slot] == token.Generation)
        {
            _bySlot[slot] = null;
            _generations[slot] = (_generations[slot] + 1) & Token.MaxGeneration;
            _registrations.Remove(slot);
        }
    }

    /// <summary>Loop thread, without the gate: the source registered under the epoll data <paramref name="data"/>, or null if it has gone.</summary>
    public ILoopSource? Lookup(ulong data)
    {
        var token = new Token(data);
        ILoopSource?[] bySlot = Volatile.Read(ref _bySlot);
        int slot = token.Slot;
        if ((uint)slot >= (uint)bySlot.Length)
        {
            return null;
        }

        ILoopSource? source = bySlot[slot];
        return source is not null && source.Token.SameRegistration(token) ? source : null;
    }

    /// <summary>Records that <paramref name="token"/>'s registration now owns <paramref name="fd"/> in epoll. Caller holds the gate.</summary>
    public void ClaimFdLocked(int fd, Token token) => _fdOwners[fd] = token.Value;

    /// <summary>Whether <paramref name="token"/>'s registration still owns <paramref name="fd"/>. Caller holds the gate.</summary>
    public bool OwnsFdLocked(int fd, Token token) => _fdOwners.TryGetValue(fd, out ulong owner) && owner == token.Value;

    /// <summary>Whether <paramref name="token"/>'s registration still owns <paramref name="fd"/>, forgetting it if so. Caller holds the gate.</summary>
    public bool ReleaseFdLocked(int fd, Token token) => OwnsFdLocked(fd, token) && _fdOwners.Remove(fd);

    /// <summary>Adds a source disposal must end; false if it was tracked already. Caller holds the gate.</summary>
    public bool TrackLocked(ILoopSource source)
    {
        if (source.TrackedSlot != 0)
        {
            return false;
        }

        source.TrackedSlot = _tracked.Add(source) + 1;
        return true;
    }

    /// <summary>Forgets a tracked source; false if it was not tracked. Caller holds the gate.</summary>
    public bool UntrackLocked(ILoopSource source)
    {
        if (source.TrackedSlot == 0)
        {
            return false;
        }

        _tracked.Remove(source.TrackedSlot - 1);
        source.TrackedSlot = 0;
        return true;
    }

    /// <summary>The tracked sources (those teardown would end). Caller holds the gate while enumerating.</summary>
    public IEnumerable<ILoopSource> TrackedLocked()
    {
        for (int id = 0; id < _tracked.HighWater; id++)
        {
            if (_tracked[id] is { } source)
            {
                yield return source;
            }
        }
    }

    /// <summary>Teardown: hands every tracked source to <paramref name="sources"/> and empties the table. Caller holds the gate.</summary>
    public void TakeTrackedLocked(List<ILoopSource> sources)
    {
        foreach (ILoopSource source in TrackedLocked())
        {
            source.TrackedSlot = 0;
            sources.Add(source);
        }

        _tracked.Release();
    }
}
