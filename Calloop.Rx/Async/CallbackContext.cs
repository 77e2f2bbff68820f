
namespace Calloop.Rx.Async;

/// <summary>
/// The <see cref="ExecutionContext"/> a callback handed to the loop (a <see cref="LoopTimer"/>, a <c>Post</c> or
/// <c>Send</c> to <see cref="LoopSynchronizationContext"/>) runs in, with the thread pool's semantics: the context
/// captured when the callback was handed over, or the default (empty) one when the caller suppressed its flow. The
/// callback runs through <see cref="ExecutionContext.Run"/>, so the loop thread's <c>AsyncLocal</c> values neither
/// leak into it nor are changed by it.
/// </summary>
internal static class CallbackContext
{
    /// <summary>The context to run a callback handed over now in; never null, and allocates nothing.</summary>
    internal static ExecutionContext Capture() => ExecutionContext.Capture() ?? DefaultContext.Instance;

    /// <summary>Holds the default context, which the BCL does not expose: made on first use only.</summary>
    private static class DefaultContext
    {
        internal static readonly ExecutionContext Instance = CaptureOnFreshThread();

        private static ExecutionContext CaptureOnFreshThread()
        {
            ExecutionContext? context = null;

            // UnsafeStart flows nothing: the thread starts without a context, which Capture reports as the default one.
            var thread = new Thread(() => context = ExecutionContext.Capture()) { IsBackground = true, Name = "Calloop.Rx default ExecutionContext" };
            thread.UnsafeStart();
            thread.Join();
            return context ?? throw new InvalidOperationException("A fresh thread reported no ExecutionContext.");
        }
    }
}
