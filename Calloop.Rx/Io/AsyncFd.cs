using System.Net.Sockets;
using System.Runtime.InteropServices;
using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// An fd, <see cref="SafeHandle"/> or <see cref="Socket"/> adapted for <c>async</c> code on an <see cref="EventLoop"/>
/// (calloop's <c>adapt_io</c>, made by <see cref="EventLoop.AsyncFd(int)"/>): <see cref="ReadAsync"/> and
/// <see cref="WriteAsync"/> make the non-blocking call at once and, when it would block, wait for the loop's
/// readiness event and retry it on the loop thread. <see cref="AsStream"/> gives a <see cref="Stream"/> for
/// <c>StreamReader</c>, <c>PipeReader.Create</c>, <c>CopyToAsync</c> and the like.
/// </summary>
/// <remarks>
/// <para>One read-side operation (<see cref="ReadAsync"/> or <see cref="ReadableAsync"/>) and one write-side
/// operation (<see cref="WriteAsync"/> or <see cref="WritableAsync"/>) may be in progress at the same time; a second
/// one on the same side throws <see cref="InvalidOperationException"/>. Unlike calloop's <c>Async</c>, reading and
/// writing concurrently is fine. Operations may be started from any thread; waiting ones complete on the loop thread
/// (a dispatch must run), in the actions phase. An <c>await</c> made on the loop thread continues there, without any
/// allocation (in steady state a read or write allocates nothing), also with <c>ConfigureAwait(false)</c>; one made on
/// another thread continues in its own context, or on the thread pool if it has none.</para>
/// <para>The fd is registered with the loop once, edge-triggered for both directions, and set non-blocking; both
/// last until <see cref="Dispose"/>, which restores the blocking flag it found (as calloop does) but does not close
/// the fd. A <see cref="SafeHandle"/> or <see cref="Socket"/> is kept alive meanwhile. The fd must be something
/// epoll accepts (a socket, pipe, FIFO, terminal, eventfd...), not a regular file.</para>
/// <para>Failures: an errno other than EAGAIN is thrown (from the awaited operation) as a <see cref="LoopException"/>,
/// an <see cref="IOException"/>; cancellation through the token gives <see cref="OperationCanceledException"/>;
/// <see cref="Dispose"/> fails pending operations with <see cref="ObjectDisposedException"/>, and so does disposing
/// the loop (an await made on the loop then continues on the thread that disposed the loop).</para>
/// </remarks>
public sealed class AsyncFd : IDisposable
{
    private readonly SafeHandle? _handle;
    private readonly Socket? _socket;
    private readonly AsyncFdOperation _read;
    private readonly AsyncFdOperation _write;
    private readonly IDisposable _subscription;
    private bool _restoreBlocking;
    private bool _disposed;

    internal AsyncFd(EventLoop loop, int fd, SafeHandle? handle, Socket? socket)
    {
        Loop = loop;
        Fd = fd;
        _handle = handle;
        _socket = socket;
        _read = new AsyncFdOperation(this, isRead: true);
        _write = new AsyncFdOperation(this, isRead: false);
        FdSource source = handle is null ? loop.Fd(fd, Interest.Both, TriggerMode.Edge) : loop.Fd(handle, Interest.Both, TriggerMode.Edge);

        try
        {
            // Registered first, so that a SafeHandle is held (add-ref'd by the source) while its flags change.
            _subscription = source.Subscribe(new ReadinessObserver(this));
            SetNonBlocking();
        }
        catch
        {
            source.Remove();
            throw;
        }
    }

    /// <summary>The loop whose readiness events drive this adapter.</summary>
    public EventLoop Loop { get; }

    /// <summary>The fd being read and written.</summary>
    public int Fd { get; }

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed
    {
        get
        {
            lock (Gate)
            {
                return _disposed;
            }
        }
    }

    /// <summary>Guards both directions' state.</summary>
    internal Lock Gate { get; } = new();

