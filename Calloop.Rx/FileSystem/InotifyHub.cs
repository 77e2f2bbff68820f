using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// The loop's one inotify fd, shared by every <see cref="FileWatchSource"/>: registered with the loop's epoll as an
/// ordinary <see cref="FdSource"/>, it reads the kernel's records on the loop thread and hands each to the sources
/// holding its watch descriptor. Made on the first watch; its fd is closed when the loop is disposed.
/// </summary>
/// <remarks>
/// Watch descriptors are per inode: two sources watching the same directory share one, so each descriptor keeps the
/// list of its sources and is removed from the kernel only when the last lets go. Everything here is guarded by the
/// loop's gate; the loop thread takes it once per read, not per record.
/// </remarks>
internal sealed class InotifyHub : IObserver<Readiness>
{
    /// <summary>Reads per readiness event, so that a storm made by other processes cannot hold the loop thread.</summary>
    private const int MaxReadsPerEvent = 16;

    private const uint WatchMask = Inotify.Create | Inotify.Modify | Inotify.Attrib | Inotify.Delete | Inotify.MovedFrom
        | Inotify.MovedTo | Inotify.DeleteSelf | Inotify.ExclUnlink;

    private readonly EventLoop _loop;
    private readonly Inotify _inotify;
    private readonly byte[] _buffer = new byte[Inotify.BufferSize];

    // Replaced, never mutated, so routing may add and remove watches while it walks a snapshot.
    private readonly Dictionary<int, FileWatchSource[]> _watchers = [];
    private InotifyRecord? _movedFrom;
    private bool _closed;

    private InotifyHub(EventLoop loop)
    {
        _loop = loop;
        _inotify = new Inotify("Watch");
        try
        {
            loop.Fd(_inotify.Handle, Interest.Read).Subscribe(this);
        }
        catch
        {
            _inotify.Dispose();
            throw;
        }
    }

    /// <summary>The inotify fd (for diagnostics: <c>/proc/self/fdinfo</c> lists its watches).</summary>
    internal int Fd => _inotify.Handle.Fd;

    /// <summary>Whether the fd is closed (the loop was disposed, or epoll failed it). Caller holds the gate.</summary>
    internal bool IsClosed => _closed;

    /// <summary>Makes the hub and registers its fd. Caller holds the gate.</summary>
    /// <exception cref="LoopException">inotify_init1 failed (EMFILE: the per-user instance limit), or epoll refused the fd.</exception>
    internal static InotifyHub Create(EventLoop loop) => new(loop);

    /// <summary>
    /// Adds (or shares) the kernel watch on <paramref name="path"/> for <paramref name="source"/>. Caller holds the gate.
    /// </summary>
    /// <returns>The watch descriptor, or -1 with <paramref name="errno"/>.</returns>
    internal int AddWatch(FileWatchSource source, string path, bool followLinks, out int errno)
    {
        if (_closed)
        {
            errno = Sys.EBADF;
            return -1;
        }

        int wd = _inotify.AddWatch(path, followLinks ? WatchMask : WatchMask | Inotify.DontFollow, out errno);
        if (wd < 0)
        {
            return -1;
        }

        if (!_watchers.TryGetValue(wd, out FileWatchSource[]? sources))
        {
            _watchers[wd] = [source];
        }
        else if (Array.IndexOf(sources, source) < 0)
        {
            _watchers[wd] = [.. sources, source];
        }

        return wd;
    }

    /// <summary>Lets go of <paramref name="wd"/> for <paramref name="source"/>; the last one out removes the kernel watch. Caller holds the gate.</summary>
    internal void RemoveWatch(FileWatchSource source, int wd)
    {
        if (!_watchers.TryGetValue(wd, out FileWatchSource[]? sources) || Array.IndexOf(sources, source) < 0)
        {
            return;
        }

        if (sources.Length > 1)
        {
            _watchers[wd] = Array.FindAll(sources, other => other != source);
            return;
        }

        _watchers.Remove(wd);
        _inotify.RemoveWatch(wd);
    }

