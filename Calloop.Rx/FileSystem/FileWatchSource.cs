using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// Changes to a file or directory, over the loop's one shared inotify fd (like GLib's <c>GFileMonitor</c> or
/// sd-event's <c>sd_event_add_inotify</c>). Made by <see cref="EventLoop.Watch"/>; the kernel watch is added when the
/// first observer subscribes and removed (<c>inotify_rm_watch</c>) when the last one goes or the source ends.
/// </summary>
/// <remarks>
/// <para>Events arrive on the loop thread in the kernel's order: the dispatch that reads them from the inotify fd
/// queues them, and they are delivered from the next one (which does not wait). A rename within the watch is one
/// <see cref="FileSystemEventKind.Moved"/> event; out of it, <see cref="FileSystemEventKind.MovedAway"/>; into it,
/// <see cref="FileSystemEventKind.MovedIn"/>. A rename made by another process at the very moment the loop reads may
/// have its halves read apart, and is then reported as those two. The kernel itself merges a change identical to the
/// one before it while neither was read, so n quick writes to one file may be one event.</para>
/// <para>Nothing is lost silently: when the kernel's queue overflows every watch of the loop gets an
/// <see cref="FileSystemEventKind.Overflow"/> event. While disabled, events are kept and delivered after
/// <see cref="LoopSource{T}.Enable"/>. When the watched path itself goes away the source delivers
/// <see cref="FileSystemEventKind.WatchRemoved"/>, then <c>OnCompleted</c>.</para>
/// <para>Errors: a watch the kernel refuses when the source is subscribed (no such path, no permission, ENOSPC when the
/// per-user watch limit <c>fs.inotify.max_user_watches</c> is reached) reaches the observer as <c>OnError</c> with a
/// <see cref="LoopException"/> naming the path; the loop goes on and a later subscription tries again. A recursive
/// watch skips sub-directories that vanish or cannot be read; one it cannot add for another reason later (ENOSPC)
/// ends the source with <c>OnError</c>, after the events before it.</para>
/// </remarks>
public sealed class FileWatchSource : LoopSource<FileSystemEvent>
{
    private readonly Notifier _notifier;

    // Guarded by the gate: the kernel watches (descriptor to directory path) and what was read for delivery.
    private readonly Dictionary<int, string> _watches = [];
    private readonly Dictionary<string, Coalesced> _coalesced = new(StringComparer.Ordinal);
    private Queue<FileSystemEvent> _incoming = new();

    // Counts unregistrations, so that the loop thread drops what it took for delivery before one (it owns that queue,
    // which another thread's unsubscription therefore cannot empty).
    private int _generation;
    private Exception? _endError;
    private bool _ending;
    private int _rootWd = -1;
    private bool _rootIsDirectory;

    // Loop thread only: what the current delivery takes from.
    private Queue<FileSystemEvent> _delivering = new();
    private int _deliveringGeneration;

    internal FileWatchSource(EventLoop loop, string path, FileWatchOptions options)
        : base(loop)
    {
        Path = path;
        Options = options;
        _notifier = new Notifier(loop, this);
    }

    /// <summary>The watched path, made absolute.</summary>
    public string Path { get; }

    /// <summary>How the path is watched.</summary>
    public FileWatchOptions Options { get; }

    internal override string Name => $"Watch {Path}";

    private protected override bool UsesToken => false;

    private InotifyHub Hub => Loop.InotifyLocked;

    private protected override void Arm()
    {
        if (_rootWd < 0)
        {
            AddRoot();
        }

        _notifier.ArmLocked();
    }

    // While disabled the kernel watches stay and events are kept for Enable; they go when the source is unregistered.
    private protected override void Disarm() => _notifier.DisarmLocked();

    private protected override void OnDeactivated() => Reset();

    private protected override void ReleaseResources()
    {
        Reset();
        _notifier.Close();
    }

    private protected override void OnEvent(Readiness readiness, Token token)
    {
        while (true)
        {
            if (_deliveringGeneration != Volatile.Read(ref _generation))
            {
                _delivering.Clear();
            }

            if (_delivering.Count == 0)
            {
                lock (Loop.Gate)
                {
                    (_incoming, _delivering) = (_delivering, _incoming);
                    _deliveringGeneration = _generation;
                }
            }

            if (_delivering.Count == 0)
            {
                break;
            }

            if (BatchInterrupted)
            {
                // The rest stays queued and comes with the next dispatch.
                _notifier.Signal();
                return;
            }

            Emit(_delivering.Dequeue());
        }

        bool ending;
        lock (Loop.Gate)
        {
            ending = _ending && _incoming.Count == 0;
        }

        if (ending)
        {
            Complete(_endError);
        }
    }

