using System.Runtime.CompilerServices;

namespace Calloop.Rx;

/// <summary>
/// <see cref="AsyncFd.AsStream"/>: a non-seekable <see cref="Stream"/> whose reads are the adapter's reads and whose
/// writes write the whole buffer. The <see cref="Memory{T}"/> overloads allocate nothing in steady state.
/// </summary>
internal sealed class AsyncFdStream(AsyncFd fd) : Stream
{
    public override bool CanRead => !fd.IsDisposed;

    public override bool CanWrite => !fd.IsDisposed;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException("An AsyncFd stream is not seekable.");

    public override long Position
    {
        get => throw new NotSupportedException("An AsyncFd stream is not seekable.");
        set => throw new NotSupportedException("An AsyncFd stream is not seekable.");
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        fd.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return fd.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        WriteAllAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAllAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        if (count > 0 && fd.TryReadNow(buffer.AsSpan(offset, count), out int read))
        {
            return read;
        }

        ThrowIfOnLoopThread();
        return fd.ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        int done = 0;
        while (done < count && fd.TryWriteNow(buffer.AsSpan(offset + done, count - done), out int written))
        {
            done += written;
        }

        if (done < count)
        {
            ThrowIfOnLoopThread();
            WriteAllAsync(buffer.AsMemory(offset + done, count - done), default).AsTask().GetAwaiter().GetResult();
        }
    }

    public override void Flush()
    {
        // Nothing is buffered here: every write went to the fd.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("An AsyncFd stream is not seekable.");

    public override void SetLength(long value) => throw new NotSupportedException("An AsyncFd stream is not seekable.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            fd.Dispose();
        }

        base.Dispose(disposing);
    }

    // Pooled so that a write that has to wait allocates nothing in steady state.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAllAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            int written = await fd.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            buffer = buffer[written..];
        }
    }

    private void ThrowIfOnLoopThread()
    {
        if (fd.Loop.IsOnLoopThread)
        {
            throw new InvalidOperationException("A synchronous read or write on the loop thread would block the loop forever: use ReadAsync/WriteAsync there.");
        }
    }
}
