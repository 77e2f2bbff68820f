using System.Runtime.InteropServices;

namespace Calloop.Rx;

/// <summary>The loop's epoll, as custom sources see it (calloop's <c>Poll</c>).</summary>
/// <remarks>
/// The fd must stay open until it is unregistered. Passing a <see cref="SafeHandle"/> is not required but lets
/// the source keep the handle alive itself; the poller only records the number.
/// </remarks>
public sealed class Poller
{
    private readonly EventLoop _loop;

    internal Poller(EventLoop loop) => _loop = loop;

    /// <summary>Adds <paramref name="fd"/> to the loop's epoll with the given interest, mode and token.</summary>
    /// <exception cref="LoopException">The kernel refused (closed fd, fd already registered…).</exception>
    public void Register(int fd, Interest interest, TriggerMode mode, Token token) =>
        ThrowIfFailed("epoll_ctl(ADD)", _loop.Epoll.Add(fd, EpollEvents(interest, mode), token.Value), fd);

    /// <summary>Changes the interest, mode or token of a registered fd (and re-arms a one-shot fd).</summary>
    /// <exception cref="LoopException">The fd is not registered, or is closed.</exception>
    public void Reregister(int fd, Interest interest, TriggerMode mode, Token token) =>
        ThrowIfFailed("epoll_ctl(MOD)", _loop.Epoll.Modify(fd, EpollEvents(interest, mode), token.Value), fd);

    /// <summary>Removes <paramref name="fd"/> from the loop's epoll.</summary>
    /// <exception cref="LoopException">The fd is not registered, or is closed.</exception>
    public void Unregister(int fd) => ThrowIfFailed("epoll_ctl(DEL)", _loop.Epoll.Delete(fd), fd);

    private static void ThrowIfFailed(string operation, int errno, int fd)
    {
        if (errno != 0)
        {
            throw new LoopException(operation, errno, fd, $"custom source fd {fd}");
        }
    }

    internal static uint EpollEvents(Interest interest, TriggerMode mode)
    {
        uint events = 0;
        if ((interest & Interest.Read) != 0)
        {
            events |= Interop.Sys.EpollIn | Interop.Sys.EpollRdHup;
        }

        if ((interest & Interest.Write) != 0)
        {
            events |= Interop.Sys.EpollOut;
        }

        return mode switch
        {
            TriggerMode.Edge => events | Interop.Sys.EpollEt,
            TriggerMode.OneShot => events | Interop.Sys.EpollOneShot,
            _ => events,
        };
    }
}
