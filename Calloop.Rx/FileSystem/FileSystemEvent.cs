namespace Calloop.Rx;

/// <summary>One change seen by a <see cref="FileWatchSource"/>, delivered on the loop thread.</summary>
/// <param name="Kind">What happened (exactly one flag).</param>
/// <param name="Path">The full path of the entry concerned (for <see cref="FileSystemEventKind.Moved"/>, its new path), built from the path given to <see cref="EventLoop.Watch"/>.</param>
/// <param name="OldPath">For <see cref="FileSystemEventKind.Moved"/>, the path before the rename; otherwise null.</param>
/// <param name="Count">How many kernel events this one stands for: above 1 only for modifications coalesced by <see cref="FileWatchOptions.CoalesceWindow"/>.</param>
/// <param name="IsDirectory">Whether the entry is a directory.</param>
public readonly record struct FileSystemEvent(FileSystemEventKind Kind, string Path, string? OldPath, int Count, bool IsDirectory);
