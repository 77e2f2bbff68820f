using System.Net.Sockets;
using System.Runtime.InteropServices;
using Calloop.Rx.Interop;

namespace Calloop.Rx;

public sealed partial class EventLoop
{
    /// <summary>Readiness of a raw fd. The caller keeps the fd open until the source is unregistered.</summary>
    /// <exception cref="LoopException">The fd is not open (EBADF), checked now; an fd the kernel refuses is reported by <c>Subscribe</c>.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public FdSource Fd(int fd, Interest interest = Interest.Read, TriggerMode mode = TriggerMode.Level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        return Track(new FdSource(this, CheckOpen(fd), null, interest, mode));
    }

    /// <summary>Readiness of the fd held by <paramref name="handle"/>. Disposing the handle while registered is safe: reports stop.</summary>
    /// <exception cref="LoopException">The handle's fd is not open.</exception>
    /// <exception cref="ObjectDisposedException">The handle or the loop is disposed.</exception>
    public FdSource Fd(SafeHandle handle, Interest interest = Interest.Read, TriggerMode mode = TriggerMode.Level)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ObjectDisposedException.ThrowIf(handle.IsClosed || handle.IsInvalid, handle);
        int fd = CheckOpen((int)handle.DangerousGetHandle());
        return Track(new FdSource(this, fd, handle, interest, mode));
    }

    /// <summary>Readiness of a socket. Set <see cref="Socket.Blocking"/> to false and use its synchronous calls from the callbacks.</summary>
    /// <exception cref="ObjectDisposedException">The socket or the loop is disposed.</exception>
    public FdSource Fd(Socket socket, Interest interest = Interest.Read, TriggerMode mode = TriggerMode.Level)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return Fd(socket.SafeHandle, interest, mode);
    }

    /// <summary>A timer that fires once, <paramref name="due"/> from now, then completes. <see cref="TimeSpan.MaxValue"/> never fires.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="due"/> is negative.</exception>
    public TimerSource Timer(TimeSpan due) => Timer(due, null);

    /// <summary>A timer that fires first <paramref name="due"/> from now; after each event, <paramref name="next"/> (given the deadline that fired) says whether and when it fires again.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="due"/> is negative.</exception>
    public TimerSource Timer(TimeSpan due, Func<DateTimeOffset, TimeoutAction>? next)
    {
        if (due < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(due), due, "A timer's delay cannot be negative.");
        }

        return Track(new TimerSource(this, _time.DeadlineAfter(due), next));
    }

    /// <summary>A timer that fires once at <paramref name="deadline"/> (a past deadline fires on the next dispatch), then completes.</summary>
    public TimerSource Timer(DateTimeOffset deadline) => Timer(deadline, null);

    /// <summary>A timer that fires first at <paramref name="deadline"/>; <paramref name="next"/> decides what follows each event.</summary>
    public TimerSource Timer(DateTimeOffset deadline, Func<DateTimeOffset, TimeoutAction>? next) =>
        Track(new TimerSource(this, _time.ToTicks(deadline), next));

    /// <summary>A ping: a thread-safe sender and the source it wakes (calloop's <c>make_ping</c>). Uses no fd of its own.</summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public (Ping Ping, PingSource Source) Ping()
    {
        var source = Track(new PingSource(this));
        return (new Ping(source), source);
    }

    /// <summary>An unbounded multi-producer channel into the loop (calloop's <c>channel</c>). Uses no fd of its own.</summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public (Sender<T> Sender, ChannelSource<T> Source) Channel<T>()
    {
        var core = new ChannelCore<T>(this, 0);
        Track(core.Source);
        return (new Sender<T>(core), core.Source);
    }

    /// <summary>A bounded channel whose sender blocks (or reports <see cref="SendResult.Full"/>) at <paramref name="capacity"/> (calloop's <c>sync_channel</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    public (BoundedSender<T> Sender, ChannelSource<T> Source) BoundedChannel<T>(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var core = new ChannelCore<T>(this, capacity);
        Track(core.Source);
        return (new BoundedSender<T>(core), core.Source);
    }

    /// <summary>Unix signals delivered on the loop. Named members or raw numbers (<c>(PosixSignal)10</c> for SIGUSR1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A signal cannot be handled (SIGKILL, SIGSTOP, fault signals, out of range).</exception>
    public SignalSource Signals(params PosixSignal[] signals)
    {
        ArgumentNullException.ThrowIfNull(signals);
        return Track(new SignalSource(this, signals.Select(ValidateSignal).ToArray()));
    }

    /// <summary>Inserts a custom source; it is registered when first subscribed.</summary>
    public LoopSource<T> Insert<T>(IEventSource<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Track(new CustomSource<T>(this, source));
    }

    internal static int ValidateSignal(PosixSignal signal)
    {
        int number = SignalNames.ToNumber(signal);
        if (number <= 0 || Sys.IsReservedSignal(number))
        {
            throw new ArgumentOutOfRangeException(nameof(signal), signal, $"Signal {number} cannot be handled by an event loop (uncatchable, owned by the runtime, or out of range).");
        }

        return number;
    }

    private static int CheckOpen(int fd)
    {
        int errno = Sys.CheckFdOpen(fd);
        if (errno != 0)
        {
            throw new LoopException("fcntl(F_GETFD)", errno, fd, "Fd");
        }

        return fd;
    }

    /// <summary>
    /// A token cancelled when the loop is disposed: on the thread that calls <see cref="Dispose"/>, after
    /// <see cref="IsDisposed"/> became true and before <see cref="Dispose"/> returns, whether the teardown runs there or
    /// is left to a dispatch in progress. Senders of composite sources use it to release producers waiting for room.
    /// </summary>
    public CancellationToken DisposalToken => _disposal.Token;

    /// <summary>Admits a new source: one that owns OS resources is tracked until it ends, so disposal releases them.</summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed (the caller releases what the source holds).</exception>
    internal void TrackNew(ILoopSource source)
    {
        if (!source.OwnsResources)
        {
            // Nothing to release if disposal races with this: Subscribe checks again under the gate.
            ThrowIfDisposed();
            return;
        }

        lock (Gate)
        {
            ThrowIfDisposed();
            TrackLocked(source);
        }
    }

    private TSource Track<TSource>(TSource source)
        where TSource : ILoopSource
    {
        try
        {
            TrackNew(source);
        }
        catch (ObjectDisposedException)
        {
            source.End([]);
            throw;
        }

        return source;
    }
}