    /// <summary>The fd is readable (loop thread): reads and routes records until the kernel's queue is empty, or for a bounded number of reads.</summary>
    public void OnNext(Readiness value)
    {
        lock (_loop.Gate)
        {
            for (int reads = 0; reads < MaxReadsPerEvent || _movedFrom is not null; reads++)
            {
                int n = _inotify.Read(_buffer, out int errno);
                if (n <= 0)
                {
                    if (n < 0 && errno == Sys.EINTR)
                    {
                        continue;
                    }

                    // Empty: a rename's first half with nothing after it went out of every watch.
                    FlushMovedFrom();
                    if (n < 0 && errno != Sys.EAGAIN)
                    {
                        throw new LoopException("read", errno, _inotify.Handle.Fd, "Watch");
                    }

                    return;
                }

                int offset = 0;
                while (Inotify.TryParse(_buffer.AsSpan(0, n), ref offset, out InotifyRecord record))
                {
                    Route(record);
                }
            }
        }
    }

    /// <summary>Epoll refused the fd, or it failed: no watch can report any more.</summary>
    public void OnError(Exception error)
    {
        lock (_loop.Gate)
        {
            foreach (FileWatchSource source in AllSources())
            {
                source.FailLocked(error);
            }

            Close();
        }
    }

    /// <summary>The loop is being disposed (its sources have been ended): closes the fd.</summary>
    public void OnCompleted()
    {
        lock (_loop.Gate)
        {
            Close();
        }
    }

    private void Close()
    {
        _closed = true;
        _watchers.Clear();
        _inotify.Dispose();
    }

    private void Route(in InotifyRecord record)
    {
        if ((record.Mask & Inotify.QueueOverflow) != 0)
        {
            FlushMovedFrom();
            foreach (FileWatchSource source in AllSources())
            {
                source.OnOverflowLocked();
            }

            return;
        }

        if ((record.Mask & Inotify.MovedFrom) != 0)
        {
            FlushMovedFrom();
            _movedFrom = record;
            return;
        }

        if ((record.Mask & Inotify.MovedTo) != 0 && _movedFrom is { } from && from.Cookie == record.Cookie)
        {
            _movedFrom = null;
            RouteMove(from, record);
            return;
        }

        FlushMovedFrom();
        if ((record.Mask & Inotify.MovedTo) != 0)
        {
            // A rename's second half alone: the entry came from outside every watch.
            RouteMove(null, record);
            return;
        }

        if (_watchers.TryGetValue(record.Wd, out FileWatchSource[]? sources))
        {
            foreach (FileWatchSource source in sources)
            {
                source.OnRecordLocked(record);
            }

            if ((record.Mask & Inotify.Ignored) != 0)
            {
                // The kernel dropped the watch; its number may be given out again.
                _watchers.Remove(record.Wd);
            }
        }
    }

    /// <summary>A rename (both halves, or only the second): each source sees a move within, out of, or into its watch.</summary>
    private void RouteMove(InotifyRecord? from, InotifyRecord to)
    {
        FileWatchSource[] fromSources = from is { } f ? _watchers.GetValueOrDefault(f.Wd, []) : [];
        FileWatchSource[] toSources = _watchers.GetValueOrDefault(to.Wd, []);
        foreach (FileWatchSource source in fromSources)
        {
            source.OnMoveLocked(from, Array.IndexOf(toSources, source) >= 0 ? to : null);
        }

        foreach (FileWatchSource source in toSources)
        {
            if (Array.IndexOf(fromSources, source) < 0)
            {
                source.OnMoveLocked(null, to);
            }
        }
    }

    /// <summary>A rename's first half whose second never came is a move out of every watch.</summary>
    private void FlushMovedFrom()
    {
        if (_movedFrom is { } from)
        {
            _movedFrom = null;
            foreach (FileWatchSource source in _watchers.GetValueOrDefault(from.Wd, []))
            {
                source.OnMoveLocked(from, null);
            }
        }
    }

    private HashSet<FileWatchSource> AllSources() => [.. _watchers.Values.SelectMany(sources => sources)];
}
