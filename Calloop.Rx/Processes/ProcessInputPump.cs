using Calloop.Rx.Interop;

namespace Calloop.Rx;

/// <summary>
/// Moves what is sent to a <see cref="ChildProcess.StandardInput"/> into the child's stdin pipe, on the loop thread.
/// The sender is a bounded <see cref="EventLoop.BoundedChannel{T}(int)"/>; while the pipe is full the pump disables the
/// channel (its messages stay queued and count against its capacity, so senders meet back pressure) and listens for
/// the pipe becoming writable instead; once the rest of the chunk in hand is written, it enables the channel again.
/// </summary>
/// <remarks>
/// The channel's end (every sender disposed, or the loop disposed), a write refused because the child closed its end
/// (EPIPE), and <see cref="Close"/> all close the pipe, which the child reads as end of file; after EPIPE or Close the
/// channel is removed, so further sends report <see cref="SendResult.Closed"/>.
/// </remarks>
internal sealed class ProcessInputPump : IObserver<ReadOnlyMemory<byte>>, IObserver<Readiness>
{
    private readonly FdHandle _pipe;
    private readonly ChannelSource<ReadOnlyMemory<byte>> _channel;
    private readonly FdSource _writable;
    private ReadOnlyMemory<byte> _pending;
    private int _closed;

    public ProcessInputPump(EventLoop loop, FdHandle pipe, int capacity)
    {
        _pipe = pipe;
        (Sender, _channel) = loop.BoundedChannel<ReadOnlyMemory<byte>>(capacity);
        _writable = loop.Fd(pipe, Interest.Write);

        // Registered now but armed only while a chunk waits for room in the pipe.
        _writable.Disable();
        _writable.Subscribe((IObserver<Readiness>)this);
        _channel.Subscribe((IObserver<ReadOnlyMemory<byte>>)this);
    }

    public BoundedSender<ReadOnlyMemory<byte>> Sender { get; }

    /// <summary>Closes the pipe now, dropping what was not written; idempotent and thread-safe.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        Sender.Dispose();
        _writable.Remove();
        _channel.Remove();
        _pipe.Dispose();
    }

    void IObserver<ReadOnlyMemory<byte>>.OnNext(ReadOnlyMemory<byte> value)
    {
        if (!WriteAll(value))
        {
            // Messages after this one stay queued (the batch stops at this Disable) until the pipe has room.
            Switch(waitForRoom: true);
        }
    }

    void IObserver<Readiness>.OnNext(Readiness value)
    {
        if (WriteAll(_pending))
        {
            Switch(waitForRoom: false);
        }
    }

    void IObserver<ReadOnlyMemory<byte>>.OnCompleted() => Close();

    void IObserver<ReadOnlyMemory<byte>>.OnError(Exception error) => Close();

    void IObserver<Readiness>.OnCompleted() => Close();

    void IObserver<Readiness>.OnError(Exception error) => Close();

    /// <summary>Listens to the pipe's room instead of the channel, or back.</summary>
    private void Switch(bool waitForRoom)
    {
        try
        {
            if (waitForRoom)
            {
                _channel.Disable();
                _writable.Enable();
            }
            else
            {
                _writable.Disable();
                _channel.Enable();
            }
        }
        catch (InvalidOperationException) when (Volatile.Read(ref _closed) != 0)
        {
            // Close, on another thread, ended both sources meanwhile: there is nothing left to switch.
        }
    }

    /// <summary>Writes until done (true) or the pipe is full (false, the rest kept in <see cref="_pending"/>); a refused write closes the pump (true).</summary>
    private bool WriteAll(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            int n = FdIo.Write(_pipe, data.Span, out int errno);
            if (n >= 0)
            {
                data = data[n..];
            }
            else if (errno == Sys.EAGAIN)
            {
                _pending = data;
                return false;
            }
            else if (errno != Sys.EINTR)
            {
                // EPIPE: the child closed its stdin or exited; EBADF: closed by Close. Nothing more can be written.
                Close();
                break;
            }
        }

        _pending = default;
        return true;
    }
}
