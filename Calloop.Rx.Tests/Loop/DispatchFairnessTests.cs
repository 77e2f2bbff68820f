namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// Many busy channels cannot hold a due timer back for long: a dispatch spends a bounded time on signalled sources,
/// then runs what is due, and delivers the rest in the next dispatch (which does not wait), first come first served.
/// </summary>
public class DispatchFairnessTests
{
    [Fact]
    public void Dispatch_ManyFullChannelsAndADueTimer_FiresTheTimerEarlyAndLosesNoMessage()
    {
        // 40 channels of 1,024 messages, each message costing the observer some work: one dispatch delivering them
        // all would take tens of milliseconds, during which the due timer waits. Before the budget it fired last.
        const int Channels = 40;
        const int PerChannel = 1024;
        using var loop = new EventLoop();
        var order = new List<string>();
        var received = new int[Channels];
        var subscriptions = new List<IDisposable>();
        for (int c = 0; c < Channels; c++)
        {
            int channel = c;
            var (sender, source) = loop.Channel<int>();
            subscriptions.Add(source.Subscribe(value =>
            {
                Assert.Equal(received[channel], value);
                if (received[channel]++ == 0)
                {
                    order.Add($"channel {channel}");
                }

                Thread.SpinWait(100);
            }));
            for (int i = 0; i < PerChannel; i++)
            {
                sender.Send(i);
            }
        }

        subscriptions.Add(loop.Timer(TimeSpan.Zero).Subscribe(_ => order.Add("timer")));

        var deadline = DateTime.UtcNow.AddSeconds(4);
        while (received.Any(r => r < PerChannel))
        {
            Assert.True(DateTime.UtcNow < deadline, "the channels were not drained");
            loop.Dispatch(TimeSpan.FromSeconds(1));
        }

        int timer = order.IndexOf("timer");
        Assert.InRange(timer, 0, Channels - 1);
        Assert.All(received, count => Assert.Equal(PerChannel, count));

        // First come, first served: the channels deferred by the timer's turn went first in the next dispatch.
        Assert.Equal(Enumerable.Range(0, Channels).Select(c => $"channel {c}"), order.Where(e => e != "timer"));
        subscriptions.ForEach(s => s.Dispose());
    }

    [Fact]
    public void ChannelsDeferredByTheTimeBudget_WhileProducersKeepSending_DeliverEveryMessageOnceInOrder()
    {
        // Producers on other threads signal channels that a budget-limited dispatch left queued: a deferred source
        // must be neither lost nor queued twice (its flag stays set while it waits in the loop's batch).
        const int Channels = 48;
        const int PerChannel = 3000;
        using var loop = new EventLoop();
        var received = new int[Channels];
        var senders = new Sender<int>[Channels];
        var subscriptions = new List<IDisposable>();
        for (int c = 0; c < Channels; c++)
        {
            int channel = c;
            (senders[c], var source) = loop.Channel<int>();
            subscriptions.Add(source.Subscribe(value =>
            {
                Assert.Equal(received[channel]++, value);
                Thread.SpinWait(20);
            }));
        }

        var producers = Enumerable.Range(0, 3).Select(p => new Thread(() =>
        {
            for (int i = 0; i < PerChannel; i++)
            {
                for (int c = p; c < Channels; c += 3)
                {
                    senders[c].Send(i);
                }
            }
        })).ToList();
        producers.ForEach(t => t.Start());

        var deadline = DateTime.UtcNow.AddSeconds(4);
        while (received.Any(r => r < PerChannel))
        {
            Assert.True(DateTime.UtcNow < deadline, $"undelivered: {Channels * PerChannel - received.Sum()} messages");
            loop.Dispatch(TimeSpan.FromSeconds(1));
        }

        producers.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(4))));
        loop.Dispatch(TimeSpan.Zero);
        Assert.All(received, count => Assert.Equal(PerChannel, count));
        subscriptions.ForEach(s => s.Dispose());
    }
}