    /// <summary>A record for one of this source's watches (loop thread, gate held).</summary>
    internal void OnRecordLocked(in InotifyRecord record)
    {
        if (_ending || !_watches.TryGetValue(record.Wd, out string? directory))
        {
            return;
        }

        bool isDirectory = (record.Mask & Inotify.IsDir) != 0;
        string path = record.Name.Length == 0 ? directory : System.IO.Path.Join(directory, record.Name);
        uint mask = record.Mask;
        if ((mask & Inotify.Ignored) != 0)
        {
            _watches.Remove(record.Wd);
            if (record.Wd == _rootWd)
            {
                _rootWd = -1;
                FlushCoalesced(Path);
                Post(new FileSystemEvent(FileSystemEventKind.WatchRemoved, Path, null, 1, _rootIsDirectory));
                End(null);
            }

            return;
        }

        if ((mask & Inotify.Modify) != 0)
        {
            Modified(path, isDirectory);
        }
        else if ((mask & Inotify.Create) != 0)
        {
            Post(path, FileSystemEventKind.Created, isDirectory);
            if (isDirectory)
            {
                WatchSubtree(path, reportContents: true);
            }
        }
        else if ((mask & Inotify.Attrib) != 0)
        {
            Post(path, FileSystemEventKind.AttributesChanged, isDirectory);
        }
        else if ((mask & Inotify.Delete) != 0)
        {
            Post(path, FileSystemEventKind.Deleted, isDirectory);
        }
        else if ((mask & Inotify.DeleteSelf) != 0 && record.Wd == _rootWd)
        {
            // A sub-directory's own deletion was already reported by its parent.
            Post(Path, FileSystemEventKind.Deleted, _rootIsDirectory);
        }
    }

    /// <summary>
    /// A rename touching this source (loop thread, gate held): <paramref name="from"/> alone is a move out,
    /// <paramref name="to"/> alone a move in, both a move within.
    /// </summary>
    internal void OnMoveLocked(InotifyRecord? from, InotifyRecord? to)
    {
        if (_ending)
        {
            return;
        }

        string? oldPath = from is { } f && _watches.TryGetValue(f.Wd, out string? fromDirectory) ? System.IO.Path.Join(fromDirectory, f.Name) : null;
        string? newPath = to is { } t && _watches.TryGetValue(t.Wd, out string? toDirectory) ? System.IO.Path.Join(toDirectory, t.Name) : null;
        bool isDirectory = ((from ?? to)!.Value.Mask & Inotify.IsDir) != 0;
        if (oldPath is not null)
        {
            FlushCoalesced(oldPath);
        }

        if (oldPath is not null && newPath is not null)
        {
            FlushCoalesced(newPath);
            Post(new FileSystemEvent(FileSystemEventKind.Moved, newPath, oldPath, 1, isDirectory));
            if (isDirectory)
            {
                Rename(oldPath, newPath);
            }
        }
        else if (oldPath is not null)
        {
            Post(oldPath, FileSystemEventKind.MovedAway, isDirectory);
            if (isDirectory)
            {
                Unwatch(oldPath);
            }
        }
        else if (newPath is not null)
        {
            FlushCoalesced(newPath);
            Post(newPath, FileSystemEventKind.MovedIn, isDirectory);
            if (isDirectory)
            {
                WatchSubtree(newPath, reportContents: false);
            }
        }
    }

    /// <summary>The kernel's queue overflowed (loop thread, gate held).</summary>
    internal void OnOverflowLocked()
    {
        if (!_ending)
        {
            Post(new FileSystemEvent(FileSystemEventKind.Overflow, Path, null, 1, _rootIsDirectory));
        }
    }

    /// <summary>The shared inotify fd failed (gate held): events read so far, then <c>OnError</c>.</summary>
    internal void FailLocked(Exception error) => End(error);

    private void AddRoot()
    {
        InotifyHub hub = Hub;
        int wd = hub.AddWatch(this, Path, followLinks: true, out int errno);
        if (wd < 0)
        {
            throw new LoopException("inotify_add_watch", errno, -1, Name);
        }

        _rootWd = wd;
        _watches[wd] = Path;
        _rootIsDirectory = Directory.Exists(Path);
        _ending = false;
        _endError = null;
        if (Options.Recursive && _rootIsDirectory)
        {
            try
            {
                WatchChildren(Path, reportContents: false);
            }
            catch
            {
                Reset();
                throw;
            }
        }
    }

    /// <summary>
    /// A directory that appeared inside a recursive watch: watches it and the directories it holds already. With
    /// <paramref name="reportContents"/> (a new directory) what was made inside it before its watch is reported as
    /// <see cref="FileSystemEventKind.Created"/>, so that <c>mkdir -p a/b</c> or a file written at once into a new
    /// directory is not lost; something made at the very moment its directory's watch is added may be reported twice.
    /// </summary>
    private void WatchSubtree(string directory, bool reportContents)
    {
        if (!Options.Recursive)
        {
            return;
        }

        try
        {
            if (WatchDirectory(directory))
            {
                WatchChildren(directory, reportContents);
            }
        }
        catch (LoopException e)
        {
            End(e);
        }
    }

