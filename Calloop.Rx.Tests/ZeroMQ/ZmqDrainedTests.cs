using System.Threading.Channels;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// <see cref="ZmqSender.WhenDrainedAsync"/>: one awaitable for "everything queued was handed to libzmq", instead of
/// polling a count. A PUSH without a peer is the socket that takes nothing until a peer appears.
/// </summary>
public class ZmqDrainedTests
{
    [Fact]
    public void WhenDrainedAsync_WithNothingPending_IsAlreadyComplete()
    {
        using var bed = new ZmqTestBed();
        var (sender, _, observer) = bed.Start(bed.Socket(ZmqSocketType.Push));
        Assert.Equal(0, sender.Pending);
        Assert.True(sender.WhenDrainedAsync().IsCompletedSuccessfully);
        observer.AssertClean();
    }

    [Fact]
    public void WhenDrainedAsync_CompletesOnceLibzmqTookEveryMessage()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        var (sender, source, observer) = bed.Start(push);
        for (int i = 0; i < 3; i++)
        {
            sender.Send(Frames.Int(i));
        }

        Task drained = sender.Clone().WhenDrainedAsync();
        for (int i = 0; i < 5; i++)
        {
            bed.Loop.Dispatch(TimeSpan.Zero);
        }

        Assert.False(drained.IsCompleted);
        Assert.Equal(3, sender.Pending);

        var pull = bed.Socket(ZmqSocketType.Pull);
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));
        source.Update();
        bed.Loop.DispatchUntil(() => drained.IsCompleted, "the outbox to drain");
        Assert.True(drained.IsCompletedSuccessfully);
        Assert.Equal(0, sender.Pending);
        var received = new List<int>();
        bed.Loop.DispatchUntil(() => ZmqTestBed.ReceiveInts(pull, received) == 3, "the drained messages");
        observer.AssertClean();
    }

    [Fact]
    public async Task WhenDrainedAsync_WhenTheSourceEndsFirst_FailsWithChannelClosed()
    {
        using var bed = new ZmqTestBed();
        var (sender, source, observer) = bed.Start(bed.Socket(ZmqSocketType.Push));
        sender.Send(Frames.Int(1));
        Task drained = sender.WhenDrainedAsync();
        source.Remove();
        await Assert.ThrowsAsync<ChannelClosedException>(() => drained.WaitAsync(LoopExtensions.Patience));

        // Asked after the end, with the dropped message still counted: the same answer.
        await Assert.ThrowsAsync<ChannelClosedException>(() => sender.WhenDrainedAsync().WaitAsync(LoopExtensions.Patience));
        bed.Loop.DispatchUntil(() => observer.Completed, "OnCompleted");
        observer.AssertClean();
    }

    [Fact]
    public async Task WhenDrainedAsync_Cancelled_StopsWaitingAndKeepsTheMessages()
    {
        using var bed = new ZmqTestBed();
        var (sender, _, observer) = bed.Start(bed.Socket(ZmqSocketType.Push));
        sender.Send(Frames.Int(1));
        using var cancellation = new CancellationTokenSource();
        Task drained = sender.WhenDrainedAsync(cancellation.Token);
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => drained.WaitAsync(LoopExtensions.Patience));
        Assert.Equal(1, sender.Pending);
        observer.AssertClean();
    }
}
