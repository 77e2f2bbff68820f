using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// Nothing hangs on the way out: linger 0 on every socket, whatever is pending (in the outbox, in libzmq's queues)
/// is dropped, as documented on <see cref="ZmqSource"/>.
/// </summary>
public class ZmqShutdownTests
{
    [Fact]
    public void Dispose_LoopAndContextWithAFullPeerlessPush_Returns()
    {
        var context = new ZmqContext();
        var loop = new EventLoop();
        var push = new ZmqSocket(context, ZmqSocketType.Push);
        push.Linger = Timeout.InfiniteTimeSpan;
        push.SendHighWaterMark = 10;
        push.Connect("tcp://127.0.0.1:1");
        var (sender, source) = ZmqSource.Create(loop, push);
        var observer = new ContractObserver<byte[][]>(loop);
        source.Subscribe(observer);
        for (int i = 0; i < 1000; i++)
        {
            sender.Send(Frames.Int(i));
        }

        // libzmq takes up to the high-water mark into the connect-side pipe; the rest waits in the outbox.
        loop.DispatchUntil(() => sender.Pending < 1000, "libzmq taking messages up to its high-water mark");
        loop.Dispatch(TimeSpan.Zero);
        Assert.InRange(sender.Pending, 1, 999);

        var closing = PeerThread.Start("closing", () =>
        {
            loop.Dispose();
            context.Dispose();
        });

        closing.Join();
        Assert.True(observer.Completed);
        Assert.True(push.IsClosed);
        Assert.True(context.IsClosed);
        observer.AssertClean();
    }

    [Fact]
    public void Remove_WithPendingMessages_ReturnsAndTheContextTerminates()
    {
        var context = new ZmqContext();
        using var loop = new EventLoop();
        var push = new ZmqSocket(context, ZmqSocketType.Push);
        push.Connect("tcp://127.0.0.1:1");
        var (sender, source) = ZmqSource.Create(loop, push);
        var observer = new ContractObserver<byte[][]>(loop);
        using var subscription = source.Subscribe(observer);
        for (int i = 0; i < 100; i++)
        {
            sender.Send(Frames.Int(i));
        }

        loop.Dispatch(TimeSpan.Zero);
        source.Remove();
        var terminating = PeerThread.Start("terminating", context.Dispose);

        terminating.Join();
        loop.DispatchUntil(() => observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Context_DisposedBeforeTheLoop_WaitsForNothing()
    {
        // Sockets keep their context alive: disposing it first only defers zmq_ctx_term to the last socket's close.
        var context = new ZmqContext();
        var loop = new EventLoop();
        var pull = new ZmqSocket(context, ZmqSocketType.Pull);
        pull.Bind("inproc://context-first");
        var (_, source) = ZmqSource.Create(loop, pull);
        var observer = new ContractObserver<byte[][]>(loop);
        source.Subscribe(observer);
        loop.Dispatch(TimeSpan.Zero);

        context.Dispose();
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(source.IsActive);
        var closing = PeerThread.Start("closing", loop.Dispose);

        closing.Join();
        Assert.True(observer.Completed);
        observer.AssertClean();
    }
}
