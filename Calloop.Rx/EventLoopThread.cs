namespace Calloop.Rx;

/// <summary>
/// An <see cref="EventLoop"/> that runs on a dedicated thread of its own, with a handle to stop it, wait for its end
/// and observe the exception that ended it. Every event of <see cref="Loop"/> is delivered on that thread; sources
/// may be created, subscribed to and unsubscribed from on any thread (for example a UI thread) while it runs.
/// </summary>
/// <remarks>
/// <para>The thread owns the loop: when it ends, however it ends, it disposes <see cref="Loop"/> on its way out, so
/// live subscribers get <c>OnCompleted</c> on the loop thread, senders report <see cref="SendResult.Closed"/> and
/// every fd the loop opened is closed before <see cref="Completion"/> completes.</para>
/// <para>The thread is a background thread: a loop nobody stops does not keep the process alive. Stop or dispose
/// it to end it cleanly.</para>
/// <para>An exception that comes out of a dispatch (an observer or a scheduled action that threw) ends the thread;
/// <see cref="Completion"/> then faults with it.</para>
/// <para>Prefer <see cref="Stop"/> to <c>Loop.Stop()</c>: the latter, like <see cref="EventLoop.Stop"/> anywhere, is
/// forgotten when it comes before the thread has begun to run the loop. Disposing <see cref="Loop"/> directly from
/// another thread also ends the thread, but may run the subscribers' <c>OnCompleted</c> on the disposing thread
/// (see <see cref="EventLoop.Dispose"/>); <see cref="Dispose"/> keeps them on the loop thread.</para>
/// </remarks>
public sealed class EventLoopThread : IDisposable, IAsyncDisposable
{
    /// <summary>The thread name <see cref="Start(string)"/> uses when none is given.</summary>
    public const string DefaultName = "Calloop.Rx loop";

    private readonly Thread _thread;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<EventLoop> _afterDispatch;
    private volatile bool _stopRequested;

    private EventLoopThread(string name)
    {
        Loop = new EventLoop();
        _afterDispatch = StopIfRequested;
        _thread = new Thread(RunThread) { Name = name, IsBackground = true };
    }

    /// <summary>The loop the thread runs. Its events are delivered on the thread; see <see cref="EventLoop"/> for what may be called from other threads.</summary>
    public EventLoop Loop { get; }

    /// <summary>The thread's name.</summary>
    public string Name => _thread.Name!;

    /// <summary>Whether the calling thread is this loop's thread.</summary>
    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    /// <summary>
    /// Completes once the thread has run its last callback and disposed <see cref="Loop"/> (every fd closed).
    /// Completes successfully after <see cref="Stop"/>, <see cref="Dispose"/> or a <c>Stop</c>/<c>Dispose</c> of
    /// <see cref="Loop"/> itself; faults with the exception that ended the run, followed by any that observers
    /// threw while the loop was disposed. Its continuations never run on the loop thread.
    /// </summary>
    public Task Completion => _completion.Task;

    /// <summary>Creates a loop on the real clock and starts running it on a new background thread named <paramref name="name"/>.</summary>
    /// <param name="name">The thread's name, as debuggers and <see cref="Thread.Name"/> show it.</param>
    /// <returns>The running thread's handle; dispose it to stop the loop and close its fds.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="LoopException">epoll or the loop's own fds could not be created.</exception>
    /// <exception cref="PlatformNotSupportedException">The operating system is not Linux.</exception>
    public static EventLoopThread Start(string name = DefaultName)
    {
        ArgumentNullException.ThrowIfNull(name);
        var loopThread = new EventLoopThread(name);
        try
        {
            loopThread._thread.Start();
        }
        catch
        {
            loopThread.Loop.Dispose();
            throw;
        }

        return loopThread;
    }

    /// <summary>
    /// Asks the loop to return after the dispatch in progress (or before its first one); the thread then disposes
    /// the loop and ends. Returns at once without waiting: await <see cref="Completion"/> or call
    /// <see cref="Join(TimeSpan)"/> for the end. Callable from any thread, the loop thread included; idempotent.
    /// </summary>
    public void Stop()
    {
        _stopRequested = true;
        Loop.Stop();
    }

    /// <summary>Waits at most <paramref name="timeout"/> for the thread to end.</summary>
    /// <returns>Whether the thread has ended (then <see cref="Completion"/> has completed too).</returns>
    /// <exception cref="InvalidOperationException">Called on the loop thread, which would wait for itself.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public bool Join(TimeSpan timeout)
    {
        ThrowIfCurrentThread();
        return _thread.Join(timeout);
    }

    /// <summary>
    /// Stops the loop and, from any other thread, waits for the thread to dispose it and end: once this returns,
    /// every fd of the loop is closed. Called on the loop thread (inside a callback) it only stops, and the thread
    /// disposes the loop when that dispatch returns. Never throws the exception that ended the thread (see
    /// <see cref="Completion"/>); idempotent.
    /// </summary>
    public void Dispose()
    {
        Stop();
        if (!IsCurrentThread)
        {
            _thread.Join();
        }
    }

    /// <summary>
    /// Stops the loop and, from any other thread, completes once the thread has disposed it and ended. Called on
    /// the loop thread it only stops (see <see cref="Dispose"/>). Never throws the exception that ended the thread.
    /// </summary>
    /// <returns>A task that completes when the thread has ended, or at once on the loop thread.</returns>
    public async ValueTask DisposeAsync()
    {
        Stop();
        if (!IsCurrentThread)
        {
            await Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private void ThrowIfCurrentThread()
    {
        if (IsCurrentThread)
        {
            throw new InvalidOperationException("The loop thread cannot wait for its own end; call Stop and return from the callback.");
        }
    }

    // EventLoop.Run forgets a Stop that comes before it starts, so the thread checks its own flag before running and
    // after every dispatch; the Loop.Stop in Stop also wakes the dispatch that would otherwise wait.
    private void StopIfRequested(EventLoop loop)
    {
        if (_stopRequested)
        {
            loop.Stop();
        }
    }

    private void RunThread()
    {
        List<Exception> failures = [];
        try
        {
            if (!_stopRequested && !Loop.IsDisposed)
            {
                Loop.Run(afterDispatch: _afterDispatch);
            }
        }
        catch (ObjectDisposedException) when (Loop.IsDisposed)
        {
            // Loop.Dispose from another thread won the race with Run's start: an orderly end.
        }
        catch (Exception e)
        {
            failures.Add(e);
        }

        try
        {
            Loop.Dispose();
        }
        catch (Exception e)
        {
            failures.AddRange(e is AggregateException all ? all.InnerExceptions : [e]);
        }

        if (failures.Count == 0)
        {
            _completion.TrySetResult();
        }
        else
        {
            _completion.TrySetException(failures);
        }
    }
}
