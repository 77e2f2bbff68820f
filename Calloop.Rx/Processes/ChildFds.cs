using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// The fds made for one child's stdin, stdout and stderr while it is started: for each piped one the parent's end
/// (taken by the loop's sources) and the child's, and /dev/null for the others that ask for it. Disposal closes
/// whatever was not taken, so a failed start leaves no fd behind.
/// </summary>
internal sealed class ChildFds : IDisposable
{
    private readonly int[] _childEnds = [-1, -1, -1];
    private readonly int[] _parentEnds = [-1, -1, -1];

    /// <exception cref="LoopException">pipe2 or open(/dev/null) failed (EMFILE, ENFILE); nothing is left open.</exception>
    public ChildFds(ProcessStartOptions options)
    {
        try
        {
            Make(0, options.StandardInput);
            Make(1, options.StandardOutput);
            Make(2, options.StandardError);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>What the child's fds 0, 1 and 2 become; -1 to inherit this process's.</summary>
    public ReadOnlySpan<int> ChildEnds => _childEnds;

    /// <summary>After the start: the child has its copies, so the parent's are closed (or the parent would never read end of file).</summary>
    public void CloseChildEnds()
    {
        for (int i = 0; i < _childEnds.Length; i++)
        {
            if (_childEnds[i] >= 0)
            {
                Sys.Close(_childEnds[i]);
                _childEnds[i] = -1;
            }
        }
    }

    /// <summary>The parent's end of standard fd <paramref name="target"/>'s pipe, now owned by the caller; null when it is not piped.</summary>
    public FdHandle? TakeParentEnd(int target)
    {
        int fd = _parentEnds[target];
        _parentEnds[target] = -1;
        return fd < 0 ? null : new FdHandle(fd);
    }

    public void Dispose()
    {
        CloseChildEnds();
        for (int i = 0; i < _parentEnds.Length; i++)
        {
            if (_parentEnds[i] >= 0)
            {
                Sys.Close(_parentEnds[i]);
                _parentEnds[i] = -1;
            }
        }
    }

    private void Make(int target, ProcessStdio stdio)
    {
        int errno = stdio switch
        {
            ProcessStdio.Pipe => ProcessSpawn.CreatePipe(parentReads: target != 0, out _parentEnds[target], out _childEnds[target]),
            ProcessStdio.Null => ProcessSpawn.OpenNull(out _childEnds[target]),
            ProcessStdio.Inherit => 0,
            _ => throw new ArgumentOutOfRangeException(nameof(stdio), stdio, "Not a ProcessStdio value."),
        };
        if (errno != 0)
        {
            throw new LoopException(stdio == ProcessStdio.Pipe ? "pipe2" : "open(/dev/null)", errno);
        }
    }
}
