using System.Reactive;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Calloop.Rx.Benchmarks.Interop;

namespace Calloop.Rx.Benchmarks.Micro;

/// <summary>Registering and unregistering each kind of source: Subscribe then dispose the subscription.</summary>
[MemoryDiagnoser]
public class SubscribeBenchmarks
{
    private static readonly IObserver<Readiness> s_readiness = Observer.Create<Readiness>(_ => { });
    private static readonly IObserver<Unit> s_unit = Observer.Create<Unit>(_ => { });
    private static readonly IObserver<long> s_long = Observer.Create<long>(_ => { });
    private static readonly IObserver<DateTimeOffset> s_time = Observer.Create<DateTimeOffset>(_ => { });
    private static readonly IObserver<SignalEvent> s_signal = Observer.Create<SignalEvent>(_ => { });
    private EventLoop _loop = null!;
    private FdSource _fd = null!;
    private PingSource _ping = null!;
    private ChannelSource<long> _channel = null!;
    private SignalSource _signals = null!;
    private (int Read, int Write) _pipe;

    [GlobalSetup]
    public void Setup()
    {
        _loop = new EventLoop();
        _pipe = BenchSys.Pipe();
        _fd = _loop.Fd(_pipe.Read);
        _ping = _loop.Ping().Source;
        _channel = _loop.Channel<long>().Source;
        _signals = _loop.Signals(PosixSignal.SIGWINCH);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loop.Dispose();
        BenchSys.Close(_pipe.Read);
        BenchSys.Close(_pipe.Write);
    }

    [Benchmark(Description = "fd")]
    public void Fd() => _fd.Subscribe(s_readiness).Dispose();

    [Benchmark(Description = "ping")]
    public void Ping() => _ping.Subscribe(s_unit).Dispose();

    [Benchmark(Description = "channel")]
    public void Channel() => _channel.Subscribe(s_long).Dispose();

    [Benchmark(Description = "timer (create + subscribe + dispose)")]
    public void Timer() => _loop.Timer(TimeSpan.FromMinutes(10)).Subscribe(s_time).Dispose();

    [Benchmark(Description = "signals")]
    public void Signals() => _signals.Subscribe(s_signal).Dispose();
}
