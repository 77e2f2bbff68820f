using System.Diagnostics;
using System.IO.Pipelines;
using System.IO.Pipes;
using System.Net.Sockets;
using System.Reactive;
using System.Reactive.Linq;
using System.Text;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Io;

public class AsyncFdTests
{
    // calloop io.rs `read_write`.
    [Fact]
    public void ReadWrite_OverASocketPair_DeliversTheMessage()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd sender = loop.AsyncFd(a);
            using AsyncFd receiver = loop.AsyncFd(b);
            var received = new ContractObserver<string>(loop);
            loop.Spawn(async () =>
            {
                var buffer = new byte[12];
                await ReadExactlyAsync(receiver, buffer);
                return Encoding.ASCII.GetString(buffer);
            }).Subscribe(received);

            loop.Dispatch(TimeSpan.FromMilliseconds(10));
            Assert.Empty(received.Notifications);

            var sent = new ContractObserver<Unit>(loop);
            loop.Spawn(() => WriteAllAsync(sender, "Hello World!"u8.ToArray())).Subscribe(sent);
            loop.DispatchUntil(() => received.Completed, "the reader");

            Assert.Equal(["Hello World!"], received.Values);
            Assert.True(sent.Completed);
            received.AssertClean();
            sent.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    // calloop io.rs `read_write_vectored`, adapted: no vectored calls here, so both sides move two-byte chunks.
    [Fact]
    public void ReadWrite_InSeveralBuffers_DeliversTheMessage()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd sender = loop.AsyncFd(a);
            using AsyncFd receiver = loop.AsyncFd(b);
            byte[] message = "Hello World!"u8.ToArray();
            var buffer = new byte[12];
            var readCount = new ContractObserver<int>(loop);
            loop.Spawn(async () =>
            {
                int total = 0;
                while (total < buffer.Length)
                {
                    total += await receiver.ReadAsync(buffer.AsMemory(total, Math.Min(2, buffer.Length - total)));
                }

                return total;
            }).Subscribe(readCount);
            loop.Dispatch(TimeSpan.FromMilliseconds(10));
            Assert.Empty(readCount.Notifications);

            var writeCount = new ContractObserver<int>(loop);
            loop.Spawn(async () =>
            {
                int total = 0;
                while (total < message.Length)
                {
                    total += await sender.WriteAsync(message.AsMemory(total, 2));
                }

                return total;
            }).Subscribe(writeCount);
            loop.DispatchUntil(() => readCount.Completed && writeCount.Completed, "both sides");

            Assert.Equal([12], readCount.Values);
            Assert.Equal([12], writeCount.Values);
            Assert.Equal(message, buffer);
            readCount.AssertClean();
            writeCount.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    // calloop io.rs `readable`.
    [Fact]
    public void ReadableAsync_DataArrives_Completes()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd receiver = loop.AsyncFd(b);
            var readable = new ContractObserver<Unit>(loop);
            loop.Spawn(async () => await receiver.ReadableAsync()).Subscribe(readable);

            loop.Dispatch(TimeSpan.FromMilliseconds(20));
            Assert.Empty(readable.Notifications);

            TestSys.Write(a, [1]);
            loop.DispatchUntil(() => readable.Completed, "readable");

            // Nothing was consumed: the byte is still there.
            Assert.Equal([(byte)1], TestSys.Drain(b));
            readable.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    // calloop io.rs `writable`: fill the socket buffer first.
    [Fact]
    public void WritableAsync_PeerDrainsAFullSocket_Completes()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd sender = loop.AsyncFd(a);
            var chunk = new byte[65536];
            while (TestSys.Write(a, chunk) > 0)
            {
            }

            var writable = new ContractObserver<Unit>(loop);
            loop.Spawn(async () => await sender.WritableAsync()).Subscribe(writable);
            loop.Dispatch(TimeSpan.FromMilliseconds(20));
            Assert.Empty(writable.Notifications);