    /// <summary>Caller holds <see cref="Gate"/>.</summary>
    internal bool IsDisposedLocked => _disposed;

    /// <summary>Why the loop can no longer report readiness (its registration failed or ended), or null.</summary>
    internal Exception? SourceError { get; private set; }

    /// <summary>
    /// Reads up to <paramref name="buffer"/>.Length bytes: at once if data is there, otherwise when the loop reports the
    /// fd readable. The result is the number of bytes read, 0 at end of stream. An empty buffer waits until the fd is
    /// readable and returns 0 (a zero-byte read, as .NET sockets do).
    /// </summary>
    /// <param name="buffer">Where to put the bytes; it must stay valid until the operation completes.</param>
    /// <param name="cancellationToken">Cancels a waiting read (with <see cref="OperationCanceledException"/>); no bytes are lost, none having been read.</param>
    /// <exception cref="InvalidOperationException">A read-side operation is already in progress.</exception>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        buffer.IsEmpty ? ReadableCount(cancellationToken) : _read.Start(buffer, default, cancellationToken);

    /// <summary>
    /// Writes up to <paramref name="buffer"/>.Length bytes: at once if there is room, otherwise when the loop reports the
    /// fd writable. Like write(2), the result may be less than the buffer's length (see <see cref="AsStream"/> for a
    /// stream whose writes write everything).
    /// </summary>
    /// <param name="buffer">The bytes to write; it must stay valid until the operation completes.</param>
    /// <param name="cancellationToken">Cancels a waiting write (with <see cref="OperationCanceledException"/>); nothing was written then.</param>
    /// <exception cref="InvalidOperationException">A write-side operation is already in progress.</exception>
    public ValueTask<int> WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _write.Start(default, buffer, cancellationToken);

    /// <summary>
    /// Completes when the fd is readable, has an error, or the peer hung up (calloop's <c>readable()</c>): at once if
    /// it is so now (a zero-timeout poll), otherwise when the loop next reports it. Nothing is read.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="InvalidOperationException">A read-side operation is already in progress.</exception>
    public ValueTask ReadableAsync(CancellationToken cancellationToken = default) => _read.StartWait(cancellationToken);

    /// <summary>Completes when the fd is writable or has an error (calloop's <c>writable()</c>); see <see cref="ReadableAsync"/>.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="InvalidOperationException">A write-side operation is already in progress.</exception>
    public ValueTask WritableAsync(CancellationToken cancellationToken = default) => _write.StartWait(cancellationToken);

    /// <summary>
    /// A <see cref="Stream"/> over this adapter (not seekable): its asynchronous reads are <see cref="ReadAsync"/>, its
    /// asynchronous writes loop on <see cref="WriteAsync"/> until everything is written, and disposing it disposes this adapter.
    /// </summary>
    /// <remarks>
    /// Synchronous <c>Read</c>/<c>Write</c> work off the loop thread by waiting for the asynchronous operation (the
    /// loop must be dispatching elsewhere). On the loop thread they succeed only if the call would not block, and
    /// otherwise throw <see cref="InvalidOperationException"/> rather than deadlock the loop.
    /// </remarks>
    public Stream AsStream() => new AsyncFdStream(this);

