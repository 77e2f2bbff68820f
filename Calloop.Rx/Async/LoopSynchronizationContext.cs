using System.Runtime.ExceptionServices;
using Calloop.Rx.Async;
using Calloop.Rx.Scheduling;

namespace Calloop.Rx;

/// <summary>
/// The <see cref="SynchronizationContext"/> of an <see cref="EventLoop"/> (<see cref="EventLoop.SynchronizationContext"/>):
/// what is posted to it runs on the loop thread, during dispatch. The loop makes it current for the whole of each
/// dispatch, so <c>await</c> in loop code (a spawned task, an observer, a scheduled action) continues on the loop thread.
/// </summary>
/// <remarks>
/// <para><see cref="Post"/> queues the callback with the loop's scheduled work (the same queue as
/// <see cref="LoopScheduler"/>'s immediate actions: it runs in the actions phase of the next dispatch, or of the
/// current one when posted from an earlier phase) and never runs it inline. It is callable from any thread and wakes
/// a blocked dispatch. An exception thrown by a posted callback comes out of <see cref="EventLoop.Dispatch(TimeSpan?)"/>,
/// like one thrown by a scheduled action (and so does an exception escaping an <c>async void</c> method started on the loop).</para>
/// <para>Where an <c>await</c> continues: a task completed on another thread (a thread-pool timer, a socket) posts
/// its loop awaiters here, so they run in the actions phase. A task completed on the loop thread inside a dispatch
/// (by a loop timer, an observer, another continuation) continues them inline, right where it completes, because
/// the context is already current there: that is .NET's rule for every <see cref="SynchronizationContext"/>, and it
/// saves a trip through the queue. Either way they run on the loop thread.</para>
/// <para>A callback given to <see cref="Post"/>, or to <see cref="Send"/> from another thread, runs in the
/// <see cref="ExecutionContext"/> of the caller (its <c>AsyncLocal</c> values), or in the default one when the caller
/// suppressed flow, as with the base class's thread-pool <c>Post</c>; the loop thread's own context is left as it was.</para>
/// <para>After the loop is disposed, <see cref="Post"/> drops the callback silently: continuations posted by tasks
/// completing on other threads must not throw into those threads, and a disposed loop drops its queued work anyway.</para>
/// <para><see cref="Send"/> on the loop thread (inside a dispatch) runs the callback inline. From any other thread it
/// queues the callback and blocks until the loop has run it, then rethrows what it threw; if the loop is disposed
/// first it throws <see cref="ObjectDisposedException"/>. It deadlocks if the loop thread is itself waiting for the
/// caller, or if nobody dispatches, including when the caller is the thread that would dispatch next.</para>
/// </remarks>
public sealed class LoopSynchronizationContext : SynchronizationContext
{
    internal LoopSynchronizationContext(EventLoop loop) => Loop = loop;

    /// <summary>The loop this context posts to.</summary>
    public EventLoop Loop { get; }

    /// <summary>Queues <paramref name="d"/> to run on the loop thread, in the caller's <see cref="ExecutionContext"/>, in a later actions phase; never inline. Dropped silently once the loop is disposed.</summary>
    /// <param name="d">The callback.</param>
    /// <param name="state">Its argument.</param>
    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        Loop.TryEnqueue(new PostedCallback(Loop, d, state));
    }

    /// <summary>
    /// Runs <paramref name="d"/> on the loop thread and returns when it has run: inline when called on the loop
    /// thread, otherwise by queuing it and blocking (see the remarks on the class for the deadlock this can cause).
    /// </summary>
    /// <param name="d">The callback.</param>
    /// <param name="state">Its argument.</param>
    /// <exception cref="ObjectDisposedException">The loop is, or became, disposed before running the callback.</exception>
    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (Loop.IsOnLoopThread)
        {
            d(state);
            return;
        }

        new SendRequest(Loop, d, state).Run();
    }

    /// <summary>Returns this instance: the context has no per-copy state.</summary>
    public override SynchronizationContext CreateCopy() => this;

    /// <summary>A callback queued for the loop, with the <see cref="ExecutionContext"/> of the code that queued it, which it must run in.</summary>
    private abstract class HandedOverCallback(SendOrPostCallback callback, object? state) : WorkItem
    {
        private readonly ExecutionContext _context = CallbackContext.Capture();

        /// <summary>Runs the callback in its context; what it throws is thrown here, after the loop thread's context is restored.</summary>
        protected void RunCallback() =>
            ExecutionContext.Run(_context, static s => ((HandedOverCallback)s!).Call(), this);

        private void Call() => callback(state);
    }

    /// <summary>A callback given to <see cref="Post"/>.</summary>
    private sealed class PostedCallback(EventLoop loop, SendOrPostCallback callback, object? state) : HandedOverCallback(callback, state)
    {
        internal override void Invoke()
        {
            try
            {
                RunCallback();
            }
            catch (Exception e)
            {
                loop.Cycle.RecordFailure(e);
            }
        }
    }

    /// <summary>A callback given to <see cref="Send"/> from another thread, with the caller waiting for it.</summary>
    private sealed class SendRequest(EventLoop loop, SendOrPostCallback callback, object? state) : HandedOverCallback(callback, state), ILoopTeardown
    {
        // Not disposed: Set may still be running on the loop thread when the waiter returns.
        private readonly ManualResetEventSlim _done = new();
        private ExceptionDispatchInfo? _error;

        public void Run()
        {
            if (!loop.Async.TryTrack(this) || !loop.TryEnqueue(this))
            {
                loop.Async.Untrack(this);
                ThrowHelper.ThrowLoopDisposed();
            }

            _done.Wait();
            _error?.Throw();
        }

        internal override void Invoke()
        {
            try
            {
                RunCallback();
            }
            catch (Exception e)
            {
                // The caller of Send gets it, not Dispatch.
                _error = ExceptionDispatchInfo.Capture(e);
            }

            loop.Async.Untrack(this);
            _done.Set();
        }

        public void OnLoopTeardown(List<Exception> errors)
        {
            _error = ExceptionDispatchInfo.Capture(new ObjectDisposedException(nameof(EventLoop), "The event loop was disposed before running the callback given to Send."));
            _done.Set();
        }
    }
}
