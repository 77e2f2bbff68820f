namespace Calloop.Rx;

public sealed partial class EventLoop
{
    /// <summary>
    /// Watches a file or directory (with <see cref="FileWatchOptions.Recursive"/>, a whole tree) for changes, over the
    /// loop's one inotify fd; see <see cref="FileWatchSource"/>. Nothing is watched until the source is subscribed.
    /// </summary>
    /// <param name="path">The file or directory; a relative path is made absolute now, against the current directory.</param>
    /// <param name="options">How to watch; null for the defaults (not recursive, no coalescing).</param>
    /// <returns>The source; a path the kernel refuses (missing, not permitted, the watch limit reached) is reported as <c>OnError</c> with a <see cref="LoopException"/> when it is subscribed.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or not a valid path.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="FileWatchOptions.CoalesceWindow"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public FileWatchSource Watch(string path, FileWatchOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new FileWatchOptions();
        if (options.CoalesceWindow < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.CoalesceWindow, "A coalescing window cannot be negative.");
        }

        string full = Path.GetFullPath(path);
        if (full.Length > 1)
        {
            full = Path.TrimEndingDirectorySeparator(full);
        }

        return Track(new FileWatchSource(this, full, options));
    }

    /// <summary>The loop's inotify hub, made now if needed (or again after its fd failed). Caller holds the gate.</summary>
    /// <exception cref="LoopException">inotify_init1 failed, for example EMFILE (the per-user instance limit).</exception>
    internal InotifyHub InotifyLocked => _sources.Inotify is { IsClosed: false } hub ? hub : _sources.Inotify = InotifyHub.Create(this);

    /// <summary>The loop's inotify hub if one was made. Caller holds the gate.</summary>
    internal InotifyHub? InotifyIfMade => _sources.Inotify;
}