    /// <summary>
    /// Unregisters the fd, fails pending operations with <see cref="ObjectDisposedException"/> (their awaiters continue
    /// on the loop), and restores the fd's blocking flag. Does not close the fd. Idempotent; callable from any thread.
    /// </summary>
    /// <remarks>
    /// Racing an operation started on another thread, the operation either completed before (its read or write was
    /// made while the fd was non-blocking) or fails with <see cref="ObjectDisposedException"/>; it never blocks and
    /// never makes a call on the fd once <see cref="Dispose"/> has returned. The same holds for the synchronous
    /// <c>Read</c>/<c>Write</c> of <see cref="AsStream"/>.
    /// </remarks>
    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        // No call on the fd is in flight (each runs under the lock) and none starts now; pending operations end
        // first, so that no retry can run on the fd once it is blocking again.
        _read.Abort(DisposedException());
        _write.Abort(DisposedException());
        _subscription.Dispose();
        RestoreBlocking();
    }

    /// <summary>A non-blocking read now, for the stream's synchronous path: false when it would block.</summary>
    internal bool TryReadNow(Span<byte> buffer, out int read) => TryNow(true, buffer, default, out read);

    /// <summary>A non-blocking write now, for the stream's synchronous path: false when it would block.</summary>
    internal bool TryWriteNow(ReadOnlySpan<byte> buffer, out int written) => TryNow(false, default, buffer, out written);

    internal static ObjectDisposedException DisposedException() => new(nameof(AsyncFd));

    /// <summary>A zero-byte read: wait until readable, then report 0 bytes.</summary>
    private async ValueTask<int> ReadableCount(CancellationToken cancellationToken)
    {
        await _read.StartWait(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    private bool TryNow(bool read, Span<byte> readBuffer, ReadOnlySpan<byte> writeBuffer, out int count)
    {
        // Under the lock, like the operations' attempts: Dispose cannot make the fd blocking while the call runs.
        lock (Gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (true)
            {
                count = read ? FdIo.Read(Fd, readBuffer, out int errno) : FdIo.Write(Fd, writeBuffer, out errno);
                if (count >= 0)
                {
                    return true;
                }

                if (errno == Sys.EAGAIN)
                {
                    return false;
                }

                if (errno != Sys.EINTR)
                {
                    throw new LoopException(read ? "read" : "write", errno, Fd, nameof(AsyncFd));
                }
            }
        }
    }

    private void SetNonBlocking()
    {
        if (_socket is not null)
        {
            _restoreBlocking = _socket.Blocking;
            _socket.Blocking = false;
            return;
        }

        int errno = FdIo.GetNonBlocking(Fd, out bool nonBlocking);
        if (errno == 0 && !nonBlocking)
        {
            errno = FdIo.SetNonBlocking(Fd, true);
            _restoreBlocking = errno == 0;
        }

        if (errno != 0)
        {
            throw new LoopException("fcntl(O_NONBLOCK)", errno, Fd, nameof(AsyncFd));
        }
    }

    private void RestoreBlocking()
    {
        if (!_restoreBlocking)
        {
            return;
        }

        if (_socket is not null)
        {
            try
            {
                _socket.Blocking = true;
            }
            catch (ObjectDisposedException)
            {
                // Closed by its owner already: nothing to restore.
            }

            return;
        }

        bool added = false;
        try
        {
            _handle?.DangerousAddRef(ref added);
            FdIo.SetNonBlocking(Fd, false);
        }
        catch (ObjectDisposedException)
        {
            // The handle was closed already: nothing to restore.
        }
        finally
        {
            if (added)
            {
                _handle!.DangerousRelease();
            }
        }
    }

    private void OnSourceEnded(Exception error)
    {
        lock (Gate)
        {
            SourceError ??= error;
        }

        _read.Abort(error);
        _write.Abort(error);
    }

    /// <summary>Turns the fd source's readiness into retries of the pending operations.</summary>
    private sealed class ReadinessObserver(AsyncFd owner) : IObserver<Readiness>
    {
        public void OnNext(Readiness value)
        {
            // Error and hang-up wake both sides: the retried call reports what happened.
            bool failed = value.Error || value.HangUp;
            if (value.Readable || failed)
            {
                owner._read.OnReadiness();
            }

            if (value.Writable || failed)
            {
                owner._write.OnReadiness();
            }
        }

        public void OnError(Exception error) => owner.OnSourceEnded(error);

        // Only the loop's disposal ends the source while subscribed; pending operations are failed by the loop's teardown.
        public void OnCompleted() => owner.OnSourceEnded(new ObjectDisposedException(nameof(EventLoop), "The event loop was disposed."));
    }
}
