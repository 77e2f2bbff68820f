using System.Reactive;
using BenchmarkDotNet.Attributes;
using Calloop.Rx.Benchmarks.Interop;

namespace Calloop.Rx.Benchmarks.Micro;

/// <summary>
/// One event through the loop per operation, from the producer's call to the observer: what the hot path costs in
/// time and in allocation (MemoryDiagnoser; steady state must allocate nothing but the message itself).
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private const int Batch = 1000;
    private EventLoop _loop = null!;
    private Ping _ping = null!;
    private Sender<long> _sender = null!;
    private BoundedSender<long> _roomy = null!;
    private BoundedSender<long> _full = null!;
    private (int Read, int Write) _pipe;
    private Action _idle = null!;
    private long _count;

    [GlobalSetup]
    public void Setup()
    {
        _loop = new EventLoop();
        var (ping, pings) = _loop.Ping();
        _ping = ping;
        pings.Subscribe(new CountingObserver<Unit>(this));
        var (sender, messages) = _loop.Channel<long>();
        _sender = sender;
        messages.Subscribe(new CountingObserver<long>(this));
        var (roomy, roomyMessages) = _loop.BoundedChannel<long>(Batch);
        _roomy = roomy;
        roomyMessages.Subscribe(new CountingObserver<long>(this));
        var (full, fullMessages) = _loop.BoundedChannel<long>(1);
        _full = full;
        fullMessages.Subscribe(new CountingObserver<long>(this));
        _pipe = BenchSys.Pipe();
        int readFd = _pipe.Read;
        _loop.Fd(readFd, Interest.Read).Subscribe(new ReadingObserver(readFd));
        _idle = () => _count++;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loop.Dispose();
        BenchSys.Close(_pipe.Read);
        BenchSys.Close(_pipe.Write);
    }

    [Benchmark(Description = "fd event")]
    public void FdEvent()
    {
        BenchSys.WriteByte(_pipe.Write);
        _loop.Dispatch(TimeSpan.Zero);
    }

    [Benchmark(Description = "ping")]
    public void PingEvent()
    {
        _ping.Send();
        _loop.Dispatch(TimeSpan.Zero);
    }

    [Benchmark(Description = "channel message", OperationsPerInvoke = Batch)]
    public void ChannelMessage()
    {
        for (int i = 0; i < Batch; i++)
        {
            _sender.Send(i);
        }

        _loop.Dispatch(TimeSpan.Zero);
    }

    [Benchmark(Description = "SendAsync with room", OperationsPerInvoke = Batch)]
    public void SendAsyncWithRoom()
    {
        for (int i = 0; i < Batch; i++)
        {
            // Completes at once: awaiting it would take the synchronous path.
            _roomy.SendAsync(i).GetAwaiter().GetResult();
        }

        _loop.Dispatch(TimeSpan.Zero);
    }

    [Benchmark(Description = "SendAsync that waits")]
    public void SendAsyncThatWaits()
    {
        // The channel holds one message, so the send waits in line; the dispatch delivers, gives the room to the
        // waiter (queuing its message) and completes it; taking the result recycles the waiter.
        _full.TrySend(0);
        ValueTask waiting = _full.SendAsync(1);
        while (!waiting.IsCompleted)
        {
            _loop.Dispatch(TimeSpan.Zero);
        }

        waiting.GetAwaiter().GetResult();
    }

    [Benchmark(Description = "idle callback", OperationsPerInvoke = Batch)]
    public void IdleCallback()
    {
        for (int i = 0; i < Batch; i++)
        {
            _loop.InsertIdle(_idle);
        }

        _loop.Dispatch(TimeSpan.Zero);
    }

    [Benchmark(Description = "empty dispatch")]
    public void EmptyDispatch() => _loop.Dispatch(TimeSpan.Zero);

    private sealed class CountingObserver<T>(DispatchBenchmarks owner) : IObserver<T>
    {
        public void OnNext(T value) => owner._count++;

        public void OnError(Exception error) => throw error;

        public void OnCompleted()
        {
        }
    }

    private sealed class ReadingObserver(int fd) : IObserver<Readiness>
    {
        public void OnNext(Readiness value) => BenchSys.ReadByte(fd);

        public void OnError(Exception error) => throw error;

        public void OnCompleted()
        {
        }
    }
}
