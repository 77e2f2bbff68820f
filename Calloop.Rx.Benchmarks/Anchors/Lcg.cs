namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>The anchors' deterministic deadline offsets (identical in every implementation).</summary>
internal struct Lcg
{
    private ulong _s = 42;

    public Lcg()
    {
    }

    /// <summary>The next offset in nanoseconds, in [0, 1 s).</summary>
    public long NextOffsetNs()
    {
        unchecked
        {
            _s = (_s * 6364136223846793005UL) + 1442695040888963407UL;
        }

        return (long)((_s >> 33) % 1_000_000_000UL);
    }
}