            TestSys.Drain(b);
            loop.DispatchUntil(() => writable.Completed, "writable");
            writable.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    // The calloop book's adapt_io example: a socket pair, a receiver and a sender.
    [Fact]
    public void ReadWrite_HelloWorldOverASocketPair_RoundTrips()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd sender = loop.AsyncFd(a);
            using AsyncFd receiver = loop.AsyncFd(b);
            var ended = new List<string>();
            IObservable<string> receive = loop.Spawn(async () =>
            {
                var buffer = new byte[13];
                await ReadExactlyAsync(receiver, buffer);
                return Encoding.UTF8.GetString(buffer);
            });
            IObservable<string> send = loop.Spawn(async () =>
            {
                await WriteAllAsync(sender, "Hello, world!"u8.ToArray());
                return "Sent data...";
            });
            var observer = new ContractObserver<string>(loop, ended.Add);
            receive.Merge(send).Subscribe(observer);

            loop.DispatchUntil(() => observer.Completed, "both tasks");

            Assert.Equal(["Sent data...", "Hello, world!"], ended);
            observer.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void ReadWrite_HundredMegabytes_ArriveIntact()
    {
        const long Total = 100L * 1024 * 1024;
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd writer = loop.AsyncFd(a);
            using AsyncFd reader = loop.AsyncFd(b);

            // A prime-length random pattern repeated: any lost, duplicated or reordered chunk shows.
            var pattern = new byte[65521];
            new Random(20240101).NextBytes(pattern);
            var stopwatch = Stopwatch.StartNew();

            var written = new ContractObserver<long>(loop);
            loop.Spawn(async () =>
            {
                long sent = 0;
                int offset = 0;
                while (sent < Total)
                {
                    int length = (int)Math.Min(pattern.Length - offset, Total - sent);
                    int n = await writer.WriteAsync(pattern.AsMemory(offset, length));
                    sent += n;
                    offset = (offset + n) % pattern.Length;
                }

                TestSys.ShutdownWrite(a);
                return sent;
            }).Subscribe(written);

            var read = new ContractObserver<long>(loop);
            loop.Spawn(async () =>
            {
                var buffer = new byte[65536];
                long received = 0;
                int offset = 0;
                int n;
                while ((n = await reader.ReadAsync(buffer)) > 0)
                {
                    ReadOnlySpan<byte> data = buffer.AsSpan(0, n);
                    while (!data.IsEmpty)
                    {
                        int length = Math.Min(data.Length, pattern.Length - offset);
                        if (!data[..length].SequenceEqual(pattern.AsSpan(offset, length)))
                        {
                            throw new InvalidDataException($"bytes differ after {received} bytes");
                        }

                        data = data[length..];
                        offset = (offset + length) % pattern.Length;
                        received += length;
                    }
                }

                return received;
            }).Subscribe(read);

            loop.DispatchUntil(() => read.Notifications.Count > 0 && written.Notifications.Count > 0, "100 MB");
            stopwatch.Stop();

            Assert.Null(read.Error);
            Assert.Equal([Total], written.Values);
            Assert.Equal([Total], read.Values);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
            read.AssertClean();
            written.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void ReadWrite_SteadyState_AllocatesNothing()
    {
        using var loop = new EventLoop();
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var readEnd = new AnonymousPipeClientStream(PipeDirection.In, pipe.ClientSafePipeHandle);
        using AsyncFd writer = loop.AsyncFd(pipe.SafePipeHandle);
        using AsyncFd reader = loop.AsyncFd(readEnd.SafePipeHandle);
        var one = new byte[1];
        var buffer = new byte[1];
        long allocated = -1;
        loop.Spawn(async () =>
        {
            // After a warm-up, three windows of 1000 rounds; the least is kept. An allocation per round shows in
            // every window, while a one-off on this thread (a lazy initialisation another test's timing put
            // here) shows in one only.
            long least = long.MaxValue;
            long before = 0;
            for (int i = 0; i < 3100; i++)
            {
                if (i % 1000 == 100)
                {
                    long now = GC.GetAllocatedBytesForCurrentThread();
                    least = i > 100 ? Math.Min(least, now - before) : least;
                    before = now;
                }

                // The read has to wait (nothing to read yet), so each round goes through the loop's readiness event.
                ValueTask<int> pending = reader.ReadAsync(buffer);
                await writer.WriteAsync(one);
                await pending;
            }

            allocated = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        });

        // No assertion inside the loop: building its message would allocate on this (the measured) thread.
        long deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 4);
        while (Volatile.Read(ref allocated) < 0 && Stopwatch.GetTimestamp() < deadline)
        {
            loop.Dispatch(TimeSpan.FromMilliseconds(100));
        }

        Assert.True(allocated >= 0, "the exchange did not finish");
        Assert.True(allocated < 1000, $"1000 waiting reads and writes allocated {allocated} bytes");
    }

