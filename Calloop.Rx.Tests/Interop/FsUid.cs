using System.Runtime.InteropServices;

namespace Calloop.Rx.Tests.Interop;

/// <summary>
/// The calling thread's file-system uid (setfsuid(2), a per-thread attribute): lets a test running as root meet the
/// permission checks an ordinary user meets, on that thread only, without touching the rest of the process.
/// </summary>
internal static partial class FsUid
{
    /// <summary>The uid of <c>nobody</c>.</summary>
    public const uint Nobody = 65534;

    /// <summary>Makes file-system calls of this thread run as <paramref name="uid"/> until the result is disposed (on this thread).</summary>
    public static Restorer Become(uint uid) => new(SetFsUid(uid));

    [LibraryImport("libc", EntryPoint = "setfsuid")]
    private static partial int SetFsUid(uint fsuid);

    public readonly struct Restorer(int previous) : IDisposable
    {
        public void Dispose() => SetFsUid((uint)previous);
    }
}
