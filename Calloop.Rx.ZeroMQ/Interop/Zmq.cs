using System.Runtime.InteropServices;


namespace Calloop.Rx.ZeroMQ.Interop;

/// <summary>
/// libzmq 4.3 (Debian's <c>libzmq5</c>, loaded as <c>libzmq.so.5</c>), declared by hand: nothing else in the
/// solution calls libzmq. Every function that reports failure through errno is declared with
/// <c>SetLastError</c>, so the marshaller captures errno right after the call; reading it later with
/// <c>zmq_errno()</c> would race with whatever the runtime does in between (GC, other P/Invokes on the thread).
/// </summary>
internal static unsafe partial class Zmq
{
    private const string Library = "libzmq.so.5";

    // Values from zmq.h (4.3.4); they are part of libzmq's stable ABI.
    public const int DontWait = 1;
    public const int SendMore = 2;

    public const int PollIn = 1;
    public const int PollOut = 2;

    public const int CtxBlocky = 70;

    public const int EAGAIN = 11;
    public const int EINTR = 4;
    private const int HausNumero = 156384712;
    public const int EFSM = HausNumero + 51;
    public const int ETERM = HausNumero + 53;

    /// <summary><c>zmq_msg_t</c>: 64 opaque bytes, pointer-aligned.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 64)]
    public struct Message
    {
#pragma warning disable IDE0044 // libzmq writes it, through a pointer
        private long _first;
#pragma warning restore IDE0044
    }

    public static int LastError => Marshal.GetLastPInvokeError();

    [LibraryImport(Library, EntryPoint = "zmq_version")]
    public static partial void Version(out int major, out int minor, out int patch);

    [LibraryImport(Library, EntryPoint = "zmq_errno")]
    public static partial int Errno();

    /// <summary>The message of a libzmq or system errno (zmq_strerror); never null.</summary>
    public static string StrError(int errno) => Marshal.PtrToStringUTF8(StrErrorRaw(errno)) ?? $"errno {errno}";

    [LibraryImport(Library, EntryPoint = "zmq_strerror")]
    private static partial IntPtr StrErrorRaw(int errnum);

    [LibraryImport(Library, EntryPoint = "zmq_ctx_new", SetLastError = true)]
    public static partial IntPtr CtxNew();

    [LibraryImport(Library, EntryPoint = "zmq_ctx_set", SetLastError = true)]
    public static partial int CtxSet(IntPtr context, int option, int value);

    [LibraryImport(Library, EntryPoint = "zmq_ctx_shutdown", SetLastError = true)]
    public static partial int CtxShutdown(ZmqContext context);

    /// <summary>Raw handle: called from <see cref="ZmqContext"/>'s ReleaseHandle, when the SafeHandle is already closed.</summary>
    [LibraryImport(Library, EntryPoint = "zmq_ctx_term", SetLastError = true)]
    public static partial int CtxTerm(IntPtr context);

    [LibraryImport(Library, EntryPoint = "zmq_socket", SetLastError = true)]
    public static partial IntPtr Socket(ZmqContext context, int type);

    /// <summary>Raw handle: called from <see cref="ZmqSocket"/>'s ReleaseHandle.</summary>
    [LibraryImport(Library, EntryPoint = "zmq_close", SetLastError = true)]
    public static partial int Close(IntPtr socket);

    [LibraryImport(Library, EntryPoint = "zmq_bind", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Bind(ZmqSocket socket, string endpoint);

    [LibraryImport(Library, EntryPoint = "zmq_connect", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Connect(ZmqSocket socket, string endpoint);

    [LibraryImport(Library, EntryPoint = "zmq_unbind", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unbind(ZmqSocket socket, string endpoint);

    [LibraryImport(Library, EntryPoint = "zmq_disconnect", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Disconnect(ZmqSocket socket, string endpoint);

    [LibraryImport(Library, EntryPoint = "zmq_setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(ZmqSocket socket, int option, void* value, nuint length);

    /// <summary>Starts reporting the socket's events on a PAIR bound at <paramref name="endpoint"/> (inproc only); a null endpoint stops.</summary>
    [LibraryImport(Library, EntryPoint = "zmq_socket_monitor", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SocketMonitor(ZmqSocket socket, string? endpoint, int events);

    /// <summary>Raw handle: linger is set from ReleaseHandle, just before zmq_close.</summary>
    [LibraryImport(Library, EntryPoint = "zmq_setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(IntPtr socket, int option, void* value, nuint length);

    [LibraryImport(Library, EntryPoint = "zmq_getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(ZmqSocket socket, int option, void* value, nuint* length);

    /// <summary>Copies <paramref name="length"/> bytes into a new frame; -1 with EAGAIN when it would block under <see cref="DontWait"/>.</summary>
    [LibraryImport(Library, EntryPoint = "zmq_send", SetLastError = true)]
    public static partial int Send(ZmqSocket socket, byte* buffer, nuint length, int flags);

    [LibraryImport(Library, EntryPoint = "zmq_msg_init")]
    public static partial int MsgInit(Message* message);

    [LibraryImport(Library, EntryPoint = "zmq_msg_recv", SetLastError = true)]
    public static partial int MsgRecv(Message* message, ZmqSocket socket, int flags);

    [LibraryImport(Library, EntryPoint = "zmq_msg_data")]
    public static partial byte* MsgData(Message* message);

    [LibraryImport(Library, EntryPoint = "zmq_msg_size")]
    public static partial nuint MsgSize(Message* message);

    [LibraryImport(Library, EntryPoint = "zmq_msg_more")]
    public static partial int MsgMore(Message* message);

    [LibraryImport(Library, EntryPoint = "zmq_msg_close")]
    public static partial int MsgClose(Message* message);
}
