namespace Calloop.Rx;

/// <summary>
/// Identifies one registration of one source in the loop, plus a sub-id so that a custom source can tell its
/// fds apart. It is what the kernel hands back with each event (the epoll data). A token of a removed source
/// never matches the source that reuses its slot.
/// </summary>
public readonly record struct Token
{
    internal const int MaxSlot = (1 << 24) - 1;
    internal const int MaxSubId = ushort.MaxValue;
    internal const uint MaxGeneration = (1u << 24) - 1;

    internal Token(ulong value) => Value = value;

    /// <summary>The raw value carried in the epoll event.</summary>
    public ulong Value { get; }

    /// <summary>Which of a source's fds this token names (0, 1, 2… in the order <see cref="TokenFactory.Next"/> handed them out).</summary>
    public int SubId => (int)((Value >> 24) & 0xFFFF);

    internal int Slot => (int)(Value & MaxSlot);

    internal uint Generation => (uint)(Value >> 40);

    internal static Token Create(int slot, int subId, uint generation) =>
        new((ulong)(uint)slot | ((ulong)(uint)subId << 24) | ((ulong)generation << 40));

    internal Token WithSubId(int subId) => Create(Slot, subId, Generation);

    /// <summary>Same source registration, whatever the sub-id.</summary>
    internal bool SameRegistration(Token other) => Slot == other.Slot && Generation == other.Generation;
}
