using System.Reactive;
using System.Reactive.Linq;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Loop;

public class SmokeTests
{
    [Fact]
    public void Sources_PingTimerChannelAndFd_Deliver()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var pingObserver = new ContractObserver<Unit>(loop);
        pings.Subscribe(pingObserver);
        ping.Send();
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(pingObserver.Values);

        var timer = new ContractObserver<DateTimeOffset>(loop);
        loop.Timer(TimeSpan.FromMilliseconds(5)).Subscribe(timer);
        loop.DispatchUntil(() => timer.Completed);
        Assert.Single(timer.Values);

        var (sender, messages) = loop.Channel<int>();
        var channel = new ContractObserver<int>(loop);
        messages.Subscribe(channel);
        var producer = new Thread(() =>
        {
            for (int i = 0; i < 5000; i++)
            {
                sender.Send(i);
            }

            sender.Dispose();
        });
        producer.Start();
        loop.DispatchUntil(() => channel.Completed);
        Assert.Equal(Enumerable.Range(0, 5000), channel.Values);

        var (a, b) = TestSys.SocketPair();
        try
        {
            var fd = new ContractObserver<Readiness>(loop, _ => TestSys.Drain(b));
            loop.Fd(b, Interest.Read).Subscribe(fd);
            TestSys.Write(a, "hello"u8);
            loop.DispatchUntil(() => fd.Values.Count > 0);
            Assert.True(fd.Values[0].Readable);
            fd.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }

        pingObserver.AssertClean();
        timer.AssertClean();
        channel.AssertClean();
    }

    [Fact]
    public void RxOperators_VirtualClock_RunDeterministically()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        var values = new List<long>();
        Observable.Interval(TimeSpan.FromSeconds(1), loop.Scheduler).Take(3).Subscribe(values.Add);
        loop.AdvanceBy(TimeSpan.FromSeconds(2.5));
        Assert.Equal([0L, 1L], values);
        loop.AdvanceBy(TimeSpan.FromSeconds(10));
        Assert.Equal([0L, 1L, 2L], values);
    }
}
