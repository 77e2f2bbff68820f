using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// A child process started by <see cref="EventLoop.StartProcess(ProcessStartOptions)"/>: its exit, its standard
/// fds as loop sources and a sender, and the means to signal it. Thread-safe.
/// </summary>
/// <remarks>
/// <para><b>Reaping.</b> The loop reaps every child it starts itself (waitid on the pidfd), so none stays a zombie:
/// when <see cref="Exited"/> delivers the exit; or, if nobody subscribed to it, when this handle is disposed (the
/// loop reaps the child once it has exited) or the loop is. Nothing else in the process is disturbed: no SIGCHLD
/// handler is installed, and <see cref="System.Diagnostics.Process"/>'s own children are left to the runtime.</para>
/// <para><b>Outcomes.</b> <see cref="Kill"/> signals the child; its output written before the signal is still
/// delivered in full, then the output sources complete and <see cref="Exited"/> reports the signal. Disposing this
/// handle first kills with SIGKILL a child that has not exited, then closes the three pipes at once (unread output
/// is discarded, unsent input dropped); <see cref="Exited"/> still delivers that exit to its subscribers, on the
/// loop thread. Disposing the loop ends every source of the child (<c>OnCompleted</c>), closes its pipes, and kills and
/// reaps a child still running before <see cref="EventLoop.Dispose"/> returns (waiting only for the kernel to
/// end a SIGKILLed process). In every case every fd is closed.</para>
/// </remarks>
public sealed class ChildProcess : IDisposable
{
    private readonly ProcessInputPump? _input;
    private readonly ProcessOutputSource? _output;
    private readonly ProcessOutputSource? _error;
    private int _disposed;

    internal ChildProcess(ProcessExitSource exited, ProcessInputPump? input, ProcessOutputSource? output, ProcessOutputSource? error)
    {
        Exited = exited;
        _input = input;
        _output = output;
        _error = error;
    }

    /// <summary>The child's process id.</summary>
    public int Pid => Exited.Pid;

    /// <summary>
    /// The child's exit: one <see cref="ProcessExit"/> with its exit code or the signal that ended it (always known,
    /// since the loop reaps the child itself), then <c>OnCompleted</c>, on the loop thread. A subscriber that comes
    /// after the exit was delivered gets only <c>OnCompleted</c>. <see cref="LoopSource{T}.Remove"/> on it kills and
    /// reaps a child still running, as loop disposal does.
    /// </summary>
    public ProcessExitSource Exited { get; }

    /// <summary>
    /// The child's stdin, as a bounded sender of byte chunks (<see cref="ProcessStartOptions.InputCapacity"/>
    /// chunks on top of the pipe's 64 KiB): <see cref="BoundedSender{T}.TrySend"/> reports
    /// <see cref="SendResult.Full"/>, <see cref="BoundedSender{T}.SendAsync"/> waits and <see cref="BoundedSender{T}.Send"/>
    /// blocks while the child does not read. Chunks are written in order, on the loop thread. Dispose the sender
    /// to close the pipe once everything sent was written: the child then reads end of file.
    /// </summary>
    /// <remarks>
    /// A chunk is written from its memory later, on the loop thread, without a copy: do not change that memory after
    /// sending it. If the child closes its stdin or exits, the rest is dropped and sends report
    /// <see cref="SendResult.Closed"/> (or throw <see cref="System.Threading.Channels.ChannelClosedException"/>).
    /// </remarks>
    /// <exception cref="InvalidOperationException">The child's stdin is not <see cref="ProcessStdio.Pipe"/>.</exception>
    public BoundedSender<ReadOnlyMemory<byte>> StandardInput => (_input ?? throw NotPiped("StandardInput")).Sender;

    /// <summary>The child's stdout; see <see cref="ProcessOutputSource"/>.</summary>
    /// <exception cref="InvalidOperationException">The child's stdout is not <see cref="ProcessStdio.Pipe"/>.</exception>
    public ProcessOutputSource StandardOutput => _output ?? throw NotPiped("StandardOutput");

    /// <summary>The child's stderr; see <see cref="ProcessOutputSource"/>.</summary>
    /// <exception cref="InvalidOperationException">The child's stderr is not <see cref="ProcessStdio.Pipe"/>.</exception>
    public ProcessOutputSource StandardError => _error ?? throw NotPiped("StandardError");

    /// <summary>
    /// Sends <paramref name="signal"/> (SIGKILL, 9, by default) to the child, through its pidfd: it can only reach
    /// this child, never a process that took its number later. Callable from any thread.
    /// </summary>
    /// <returns>True if sent; false once the child has been reaped (it has exited and that is, or will be, delivered).</returns>
    /// <exception cref="LoopException">pidfd_send_signal refused, for example EINVAL for a signal number that does not exist.</exception>
    public bool Kill(int signal = 9) => Exited.TrySignal(signal);

    /// <summary>
    /// Closes the child's pipes and, if it has not exited, kills it with SIGKILL; the loop reaps it (see the remarks
    /// on <see cref="ChildProcess"/>). Idempotent; callable from any thread, without waiting for the loop.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Killed before its pipes close, so a child still running ends by SIGKILL, not by the end of its input or
        // a SIGPIPE on its output, whichever happened to come first.
        bool running = Exited.TrySignal(ProcessSpawn.SIGKILL);
        _input?.Close();
        _output?.Remove();
        _error?.Remove();
        if (running)
        {
            try
            {
                // Keeps the exit armed whether or not anyone else subscribed, so the loop reaps the child.
                Exited.Subscribe(static _ => { }, static _ => { });
            }
            catch (ObjectDisposedException)
            {
                // The loop is disposed: its disposal killed and reaped the child.
            }
        }
    }

    private static InvalidOperationException NotPiped(string name) =>
        new($"The child's {name} is not a pipe: set ProcessStartOptions.{name} to ProcessStdio.Pipe to use it.");
}
