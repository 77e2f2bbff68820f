namespace Calloop.Rx;

/// <summary>Which readiness an <see cref="EventLoop.Fd(int, Interest, TriggerMode)"/> source asks the kernel to report.</summary>
[Flags]
public enum Interest
{
    /// <summary>Nothing; error and hang-up are still reported (the kernel always reports them).</summary>
    None = 0,

    /// <summary>Readable (EPOLLIN).</summary>
    Read = 1,

    /// <summary>Writable (EPOLLOUT).</summary>
    Write = 2,

    /// <summary>Readable or writable.</summary>
    Both = Read | Write,
}
