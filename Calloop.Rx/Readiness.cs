namespace Calloop.Rx;

/// <summary>
/// What the kernel reported for an fd. Error and hang-up are data, not <c>OnError</c>: the source keeps working
/// and the observer decides what they mean.
/// </summary>
public readonly record struct Readiness
{
    private readonly byte _bits;

    private Readiness(byte bits) => _bits = bits;

    /// <summary>Creates a readiness value.</summary>
    public Readiness(bool readable, bool writable, bool error = false, bool hangUp = false)
        : this((byte)((readable ? 1 : 0) | (writable ? 2 : 0) | (error ? 4 : 0) | (hangUp ? 8 : 0)))
    {
    }

    /// <summary>Nothing ready.</summary>
    public static Readiness Empty => default;

    /// <summary>Readable only (how custom sources usually describe their own wake-ups).</summary>
    public static Readiness ReadableOnly => new(1);

    /// <summary>Data can be read (EPOLLIN), or the peer closed its end.</summary>
    public bool Readable => (_bits & 1) != 0;

    /// <summary>Data can be written without blocking (EPOLLOUT).</summary>
    public bool Writable => (_bits & 2) != 0;

    /// <summary>An error condition is pending on the fd (EPOLLERR).</summary>
    public bool Error => (_bits & 4) != 0;

    /// <summary>The peer hung up (EPOLLHUP or EPOLLRDHUP).</summary>
    public bool HangUp => (_bits & 8) != 0;

    internal static Readiness FromEpoll(uint events) => new((byte)(
        ((events & Interop.Sys.EpollIn) != 0 ? 1 : 0)
        | ((events & Interop.Sys.EpollOut) != 0 ? 2 : 0)
        | ((events & Interop.Sys.EpollErr) != 0 ? 4 : 0)
        | ((events & (Interop.Sys.EpollHup | Interop.Sys.EpollRdHup)) != 0 ? 8 : 0)));

    /// <inheritdoc/>
    public override string ToString() =>
        _bits == 0 ? "Empty" : string.Join("|", new[] { Readable ? "Readable" : null, Writable ? "Writable" : null, Error ? "Error" : null, HangUp ? "HangUp" : null }.Where(s => s is not null));
}