    /// <summary>Watches the directories below <paramref name="directory"/> (itself watched already), depth first, each before it is listed.</summary>
    private void WatchChildren(string directory, bool reportContents)
    {
        List<FileSystemInfo> entries;
        try
        {
            entries = [.. new DirectoryInfo(directory).EnumerateFileSystemInfos("*", new EnumerationOptions { IgnoreInaccessible = true })];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone or unreadable meanwhile: its deletion is reported by its parent.
            return;
        }

        foreach (FileSystemInfo entry in entries)
        {
            // Symbolic links are reported but not followed.
            bool isDirectory = entry is DirectoryInfo && (entry.Attributes & FileAttributes.ReparsePoint) == 0;
            if (reportContents)
            {
                Post(entry.FullName, FileSystemEventKind.Created, isDirectory);
            }

            if (isDirectory && WatchDirectory(entry.FullName))
            {
                WatchChildren(entry.FullName, reportContents);
            }
        }
    }

    /// <summary>Adds a sub-directory's watch; false when it vanished or cannot be read (skipped), throws for other refusals.</summary>
    private bool WatchDirectory(string directory)
    {
        int wd = Hub.AddWatch(this, directory, followLinks: false, out int errno);
        if (wd >= 0)
        {
            _watches[wd] = directory;
            return true;
        }

        if (errno == Sys.ENOENT || errno == Inotify.ENOTDIR || errno == Inotify.EACCES)
        {
            return false;
        }

        throw new LoopException("inotify_add_watch", errno, -1, $"Watch {directory}");
    }

    /// <summary>A watched directory was renamed within the watch: the paths of its subtree follow.</summary>
    private void Rename(string oldPath, string newPath)
    {
        foreach ((int wd, string directory) in _watches.ToList())
        {
            if (IsWithin(directory, oldPath))
            {
                _watches[wd] = newPath + directory[oldPath.Length..];
            }
        }
    }

    /// <summary>A watched directory left the watch: its subtree's watches go.</summary>
    private void Unwatch(string path)
    {
        foreach ((int wd, string directory) in _watches.ToList())
        {
            if (wd != _rootWd && IsWithin(directory, path))
            {
                _watches.Remove(wd);
                Hub.RemoveWatch(this, wd);
            }
        }
    }

    private static bool IsWithin(string path, string directory) =>
        path.StartsWith(directory, StringComparison.Ordinal)
        && (path.Length == directory.Length || path[directory.Length] == System.IO.Path.DirectorySeparatorChar);

    private void Modified(string path, bool isDirectory)
    {
        TimeSpan window = Options.CoalesceWindow;
        if (window <= TimeSpan.Zero)
        {
            Post(path, FileSystemEventKind.Modified, isDirectory);
            return;
        }

        if (_coalesced.TryGetValue(path, out Coalesced? pending))
        {
            pending.Count++;
            return;
        }

        pending = new Coalesced(isDirectory);
        _coalesced[path] = pending;
        pending.Flush = Loop.Scheduler.Schedule(path, window, (_, state) =>
        {
            lock (Loop.Gate)
            {
                FlushCoalesced(state);
            }

            return System.Reactive.Disposables.Disposable.Empty;
        });
    }

    /// <summary>Posts the modifications held for <paramref name="path"/>, if any, before anything else about it (gate held).</summary>
    private void FlushCoalesced(string path)
    {
        if (_coalesced.Remove(path, out Coalesced? pending))
        {
            pending.Flush?.Dispose();
            Post(new FileSystemEvent(FileSystemEventKind.Modified, path, null, pending.Count, pending.IsDirectory));
        }
    }

    private void Post(string path, FileSystemEventKind kind, bool isDirectory)
    {
        FlushCoalesced(path);
        Post(new FileSystemEvent(kind, path, null, 1, isDirectory));
    }

    private void Post(in FileSystemEvent value)
    {
        if (_ending)
        {
            return;
        }

        _incoming.Enqueue(value);
        _notifier.Signal();
    }

    /// <summary>No event after this one: the source ends once what was queued is delivered (gate held).</summary>
    private void End(Exception? error)
    {
        if (_ending)
        {
            return;
        }

        foreach (string path in _coalesced.Keys.ToList())
        {
            FlushCoalesced(path);
        }

        _ending = true;
        _endError = error;
        _notifier.Signal();
    }

    /// <summary>Removes every kernel watch and drops what was not delivered (gate held).</summary>
    private void Reset()
    {
        if (Loop.InotifyIfMade is { } hub)
        {
            foreach (int wd in _watches.Keys)
            {
                hub.RemoveWatch(this, wd);
            }
        }

        _watches.Clear();
        _rootWd = -1;
        foreach (Coalesced pending in _coalesced.Values)
        {
            pending.Flush?.Dispose();
        }

        _coalesced.Clear();
        _incoming.Clear();
        Volatile.Write(ref _generation, _generation + 1);
    }

    /// <summary>Modifications of one path held for the coalescing window.</summary>
    private sealed class Coalesced(bool isDirectory)
    {
        public bool IsDirectory { get; } = isDirectory;

        public int Count { get; set; } = 1;

        public IDisposable? Flush { get; set; }
    }
}
