using System.Runtime.InteropServices;
using Calloop.Rx.ZeroMQ.Interop;

namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// A libzmq context (<c>zmq_ctx_new</c>): owns libzmq's I/O thread and is the scope of <c>inproc://</c> endpoints.
/// Thread-safe. Create one per process (or per test) and make <see cref="ZmqSocket"/>s from it.
/// </summary>
/// <remarks>
/// The context is created with <c>ZMQ_BLOCKY</c> off, and every <see cref="ZmqSocket"/> sets linger to 0 when it
/// closes, so terminating the context never waits for unsent messages. Each socket holds a reference on the context:
/// <see cref="SafeHandle.Dispose()"/> returns at once, and <c>zmq_ctx_term</c> runs when the last of its sockets is
/// closed (it would otherwise block until they were).
/// </remarks>
public sealed class ZmqContext : SafeHandle
{
    /// <summary>Creates a context.</summary>
    /// <exception cref="ZmqException">libzmq could not create it (for example too many open files).</exception>
    /// <exception cref="DllNotFoundException">libzmq (Debian package <c>libzmq5</c>, <c>libzmq.so.5</c>) is not installed.</exception>
    public ZmqContext()
        : base(IntPtr.Zero, ownsHandle: true)
    {
        IntPtr context = Zmq.CtxNew();
        if (context == IntPtr.Zero)
        {
            throw ZmqException.FromLastError("zmq_ctx_new");
        }

        SetHandle(context);
        if (Zmq.CtxSet(context, Zmq.CtxBlocky, 0) != 0)
        {
            var error = ZmqException.FromLastError("zmq_ctx_set(ZMQ_BLOCKY)");
            Dispose();
            throw error;
        }
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The version of the libzmq that was loaded.</summary>
    public static Version LibraryVersion
    {
        get
        {
            Zmq.Version(out int major, out int minor, out int patch);
            return new Version(major, minor, patch);
        }
    }

    /// <summary>
    /// <c>zmq_ctx_shutdown</c>: every blocking call on the context's sockets returns <c>ETERM</c>, and so does every
    /// later call except closing. Use it to unblock threads stuck in <see cref="ZmqSocket.ReceiveMultipart"/>.
    /// </summary>
    /// <exception cref="ZmqException">libzmq refused (the context is already terminated).</exception>
    public void Shutdown()
    {
        if (Zmq.CtxShutdown(this) != 0)
        {
            throw ZmqException.FromLastError("zmq_ctx_shutdown");
        }
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        // Runs once every socket has released its reference, so zmq_ctx_term has nothing to wait for; EINTR
        // (a signal during the call) is the one failure worth retrying.
        while (Zmq.CtxTerm(handle) != 0)
        {
            if (Zmq.LastError != Zmq.EINTR)
            {
                return false;
            }
        }

        return true;
    }
}
