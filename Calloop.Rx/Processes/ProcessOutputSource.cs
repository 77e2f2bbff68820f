using System.Text;
using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// The standard output or standard error of a <see cref="ChildProcess"/>: the bytes the child writes, read on the
/// loop thread from the parent's non-blocking, close-on-exec end of a pipe registered with the loop's epoll. Each
/// event is one read (at most 64 KiB), in the order written; the source completes at end of file, that is once the
/// child and every process that inherited the pipe have closed it.
/// </summary>
/// <remarks>
/// <para><b>The memory is lent.</b> An event's bytes live in a buffer the source reuses for the next read, so they are
/// valid only during <c>OnNext</c>: copy them (<c>ToArray</c>) to keep them, or use <see cref="Lines"/>. That is what
/// keeps reading free of allocations.</para>
/// <para><b>Nothing is buffered without bound.</b> The source reads only while it is subscribed and enabled; while it is
/// not (nobody subscribed yet, <see cref="LoopSource{T}.Disable"/>), what the child writes stays in the kernel's pipe
/// (64 KiB by default), and once that is full the child's next write blocks until the source reads again. So a slow
/// subscriber slows the child down instead of growing memory; a child whose output nobody reads stops when the pipe
/// is full.</para>
/// <para><b>Nothing written is lost.</b> Everything the child wrote before it exited (or was killed) is still in the pipe
/// and is delivered before <c>OnCompleted</c>, which may come before or after <see cref="ChildProcess.Exited"/>
/// delivers the exit: the two are separate sources. Disposing the <see cref="ChildProcess"/>,
/// <see cref="LoopSource{T}.Remove"/> and disposing the loop close the pipe at once; what was not read by then is
/// discarded, and a child writing after that gets EPIPE or SIGPIPE.</para>
/// </remarks>
public sealed class ProcessOutputSource : LoopSource<ReadOnlyMemory<byte>>
{
    private const int ChunkSize = 64 * 1024;

    private readonly FdHandle _pipe;
    private readonly string _name;
    private byte[]? _buffer;

    internal ProcessOutputSource(EventLoop loop, FdHandle pipe, string name)
        : base(loop)
    {
        _pipe = pipe;
        _name = name;
    }

    internal override string Name => _name;

    private protected override bool OwnsResources => true;

    /// <summary>
    /// The output as text lines, decoded with <paramref name="encoding"/> (UTF-8 when null). A line ends at
    /// <c>'\n'</c>, which is not part of it, nor is a <c>'\r'</c> right before it. A line or a multi-byte character
    /// split across reads is put together first; a last line without <c>'\n'</c> is delivered when the output ends,
    /// just before <c>OnCompleted</c>. Lines arrive on the loop thread; each subscription sees the lines of the
    /// bytes read while it is subscribed (subscribe before the loop runs to see them all).
    /// </summary>
    /// <param name="encoding">How the child encodes its text; invalid bytes become U+FFFD as that encoding's decoder does.</param>
    /// <returns>A cold wrapper: each subscription subscribes to this source with its own decoder.</returns>
    public IObservable<string> Lines(Encoding? encoding = null) => new LineSplitter(this, encoding ?? Encoding.UTF8);

    private protected override void Arm()
    {
        int errno = Loop.Epoll.Add(_pipe.Fd, Sys.EpollIn, RegistrationToken.Value);
        if (errno != 0)
        {
            throw new LoopException("epoll_ctl(ADD)", errno, _pipe.Fd, Name);
        }
    }

    private protected override void Disarm() => Loop.Epoll.Delete(_pipe.Fd);

    // One read per event: level-triggered epoll reports the rest on the next dispatch, after the other sources had
    // their turn, so a child writing fast cannot starve them.
    private protected override void OnEvent(Readiness readiness, Token token)
    {
        _buffer ??= GC.AllocateUninitializedArray<byte>(ChunkSize);
        int n = FdIo.Read(_pipe, _buffer, out int errno);
        if (n > 0)
        {
            Emit(new ReadOnlyMemory<byte>(_buffer, 0, n));
        }
        else if (n == 0)
        {
            Complete();
        }
        else if (errno != Sys.EAGAIN && errno != Sys.EINTR)
        {
            Complete(new LoopException("read", errno, _pipe.Fd, Name));
        }
    }

    private protected override void ReleaseResources() => _pipe.Dispose();
}
