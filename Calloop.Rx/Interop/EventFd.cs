namespace Calloop.Rx.Interop;

/// <summary>
/// The loop's waker: an eventfd that other threads write when the loop is blocked in epoll. Writes and reads hold a
/// reference on the handle, so a thread racing the loop's disposal gets "closed" rather than writing to a reused fd number.
/// </summary>
internal sealed class EventFd : IDisposable
{
    private readonly FdHandle _handle;

    public EventFd(string owner)
    {
        int fd = Sys.EventFd();
        if (fd < 0)
        {
            throw new LoopException("eventfd", Sys.Errno, -1, owner);
        }

        _handle = new FdHandle(fd);
    }

    public int Fd => _handle.Fd;

    /// <summary>Adds to the counter. Returns false once the fd is closed. A full counter (EAGAIN) still counts as signalled.</summary>
    public bool Write(ulong value)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            int errno = Sys.EventFdWrite(_handle.Fd, value);
            return errno == 0 || errno == Sys.EAGAIN;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>Reads and resets the counter; 0 when nothing was pending or the fd is closed.</summary>
    public ulong Read()
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            return Sys.EventFdRead(_handle.Fd, out _);
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    public void Dispose() => _handle.Dispose();
}
