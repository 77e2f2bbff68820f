using System.Threading.Tasks.Sources;
using Calloop.Rx.Interop;
using Calloop.Rx.Scheduling;

namespace Calloop.Rx;

/// <summary>
/// One direction (read or write) of an <see cref="AsyncFd"/>: at most one operation at a time, whose
/// <see cref="ValueTask"/> is backed by this reusable object, so a read or write that has to wait allocates nothing.
/// </summary>
/// <remarks>
/// <para>Life of an operation: Idle → Pending (the caller's non-blocking call said EAGAIN: waiting for the loop's
/// readiness event, which retries the call on the loop thread) → Completed (outcome known, this item queued on the
/// loop) → Signalled (continuation invoked in the actions phase) → Idle once the awaiter took the result.</para>
/// <para>All state is guarded by the owner's lock, and every call on the fd (the caller's first attempt and the
/// loop's retries) is made under it. So <see cref="AsyncFd.Dispose"/>, which takes the lock before it restores the
/// blocking flag, never finds an attempt in flight: an operation that loses the race faults with
/// <see cref="ObjectDisposedException"/> and none can block. It also means readiness needs no bookkeeping although
/// it is edge-triggered: an edge arriving during the attempt waits for the lock and then retries the now pending
/// operation. A readiness wait (<c>ReadableAsync</c>/<c>WritableAsync</c>) "attempts" with a zero-timeout poll(2), so
/// it reports the fd's state now rather than a remembered edge.</para>
/// <para>An awaiter on the loop thread with the loop's context is continued directly by the completion (which already
/// runs on the loop, in an actions phase, with that context current) instead of through a <c>Post</c>: that is what
/// keeps the steady state allocation-free. An awaiter on another thread without a context continues on the thread pool.</para>
/// </remarks>
internal sealed class AsyncFdOperation : WorkItem, IValueTaskSource<int>, IValueTaskSource, ILoopTeardown
{
    private static readonly Action<object?, CancellationToken> s_cancel = static (s, token) => ((AsyncFdOperation)s!).Cancel(token);

    private readonly AsyncFd _owner;
    private readonly bool _isRead;
    private ManualResetValueTaskSourceCore<int> _core;
    private State _state;
    private bool _waitOnly;
    private Memory<byte> _readBuffer;
    private ReadOnlyMemory<byte> _writeBuffer;
    private int _result;
    private Exception? _error;
    private CancellationToken _cancellationToken;
    private CancellationTokenRegistration _registration;

    internal AsyncFdOperation(AsyncFd owner, bool isRead)
    {
        _owner = owner;
        _isRead = isRead;
    }

    private enum State
    {
        Idle,
        Pending,
        Completed,
        Signalled,
    }

    private string Direction => _isRead ? "read" : "write";

    /// <summary>Starts a read (into <paramref name="readBuffer"/>) or a write (of <paramref name="writeBuffer"/>).</summary>
    internal ValueTask<int> Start(Memory<byte> readBuffer, ReadOnlyMemory<byte> writeBuffer, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        return StartCore(false, readBuffer, writeBuffer, cancellationToken, out int result, out Exception? error) is { } token
            ? new ValueTask<int>(this, token)
            : error is null ? new ValueTask<int>(result) : ValueTask.FromException<int>(error);
    }

    /// <summary>Starts a wait for readiness in this direction.</summary>
    internal ValueTask StartWait(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return StartCore(true, default, default, cancellationToken, out _, out Exception? error) is { } token
            ? new ValueTask(this, token)
            : error is null ? ValueTask.CompletedTask : ValueTask.FromException(error);
    }

    /// <summary>Tries the operation now; returns the token of the pending operation, or null with the outcome.</summary>
    private short? StartCore(bool waitOnly, Memory<byte> readBuffer, ReadOnlyMemory<byte> writeBuffer, CancellationToken cancellationToken, out int result, out Exception? error)
    {
        result = 0;
        short version;
        lock (_owner.Gate)
        {
            if (_owner.IsDisposedLocked)
            {
                error = AsyncFd.DisposedException();
                return null;
            }

            if (_state != State.Idle)
            {
                throw new InvalidOperationException($"A {Direction} is already in progress on this AsyncFd: one read and one write may run at a time.");
            }

            // The attempt runs under the lock: Dispose cannot restore the blocking flag (nor the owner get the fd
            // back) while it is in flight, and a readiness event that arrives meanwhile waits for it and then sees
            // the operation pending, so no edge is lost between the EAGAIN and the wait.
            _waitOnly = waitOnly;
            _readBuffer = readBuffer;
            _writeBuffer = writeBuffer;
            int n = Attempt(out int errno);
            error = n >= 0 ? null
                : errno != Sys.EAGAIN ? Error(errno)
                : _owner.SourceError ?? (_owner.Loop.Async.TryTrack(this) ? null : LoopDisposed());
            if (n >= 0 || error is not null)
            {
                Clear();
                result = n;
                return null;
            }

            _core.Reset();
            _cancellationToken = cancellationToken;
            _state = State.Pending;
            version = _core.Version;
        }

        if (cancellationToken.CanBeCanceled)
        {
            // Registered outside the lock: an already-cancelled token runs the callback right here.
            CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(s_cancel, this);
            lock (_owner.Gate)
            {
                if (_state == State.Pending && _core.Version == version)
                {
                    _registration = registration;
                    registration = default;
                }
            }

            registration.Unregister();
        }

        return version;
    }