    [Fact]
    public void Operations_ConcurrentReadAndWrite_AllowedButNotTwoReads()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd fd = loop.AsyncFd(a);
            var buffer = new byte[4];
            ValueTask<int> read = fd.ReadAsync(buffer);
            Assert.False(read.IsCompleted);

            Assert.Throws<InvalidOperationException>(() => fd.ReadAsync(new byte[1]));
            Assert.Throws<InvalidOperationException>(() => fd.ReadableAsync());
            ValueTask<int> write = fd.WriteAsync("ping"u8.ToArray());
            Assert.True(write.IsCompletedSuccessfully);
            Assert.Equal(4, write.AsTask().ResultNow());

            Assert.Equal("ping"u8.ToArray(), TestSys.Drain(b));
            TestSys.Write(b, "pong"u8);
            var task = read.AsTask();
            loop.DispatchUntil(() => task.IsCompleted, "the read");

            Assert.Equal(4, task.ResultNow());
            Assert.Equal("pong"u8.ToArray(), buffer);
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void ReadAsync_CancelledWhileWaiting_FreesTheReadSide()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd fd = loop.AsyncFd(a);
            using var cts = new CancellationTokenSource();
            var buffer = new byte[4];
            var first = fd.ReadAsync(buffer, cts.Token).AsTask();
            cts.Cancel();
            loop.DispatchUntil(() => first.IsCompleted, "the cancellation");
            Assert.True(first.IsCanceled);

            TestSys.Write(b, "data"u8);
            var second = fd.ReadAsync(buffer).AsTask();
            loop.DispatchUntil(() => second.IsCompleted, "the second read");
            Assert.Equal(4, second.ResultNow());

            Assert.True(fd.ReadAsync(buffer, new CancellationToken(true)).IsCanceled);
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void ReadAsync_Continuation_RunsOnTheLoopThreadInTheActionsPhase()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd fd = loop.AsyncFd(a);
            int loopThread = Environment.CurrentManagedThreadId;
            var order = new List<string>();
            var (ping, pings) = loop.Ping();
            using var subscription = pings.Subscribe(_ => order.Add("ping"));
            var done = new ContractObserver<int>(loop);
            loop.Spawn(async () =>
            {
                await fd.ReadAsync(new byte[1]);
                order.Add("read continued");
                return Environment.CurrentManagedThreadId;
            }).Subscribe(done);
            loop.Dispatch(TimeSpan.Zero);

            TestSys.Write(b, [7]);
            ping.Send();
            loop.InsertIdle(() => order.Add("idle"));
            loop.DispatchUntil(() => done.Completed, "the read");

            Assert.Equal(["ping", "read continued", "idle"], order);
            Assert.Equal([loopThread], done.Values);
            done.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void ReadAsync_AwaitedOffTheLoop_ContinuesOnTheThreadPool()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd fd = loop.AsyncFd(a);
            int loopThread = Environment.CurrentManagedThreadId;
            var started = new ManualResetEventSlim();
            var reader = Task.Run(async () =>
            {
                ValueTask<int> read = fd.ReadAsync(new byte[1]);
                started.Set();
                await read;
                return Environment.CurrentManagedThreadId;
            });
            Assert.True(started.Wait(LoopExtensions.Patience));

            TestSys.Write(b, [1]);
            loop.DispatchUntil(() => reader.IsCompleted, "the read");

