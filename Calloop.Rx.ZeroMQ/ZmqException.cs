using Calloop.Rx.ZeroMQ.Interop;

namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// A libzmq call failed. Carries libzmq's errno (<c>zmq_errno</c>: a system errno such as <c>EADDRINUSE</c>, or
/// one of libzmq's own such as <c>EFSM</c> and <c>ETERM</c>) and its text (<c>zmq_strerror</c>), so the message
/// alone says what went wrong, for example <c>zmq_bind(tcp://127.0.0.1:5555) failed: errno 98, Address already in use</c>.
/// </summary>
public sealed class ZmqException : IOException
{
    /// <summary>libzmq's EFSM: the operation is not allowed in the socket's current state (REQ/REP lockstep).</summary>
    public const int EFSM = Zmq.EFSM;

    /// <summary>libzmq's ETERM: the context was shut down or terminated.</summary>
    public const int ETERM = Zmq.ETERM;

    /// <summary>EAGAIN: the non-blocking call would have blocked, or a socket timeout expired.</summary>
    public const int EAGAIN = Zmq.EAGAIN;

    /// <summary>Creates an exception for a failed call.</summary>
    /// <param name="operation">The call that failed, e.g. <c>zmq_bind(tcp://*:5555)</c>.</param>
    /// <param name="errno">libzmq's errno.</param>
    public ZmqException(string operation, int errno)
        : this(operation, errno, Zmq.StrError(errno))
    {
    }

    private ZmqException(string operation, int errno, string errorText)
        : base($"{operation} failed: errno {errno}, {errorText}")
    {
        Operation = operation;
        Errno = errno;
        ErrorText = errorText;
        HResult = errno;
    }

    /// <summary>The libzmq call that failed.</summary>
    public string Operation { get; }

    /// <summary>libzmq's errno for the failure (<c>zmq_errno</c>).</summary>
    public int Errno { get; }

    /// <summary>libzmq's text for <see cref="Errno"/> (<c>zmq_strerror</c>).</summary>
    public string ErrorText { get; }

    /// <summary>The error the last libzmq call on this thread reported (captured by the marshaller).</summary>
    internal static ZmqException FromLastError(string operation) => new(operation, Zmq.LastError);
}
