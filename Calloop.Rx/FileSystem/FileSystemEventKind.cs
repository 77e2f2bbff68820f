namespace Calloop.Rx;

/// <summary>
/// What a <see cref="FileSystemEvent"/> reports. Each event has exactly one of these; the type is a flags enum so
/// that a filter can name several at once (<c>e.Kind &amp; (Created | MovedIn)</c>).
/// </summary>
[Flags]
public enum FileSystemEventKind
{
    /// <summary>No kind (the default value only).</summary>
    None = 0,

    /// <summary>A file or directory was created inside a watched directory (inotify <c>IN_CREATE</c>).</summary>
    Created = 1 << 0,

    /// <summary>A file's contents were written (<c>IN_MODIFY</c>); see <see cref="FileWatchOptions.CoalesceWindow"/>.</summary>
    Modified = 1 << 1,

    /// <summary>Permissions, ownership, timestamps, link count or extended attributes changed (<c>IN_ATTRIB</c>).</summary>
    AttributesChanged = 1 << 2,

    /// <summary>An entry was deleted (<c>IN_DELETE</c>), or the watched item itself was (<c>IN_DELETE_SELF</c>, with <see cref="FileSystemEvent.Path"/> the watched path).</summary>
    Deleted = 1 << 3,

    /// <summary>An entry was renamed within the watch: <see cref="FileSystemEvent.OldPath"/> to <see cref="FileSystemEvent.Path"/> (one event, paired by the kernel's rename cookie).</summary>
    Moved = 1 << 4,

    /// <summary>An entry was moved out of the watch (or to a place it cannot be followed to): like a deletion.</summary>
    MovedAway = 1 << 5,

    /// <summary>An entry was moved into the watch from outside: like a creation.</summary>
    MovedIn = 1 << 6,

    /// <summary>
    /// The kernel dropped the watch on the watched path (it was deleted, or its file system unmounted: <c>IN_IGNORED</c>).
    /// It is the source's last event; <c>OnCompleted</c> follows.
    /// </summary>
    WatchRemoved = 1 << 7,

    /// <summary>
    /// The kernel's event queue overflowed (<c>IN_Q_OVERFLOW</c>): events were lost for every watch of the loop,
    /// so rescan what matters. <see cref="FileSystemEvent.Path"/> is the watched path.
    /// </summary>
    Overflow = 1 << 8,
}
