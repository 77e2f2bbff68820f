using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// A PUSH or PUB has nothing to receive, so nobody subscribes to its source: it must send anyway. It registers at
/// creation and stays registered until it ends.
/// </summary>
public class ZmqSendOnlyTests
{
    [Fact]
    public void Push_WithoutASubscriber_SendsItsMessages()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        var (sender, source) = ZmqSource.Create(bed.Loop, push);
        for (int i = 0; i < 3; i++)
        {
            sender.Send(Frames.Int(i));
        }

        var received = new List<int>();
        bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(pull, received) == 3, "the messages of a source nobody subscribed to");
        Assert.Equal([0, 1, 2], received);
        Assert.True(source.IsActive);
    }

    [Fact]
    public void Pub_WithoutASubscriber_SendsItsMessages()
    {
        using var bed = new ZmqTestBed();
        var pub = bed.Socket(ZmqSocketType.Pub);
        var sub = bed.Socket(ZmqSocketType.Sub);
        sub.Subscribe(string.Empty);
        sub.Connect(bed.Bind(pub, ZmqTestBed.Inproc));
        var (sender, _) = ZmqSource.Create(bed.Loop, pub);

        // A PUB drops what it sends before the subscription reached it: publish until one message arrives.
        int published = 0;
        bed.Loop.DispatchUntil(
            () =>
            {
                if (sub.TryReceiveMultipart(out _))
                {
                    return true;
                }

                sender.Send(Frames.Int(published++));
                return false;
            },
            "a bulletin from a source nobody subscribed to");
    }

    [Fact]
    public void Push_WhenALaterSubscriberLeaves_KeepsSending()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        var push = bed.Socket(ZmqSocketType.Push);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        var (sender, source) = ZmqSource.Create(bed.Loop, push);
        var observer = new ContractObserver<byte[][]>(bed.Loop);
        source.Subscribe(observer).Dispose();

        sender.Send(Frames.Int(7));
        var received = new List<int>();
        bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(pull, received) == 1, "the message sent after the subscriber left");
        Assert.Equal([7], received);
        Assert.Empty(observer.Notifications);
    }

    [Fact]
    public void Push_WhenRemoved_CompletesItsSubscribersAndClosesTheSocket()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, source, observer) = bed.Start(push);
        source.Remove();
        bed.Loop.DispatchUntil(() => observer.Completed, "OnCompleted");
        Assert.True(push.IsClosed);
        Assert.Equal(SendResult.Closed, sender.TrySend(Frames.Int(1)));
        observer.AssertClean();
    }
}
