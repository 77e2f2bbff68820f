namespace Calloop.Rx.Interop;

/// <summary>One <c>struct inotify_event</c>: the watch, what happened, the pairing cookie of a rename, and the entry's name.</summary>
internal readonly record struct InotifyRecord(int Wd, uint Mask, uint Cookie, string Name);
