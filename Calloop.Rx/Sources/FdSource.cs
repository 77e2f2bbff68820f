using System.Runtime.InteropServices;
using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// Readiness of one fd (calloop's <c>Generic</c>): each event is what the kernel reported — readable, writable,
/// error, hang-up. Error and hang-up are data; the source only fails (<c>OnError</c>) when the kernel refuses
/// to re-arm it.
/// </summary>
/// <remarks>
/// The source never reads or writes the fd: observers do, on the loop thread, with non-blocking calls.
/// In <see cref="Rx.Mode.Edge"/> mode drain until the call would block; in <see cref="Rx.Mode.OneShot"/> mode call
/// <see cref="LoopSource{T}.Update"/> to re-arm. A <see cref="SafeHandle"/> is kept alive (add-ref'd) while registered.
/// </remarks>
public sealed class FdSource : LoopSource<Readiness>
{
    private readonly SafeHandle? _handle;
    private bool _handleAdded;

    internal FdSource(EventLoop loop, int fd, SafeHandle? handle, Interest interest, Mode mode)
        : base(loop, $"Fd {fd}")
    {
        Fd = fd;
        _handle = handle;
        Interest = interest;
        Mode = mode;
    }

    /// <summary>The fd being watched.</summary>
    public int Fd { get; }

    /// <summary>What to watch for. A change takes effect on <see cref="LoopSource{T}.Update"/>.</summary>
    public Interest Interest { get; set; }

    /// <summary>How readiness is reported. A change takes effect on <see cref="LoopSource{T}.Update"/>.</summary>
    public Mode Mode { get; set; }

    private uint EpollEvents => Poller.EpollEvents(Interest, Mode);

    private protected override void Arm()
    {
        if (_handle is not null && !_handleAdded)
        {
            try
            {
                _handle.DangerousAddRef(ref _handleAdded);
            }
            catch (ObjectDisposedException)
            {
                throw new LoopException("epoll_ctl(ADD)", Sys.EBADF, Fd, Name);
            }
        }

        try
        {
            Loop.Epoll.Add(Fd, EpollEvents, RegistrationToken.Value, Name);
        }
        catch
        {
            ReleaseHandle();
            throw;
        }
    }

    private protected override void Disarm()
    {
        Loop.Epoll.Delete(Fd);
        ReleaseHandle();
    }

    private protected override void Rearm() => Loop.Epoll.Modify(Fd, EpollEvents, RegistrationToken.Value, Name);

    private protected override void OnEvent(Readiness readiness, Token token) => Emit(readiness);

    private void ReleaseHandle()
    {
        if (_handleAdded)
        {
            _handleAdded = false;
            _handle!.DangerousRelease();
        }
    }
}
