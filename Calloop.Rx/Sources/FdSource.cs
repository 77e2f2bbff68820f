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
/// In <see cref="TriggerMode.Edge"/> mode drain until the call would block; in <see cref="TriggerMode.OneShot"/> mode call
/// <see cref="LoopSource{T}.Update"/> to re-arm. A <see cref="SafeHandle"/> (or <c>Socket</c>) may be disposed while
/// registered, even from the source's own callback: the kernel drops a closed fd from epoll, so reports simply stop,
/// and unregistering later does nothing. A raw fd must stay open until the source is unregistered.
/// </remarks>
public sealed class FdSource : LoopSource<Readiness>
{
    private readonly SafeHandle? _handle;

    internal FdSource(EventLoop loop, int fd, SafeHandle? handle, Interest interest, TriggerMode mode)
        : base(loop)
    {
        Fd = fd;
        _handle = handle;
        Interest = interest;
        Mode = mode;
    }

    internal override string Name => $"Fd {Fd}";

    /// <summary>The fd being watched.</summary>
    public int Fd { get; }

    /// <summary>What to watch for. A change takes effect on <see cref="LoopSource{T}.Update"/>.</summary>
    public Interest Interest { get; set; }

    /// <summary>How readiness is reported. A change takes effect on <see cref="LoopSource{T}.Update"/>.</summary>
    public TriggerMode Mode { get; set; }

    private uint EpollEvents => Poller.EpollEvents(Interest, Mode);

    private protected override void Arm()
    {
        Control(Operation.Add);
        Loop.Sources.ClaimFdLocked(Fd, RegistrationToken);
    }

    // A fd closed while registered already left epoll, and its number may now belong to another source's fd: only
    // the registration that still owns the number deletes it.
    private protected override void Disarm()
    {
        if (Loop.Sources.ReleaseFdLocked(Fd, RegistrationToken))
        {
            Control(Operation.Delete);
        }
    }

    private protected override void Rearm()
    {
        if (!Loop.Sources.OwnsFdLocked(Fd, RegistrationToken))
        {
            // Another source's fd took the number, so this one was closed: what Modify would report without the reuse.
            throw new LoopException("epoll_ctl(MOD)", Sys.EBADF, Fd, Name);
        }

        Control(Operation.Modify);
    }

    private protected override void OnEvent(Readiness readiness, Token token) => Emit(readiness);

    /// <summary>
    /// Runs an epoll_ctl on the fd while holding a reference on its <see cref="SafeHandle"/>, so the fd cannot be
    /// closed (and its number reused) in the middle; a closed handle counts as EBADF. The reference is not kept
    /// between calls: holding it for the whole registration would make <c>Socket.Dispose</c> spin until the source
    /// is unregistered, forever if it is called from the source's own callback. Add and Modify throw on failure;
    /// Delete (an unregistration, which must not throw) ignores it.
    /// </summary>
    private void Control(Operation operation)
    {
        int errno = Sys.EBADF;
        bool added = false;
        try
        {
            _handle?.DangerousAddRef(ref added);
            errno = operation switch
            {
                Operation.Add => Loop.Epoll.Add(Fd, EpollEvents, RegistrationToken.Value),
                Operation.Modify => Loop.Epoll.Modify(Fd, EpollEvents, RegistrationToken.Value),
                _ => Loop.Epoll.Delete(Fd),
            };
        }
        catch (ObjectDisposedException)
        {
            // The handle was closed: nothing to do for Delete, EBADF for the others.
        }
        finally
        {
            if (added)
            {
                _handle!.DangerousRelease();
            }
        }

        if (errno != 0 && operation != Operation.Delete)
        {
            throw new LoopException(operation == Operation.Add ? "epoll_ctl(ADD)" : "epoll_ctl(MOD)", errno, Fd, Name);
        }
    }

    private enum Operation
    {
        Add,
        Modify,
        Delete,
    }
}
