using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Sources;

/// <summary>
/// A channel delivers a batch of messages per event; Disable or Remove called from one message's callback must
/// still stop the batch right after that message, as the contract says for every source ("takes effect when the
/// callback returns", "nothing after it").
/// </summary>
public class ChannelCallbackChangesTests
{
    [Fact]
    public void Disable_InsideAMessageCallback_HoldsBackTheRestOfTheBatch()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var received = new List<int>();
        using IDisposable subscription = messages.Subscribe(value =>
        {
            received.Add(value);
            if (value == 2)
            {
                messages.Disable();
            }
        });
        sender.Send(1);
        sender.Send(2);
        sender.Send(3);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([1, 2], received);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([1, 2], received);

        messages.Enable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([1, 2, 3], received);
        sender.Dispose();
    }

    [Fact]
    public void Disable_InLastCallbackOfAClosedChannel_HoldsBackOnCompletedUntilEnable()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var observer = new ContractObserver<int>(loop, _ => messages.Disable());
        using IDisposable subscription = messages.Subscribe(observer);
        sender.Send(1);
        sender.Dispose();

        loop.Dispatch(TimeSpan.Zero);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([1], observer.Values);
        Assert.False(observer.Completed);

        messages.Enable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Disable_InLastCallbackOfAPingWithoutSenders_HoldsBackOnCompletedUntilEnable()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<System.Reactive.Unit>(loop, _ => pings.Disable());
        using IDisposable subscription = pings.Subscribe(observer);
        ping.Send();
        ping.Dispose();

        loop.Dispatch(TimeSpan.Zero);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);
        Assert.False(observer.Completed);

        pings.Enable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Remove_InsideAMessageCallback_DeliversNothingAfterIt()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var observer = new ContractObserver<int>(loop, value =>
        {
            if (value == 2)
            {
                messages.Remove();
            }
        });
        using IDisposable subscription = messages.Subscribe(observer);
        sender.Send(1);
        sender.Send(2);
        sender.Send(3);

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal([1, 2], observer.Values);
        Assert.True(observer.Completed);
        Assert.Equal(SendResult.Closed, sender.TrySend(4));
        observer.AssertClean();
    }
}
