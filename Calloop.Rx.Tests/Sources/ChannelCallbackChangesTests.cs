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
    public void Disable_inside_a_message_callback_holds_back_the_rest_of_the_batch()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var observer = new ContractObserver<int>(loop, value =>
        {
            if (value == 2)
            {
                messages.Disable();
            }
        });
        using IDisposable subscription = messages.Subscribe(observer);
        sender.Send(1);
        sender.Send(2);
        sender.Send(3);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([1, 2], observer.Values);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([1, 2], observer.Values);

        messages.Enable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([1, 2, 3], observer.Values);
        sender.Dispose();
        observer.AssertClean();
    }

    [Fact]
    public void Remove_inside_a_message_callback_delivers_nothing_after_it()
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