            Assert.NotEqual(loopThread, reader.ResultNow());
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void Dispose_WithWaitingOperations_FailsThemAndRestoresTheBlockingFlag()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.BlockingSocketPair();
        try
        {
            AsyncFd fd = loop.AsyncFd(a);
            Assert.True(TestSys.IsNonBlocking(a));
            var read = fd.ReadAsync(new byte[1]).AsTask();

            fd.Dispose();
            loop.DispatchUntil(() => read.IsCompleted, "the failure");

            Assert.IsType<ObjectDisposedException>(read.ErrorNow());
            Assert.False(TestSys.IsNonBlocking(a));
            Assert.True(fd.ReadAsync(new byte[1]).AsTask().IsFaulted);
            fd.Dispose();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void LoopDispose_WithWaitingOperations_FailsThemWithObjectDisposed()
    {
        var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd fd = loop.AsyncFd(a);
            int loopThread = Environment.CurrentManagedThreadId;
            Exception? readError = null;
            int continuedOn = 0;
            loop.Spawn(async () =>
            {
                try
                {
                    await fd.ReadAsync(new byte[1]);
                }
                catch (Exception e)
                {
                    readError = e;
                    continuedOn = Environment.CurrentManagedThreadId;
                }
            });
            loop.Dispatch(TimeSpan.Zero);
            Assert.Null(readError);

            // An await made on the loop continues right away, on the thread disposing the loop (here the loop's own).
            loop.Dispose();

            Assert.IsType<ObjectDisposedException>(readError);
            Assert.Equal(loopThread, continuedOn);
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void PeerClosed_ReadAndWrite_ReadsZeroAndWriteFailsWithLoopException()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd fd = loop.AsyncFd(a);
            var read = fd.ReadAsync(new byte[8]).AsTask();
            TestSys.Close(b);
            loop.DispatchUntil(() => read.IsCompleted, "end of stream");
            Assert.Equal(0, read.ResultNow());

            var error = Assert.ThrowsAny<IOException>(() => fd.WriteAsync(new byte[1]).AsTask().ResultNow());
            Assert.Equal(32, Assert.IsType<LoopException>(error).Errno);
        }
        finally
        {
            TestSys.Close(a);
        }
    }

    [Fact]
    public void ReadAsync_ZeroBytes_WaitsUntilReadableAndConsumesNothing()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using AsyncFd fd = loop.AsyncFd(a);
            var read = fd.ReadAsync(Memory<byte>.Empty).AsTask();
            loop.Dispatch(TimeSpan.FromMilliseconds(10));
            Assert.False(read.IsCompleted);

            TestSys.Write(b, [5]);
            loop.DispatchUntil(() => read.IsCompleted, "readable");

            Assert.Equal(0, read.ResultNow());
            Assert.Equal([(byte)5], TestSys.Drain(a));
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void AsyncFd_FromASocket_AdaptsItAndRestoresItsBlockingFlag()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.BlockingSocketPair();
        using var left = new Socket(new SafeSocketHandle(a, ownsHandle: true));
        using var right = new Socket(new SafeSocketHandle(b, ownsHandle: true));
        Assert.True(left.Blocking);

        using (AsyncFd fd = loop.AsyncFd(left))
        {
            Assert.False(left.Blocking);
            right.Send("hi"u8);
            var buffer = new byte[2];
            var read = fd.ReadAsync(buffer).AsTask();
            loop.DispatchUntil(() => read.IsCompleted, "the read");
            Assert.Equal("hi"u8.ToArray(), buffer);
        }

