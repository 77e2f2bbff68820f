namespace Calloop.Rx;

/// <summary>How <see cref="EventLoop.Watch"/> watches a path.</summary>
public sealed record FileWatchOptions
{
    /// <summary>
    /// Whether a watched directory's sub-directories are watched too, including those created or moved in later.
    /// A new directory is watched from the moment the loop reads its creation; what was made inside it before then
    /// is reported as <see cref="FileSystemEventKind.Created"/> (something made at that very moment may be reported
    /// twice). Symbolic links are not followed. Default false: only the directory's direct entries.
    /// </summary>
    public bool Recursive { get; init; }

    /// <summary>
    /// When positive, modifications of one path are held for this long on the loop's clock (virtual time on a virtual
    /// loop) and delivered as one <see cref="FileSystemEventKind.Modified"/> event whose
    /// <see cref="FileSystemEvent.Count"/> says how many were merged; it comes when the window that the first one
    /// opened ends, or earlier, just before any other event about the same path (so the order per path is kept).
    /// Default zero: every modification the kernel reports is delivered at once.
    /// </summary>
    public TimeSpan CoalesceWindow { get; init; }
}
