using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>Two connected fds a test owns (a pipe or a socket pair); disposing closes whichever are still open.</summary>
public sealed class FdPair : IDisposable
{
    private FdPair(int first, int second)
    {
        First = first;
        Second = second;
    }

    /// <summary>The write end of a pipe, or one end of a socket pair.</summary>
    public int First { get; private set; }

    /// <summary>The read end of a pipe, or the other end of a socket pair.</summary>
    public int Second { get; private set; }

    /// <summary>A non-blocking pipe: <see cref="First"/> writes, <see cref="Second"/> reads.</summary>
    public static FdPair Pipe()
    {
        var (read, write) = TestSys.Pipe();
        return new FdPair(write, read);
    }

    /// <summary>A non-blocking unix stream socket pair.</summary>
    public static FdPair SocketPair()
    {
        var (a, b) = TestSys.SocketPair();
        return new FdPair(a, b);
    }

    /// <summary>Closes <see cref="First"/> now (the peer then sees a hang-up or an error).</summary>
    public void CloseFirst()
    {
        if (First >= 0)
        {
            TestSys.Close(First);
            First = -1;
        }
    }

    /// <summary>Closes <see cref="Second"/> now.</summary>
    public void CloseSecond()
    {
        if (Second >= 0)
        {
            TestSys.Close(Second);
            Second = -1;
        }
    }

    /// <summary>Hands <see cref="Second"/> over to another owner (for example a SafeHandle); it is no longer closed here.</summary>
    public int ReleaseSecond()
    {
        int fd = Second;
        Second = -1;
        return fd;
    }

    /// <summary>Writes one byte to <see cref="First"/>.</summary>
    public void Poke()
    {
        Assert.Equal(1, TestSys.Write(First, [1]));
    }

    public void Dispose()
    {
        CloseFirst();
        CloseSecond();
    }
}