        Assert.True(left.Blocking);
    }

    [Fact]
    public void AsyncFd_ClosedFd_IsRefused()
    {
        using var loop = new EventLoop();

        // Not a number just closed: a test running in parallel may be given it at once. No process has this one open.
        var error = Assert.Throws<LoopException>(() => loop.AsyncFd(int.MaxValue));
        Assert.Equal(TestSys.EBADF, error.Errno);
    }

    [Fact]
    public void Stream_ReadByStreamReader_YieldsLines()
    {
        using var loop = new EventLoop();
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var readEnd = new AnonymousPipeClientStream(PipeDirection.In, pipe.ClientSafePipeHandle);
        using AsyncFd writer = loop.AsyncFd(pipe.SafePipeHandle);
        using Stream output = writer.AsStream();
        var lines = new List<string[]>();
        bool completed = false;
        loop.Spawn(async () =>
        {
            using var reader = new StreamReader(loop.AsyncFd(readEnd.SafePipeHandle).AsStream());
            var result = new List<string>();
            while (await reader.ReadLineAsync() is { } line)
            {
                result.Add(line);
            }

            return result.ToArray();
        }).Subscribe(lines.Add, () => completed = true);
        loop.Spawn(async () =>
        {
            await output.WriteAsync("first line\nsecond "u8.ToArray());
            await output.WriteAsync("line\nthird line\n"u8.ToArray());
            writer.Dispose();
            pipe.Dispose(); // the only write end is closed: the reader sees the end of the stream
        });

        using var deadline = new LoopDeadline(loop);
        while (!completed) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Equal(["first line", "second line", "third line"], Assert.Single(lines));
    }

    [Fact]
    public void Stream_UnderPipeReaderAndCopyToAsync_DeliversEverything()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        var (c, d) = TestSys.SocketPair();
        try
        {
            // 1 MiB, far more than a socket buffer: the writer's WriteAsync has to wait for room several times.
            byte[] payload = new byte[1 << 20];
            new Random(7).NextBytes(payload);
            using Stream first = loop.AsyncFd(a).AsStream();
            using Stream second = loop.AsyncFd(b).AsStream();
            using Stream third = loop.AsyncFd(c).AsStream();
            using Stream fourth = loop.AsyncFd(d).AsStream();

            loop.Spawn(async () =>
            {
                await first.WriteAsync(payload);
                TestSys.ShutdownWrite(a);
            });

            // b → c by CopyToAsync, then c → d is read through a PipeReader.
            loop.Spawn(async () =>
            {
                await second.CopyToAsync(third);
                TestSys.ShutdownWrite(c);
            });
            var received = new ContractObserver<byte[]>(loop);
            loop.Spawn(async () =>
            {
                PipeReader pipe = PipeReader.Create(fourth, new StreamPipeReaderOptions(leaveOpen: true));
                var all = new MemoryStream();
                while (true)
                {
                    ReadResult result = await pipe.ReadAsync();
                    foreach (ReadOnlyMemory<byte> segment in result.Buffer)
                    {
                        all.Write(segment.Span);
                    }

                    pipe.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        break;
                    }
                }

                await pipe.CompleteAsync();
                return all.ToArray();
            }).Subscribe(received);

            loop.DispatchUntil(() => received.Completed, "the copy");

            Assert.Equal(payload, Assert.Single(received.Values));
            received.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
            TestSys.Close(c);
            TestSys.Close(d);
        }
    }

    [Fact]
    public void StreamRead_OnTheLoopThread_WorksOnlyWhenItWouldNotBlock()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            using Stream stream = loop.AsyncFd(a).AsStream();
            Exception? wouldBlock = null;
            int read = -1;
            loop.Scheduler.Schedule(0, (_, _) =>
            {
                wouldBlock = Record.Exception(() => stream.ReadByte());
                TestSys.Write(b, [9]);
                read = stream.ReadByte();
                return System.Reactive.Disposables.Disposable.Empty;
            });

            loop.Dispatch(TimeSpan.Zero);

            Assert.IsType<InvalidOperationException>(wouldBlock);
            Assert.Equal(9, read);
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    private static async Task ReadExactlyAsync(AsyncFd fd, Memory<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n = await fd.ReadAsync(buffer);
            if (n == 0)
            {
                throw new EndOfStreamException();
            }

            buffer = buffer[n..];
        }
    }

    private static async Task WriteAllAsync(AsyncFd fd, ReadOnlyMemory<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            buffer = buffer[await fd.WriteAsync(buffer)..];
        }
    }
}