    /// <summary>A readiness event for this direction (loop thread): retry the pending operation.</summary>
    internal void OnReadiness()
    {
        lock (_owner.Gate)
        {
            // Once disposed, the adapter's Dispose fails the operation: no retry may succeed after it began.
            if (_state != State.Pending || _owner.IsDisposedLocked)
            {
                return;
            }

            int n = Attempt(out int errno);
            if (n < 0 && errno == Sys.EAGAIN)
            {
                // A spurious wake-up (the other direction's edge, or a hang-up of the other half): wait for the next edge.
                return;
            }

            _result = n;
            _error = n < 0 ? Error(errno) : null;
            _state = State.Completed;
        }

        Complete();
    }

    /// <summary>Fails a pending operation (the adapter was disposed, or its registration failed).</summary>
    internal void Abort(Exception error)
    {
        lock (_owner.Gate)
        {
            if (_state != State.Pending)
            {
                return;
            }

            _error = error;
            _state = State.Completed;
        }

        Complete();
    }

    /// <summary>The completion, in the loop's actions phase: invoke the continuation.</summary>
    internal override void Invoke() => Signal();

    public void OnLoopTeardown(List<Exception> errors)
    {
        lock (_owner.Gate)
        {
            if (_state == State.Pending)
            {
                _error = LoopDisposed();
                _state = State.Completed;
            }
        }

        // Nothing will run the queued completion any more: continue the awaiter here, on the disposing thread.
        Signal();
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        bool onLoop = _owner.Loop.IsOnLoopThread;
        if (onLoop
            && (flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0
            && SynchronizationContext.Current is LoopSynchronizationContext context
            && context.Loop == _owner.Loop)
        {
            // The completion runs on the loop thread, in an actions phase, with this context current: posting would only cost an allocation.
            flags &= ~ValueTaskSourceOnCompletedFlags.UseSchedulingContext;
        }

        // An await made on the loop thread without a context to return to (ConfigureAwait(false), as inside
        // StreamReader) continues on the loop thread; one made elsewhere goes to the thread pool, as a socket's does,
        // so that work never moves onto the loop by surprise. A captured foreign context gets it either way.
        _core.RunContinuationsAsynchronously = !onLoop;
        _core.OnCompleted(continuation, state, token, flags);
    }

    int IValueTaskSource<int>.GetResult(short token) => TakeResult(token);

    void IValueTaskSource.GetResult(short token) => TakeResult(token);

    private int TakeResult(short token)
    {
        if (token != _core.Version)
        {
            throw new InvalidOperationException("This AsyncFd operation's ValueTask was already awaited; a ValueTask may be awaited once.");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            lock (_owner.Gate)
            {
                _state = State.Idle;
            }
        }
    }

    /// <summary>The non-blocking call (or, for a readiness wait, the readiness flag). Caller owns the operation.</summary>
    private int Attempt(out int errno)
    {
        int fd = _owner.Fd;
        while (true)
        {
            int n = _waitOnly ? PollNow(fd, out errno)
                : _isRead ? FdIo.Read(fd, _readBuffer.Span, out errno) : FdIo.Write(fd, _writeBuffer.Span, out errno);
            if (n >= 0 || errno != Sys.EINTR)
            {
                return n;
            }
        }
    }

    /// <summary>A readiness wait's attempt: 0 when ready now, otherwise -1 with EAGAIN (like a call that would block).</summary>
    private int PollNow(int fd, out int errno)
    {
        int ready = FdIo.PollNow(fd, !_isRead, out errno);
        if (ready == 0)
        {
            errno = Sys.EAGAIN;
            return -1;
        }

        return ready > 0 ? 0 : -1;
    }

    private void Complete()
    {
        // A disposed loop cannot run the item: its teardown (which tracks this operation) continues the awaiter.
        _owner.Loop.TryEnqueue(this);
    }

    private void Cancel(CancellationToken token)
    {
        lock (_owner.Gate)
        {
            if (_state != State.Pending || _cancellationToken != token)
            {
                return;
            }

            _error = new OperationCanceledException(token);
            _state = State.Completed;
        }

        Complete();
    }

    private void Signal()
    {
        int result;
        Exception? error;
        lock (_owner.Gate)
        {
            if (_state != State.Completed)
            {
                return;
            }

            _state = State.Signalled;
            result = _result;
            error = _error;
            _registration.Unregister();
            Clear();
        }

        _owner.Loop.Async.Untrack(this);
        if (error is null)
        {
            _core.SetResult(result);
        }
        else
        {
            _core.SetException(error);
        }
    }

    /// <summary>Drops references to the caller's buffer, token and error. Caller holds the lock.</summary>
    private void Clear()
    {
        _readBuffer = default;
        _writeBuffer = default;
        _error = null;
        _cancellationToken = default;
        _registration = default;
    }

    private LoopException Error(int errno) => new(Direction, errno, _owner.Fd, "AsyncFd");

    private static ObjectDisposedException LoopDisposed() =>
        new(nameof(EventLoop), "The event loop was disposed while an AsyncFd operation was pending.");
}
