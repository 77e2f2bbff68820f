using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// An eventfd that cross-thread producers (pings, channel senders, the signal forwarder) use to wake the loop,
/// with writes coalesced: only the first signal after the loop drained it costs a syscall.
/// </summary>
/// <remarks>
/// Ordering that keeps every event: a producer publishes its data, then <see cref="Signal"/>s; the loop calls
/// <see cref="Drain"/> (read the counter, then clear the flag) and only then looks at the data. A producer that
/// saw the flag still set published before the clear, so the loop sees its data now; one that saw it clear writes
/// again and produces another event.
/// </remarks>
internal sealed class Notifier : IDisposable
{
    private readonly EventFd _fd;
    private int _signalled;

    public Notifier(string owner) => _fd = new EventFd(owner);

    public int Fd => _fd.Fd;

    public bool IsClosed => _fd.IsClosed;

    /// <summary>Adds <paramref name="value"/> unless a signal is already pending. False once closed.</summary>
    public bool Signal(ulong value = 1)
    {
        if (Volatile.Read(ref _signalled) == 1 || Interlocked.Exchange(ref _signalled, 1) == 1)
        {
            return !_fd.IsClosed;
        }

        return _fd.Write(value);
    }

    /// <summary>Adds to the counter regardless of the flag (for one-off marks such as "closed").</summary>
    public bool WriteDirect(ulong value) => _fd.Write(value);

    /// <summary>Loop thread: reads and resets the counter, then re-opens the flag. Returns the counter.</summary>
    public ulong Drain()
    {
        ulong value = _fd.Read();
        Interlocked.Exchange(ref _signalled, 0);
        return value;
    }

    public void Dispose() => _fd.Dispose();
}
