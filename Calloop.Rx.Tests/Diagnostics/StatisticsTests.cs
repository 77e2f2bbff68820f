using System.Diagnostics;
using Calloop.Rx.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Diagnostics;

/// <summary>
/// Sampled statistics: per source (events, coalesced pings, queue depth, callback time, last event) and per loop
/// (iterations, waiting against working, events per iteration), on the loop thread at the chosen interval.
/// </summary>
public class StatisticsTests
{
    [Fact]
    public void Sample_CountsEventsCoalescedPingsQueueDepthAndCallbackTime()
    {
        using var loop = new EventLoop();
        var samples = new List<LoopStatistics>();
        using var statistics = loop.Diagnostics.Sample(TimeSpan.FromMilliseconds(20)).Subscribe(samples.Add);
        var (ping, pingSource) = loop.Ping();
        using var pings = pingSource.Subscribe(_ => Burn(TimeSpan.FromMilliseconds(2)));
        var (sender, channel) = loop.Channel<int>();
        int received = 0;
        using var messages = channel.Subscribe(_ => received++);

        ping.Send();
        ping.Send();
        ping.Send();
        for (int i = 0; i < 5; i++)
        {
            sender.Send(i);
        }

        loop.DispatchUntil(() => received == 5, "the messages");
        channel.Disable();
        sender.Send(5);
        sender.Send(6);
        int seen = samples.Count;
        loop.DispatchUntil(() => samples.Count > seen, "a sample after the events");

        LoopStatistics sample = samples[^1];
        SourceStatistics pingRow = Assert.Single(sample.Sources, row => row.Kind == SourceKind.Ping);
        Assert.Equal(1, pingRow.EventsDelivered);
        Assert.Equal(2, pingRow.PingsCoalesced);
        Assert.Equal(1, pingRow.CallbackCount);
        Assert.True(pingRow.CallbackMax >= TimeSpan.FromMilliseconds(2), $"callback max {pingRow.CallbackMax}");
        Assert.Equal(pingRow.CallbackMax, pingRow.CallbackMean);
        Assert.NotNull(pingRow.LastEventAt);

        SourceStatistics channelRow = Assert.Single(sample.Sources, row => row.Kind == SourceKind.Channel);
        Assert.Equal(5, channelRow.EventsDelivered);
        Assert.Equal(2, channelRow.QueueDepth);
        Assert.Equal(0, channelRow.PingsCoalesced);

        Assert.True(sample.Iterations >= 1);
        Assert.True(sample.EventsDelivered >= 2);
        Assert.True(sample.WorkTime >= TimeSpan.FromMilliseconds(2), $"work {sample.WorkTime}");
        Assert.True(sample.WaitTime > TimeSpan.Zero);
        Assert.Equal((double)sample.EventsDelivered / sample.Iterations, sample.EventsPerIteration);
    }

    [Fact]
    public void Sample_IsCumulativeWhileObserved_AndStartsAgainAfterTheLastObserverLeaves()
    {
        using var loop = new EventLoop();
        var (sender, channel) = loop.Channel<int>();
        int received = 0;
        using var messages = channel.Subscribe(_ => received++);
        var samples = new List<LoopStatistics>();
        using (loop.Diagnostics.Sample(TimeSpan.FromMilliseconds(10)).Subscribe(samples.Add))
        {
            sender.Send(1);
            loop.DispatchUntil(() => samples.Any(s => s.Sources.Any(row => row.EventsDelivered == 1)), "a sample with the message");
        }

        // Unobserved: nothing recorded.
        sender.Send(2);
        loop.DispatchUntil(() => received == 2, "the unobserved message");

        samples.Clear();
        using (loop.Diagnostics.Sample(TimeSpan.FromMilliseconds(10)).Subscribe(samples.Add))
        {
            loop.DispatchUntil(() => samples.Count > 0, "a sample");
        }

        Assert.Equal(0, Assert.Single(samples[0].Sources, row => row.Kind == SourceKind.Channel).EventsDelivered);
    }

    [Fact]
    public void Sample_CompletesWhenTheLoopIsDisposed_AndRejectsANonPositiveInterval()
    {
        var loop = new EventLoop();
        using var completed = new ManualResetEventSlim();
        using var statistics = loop.Diagnostics.Sample(TimeSpan.FromSeconds(1)).Subscribe(_ => { }, completed.Set);
        loop.Dispose();
        Assert.True(completed.Wait(LoopExtensions.Patience));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Diagnostics.Sample(TimeSpan.Zero));
    }

    [Fact]
    public void Sample_CountsLiveTimers_AndTimerEvents()
    {
        using var loop = new EventLoop();
        var samples = new List<LoopStatistics>();
        using var statistics = loop.Diagnostics.Sample(TimeSpan.FromMilliseconds(10)).Subscribe(samples.Add);
        using var far = loop.Timer(TimeSpan.FromMinutes(1)).Subscribe();
        bool fired = false;
        using var near = loop.Timer(TimeSpan.FromMilliseconds(1)).Subscribe(_ => fired = true);
        loop.DispatchUntil(() => fired, "the near timer");
        int seen = samples.Count;
        loop.DispatchUntil(() => samples.Count > seen, "a sample after it");

        LoopStatistics sample = samples[^1];

        // The far timer; the sampling's own periodic action is running, so not pending.
        Assert.Equal(1, sample.LiveTimers);
        Assert.Equal(0, Assert.Single(sample.Sources, row => row.Kind == SourceKind.Timer).EventsDelivered);
    }

    /// <summary>Keeps the loop thread busy, as a slow callback does (measured, not slept).</summary>
    private static void Burn(TimeSpan duration)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            Thread.SpinWait(100);
        }
    }
}
