using System.Reactive;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Sources.Core;

/// <summary>
/// <see cref="SubscriberList{T}"/>: broadcast in subscription order to one subscriber or an array of them, any one of
/// which can leave, with nothing allocated per delivered event.
/// </summary>
public class SubscriberListTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void RemovingOneOfThreeSubscribers_KeepsTheOthersInSubscriptionOrder(int leaving)
    {
        using var loop = new EventLoop();
        var (ping, source) = loop.Ping();
        var heard = new List<string>();
        string[] names = ["first", "second", "third"];
        IDisposable[] subscriptions = [.. names.Select(name => source.Subscribe(_ => heard.Add(name)))];

        subscriptions[leaving].Dispose();
        ping.Send();
        loop.DispatchUntil(() => heard.Count == 2, "the ping");

        Assert.Equal(names.Where((_, i) => i != leaving), heard);
        Assert.True(source.IsActive);
        foreach (IDisposable subscription in subscriptions)
        {
            subscription.Dispose();
        }

        Assert.False(source.IsActive);
        ping.Dispose();
    }

    [Fact]
    public void TheLastOfTwoSubscribers_IsTheOnlyOneLeft_AndItsLeavingUnregisters()
    {
        using var loop = new EventLoop();
        var (ping, source) = loop.Ping();
        var heard = new List<string>();
        IDisposable first = source.Subscribe(_ => heard.Add("first"));
        IDisposable second = source.Subscribe(_ => heard.Add("second"));

        first.Dispose();
        first.Dispose();
        ping.Send();
        loop.DispatchUntil(() => heard.Count == 1, "the ping");
        Assert.Equal(["second"], heard);

        second.Dispose();
        Assert.False(source.IsActive);
        Assert.False(source.IsTerminated);
        using IDisposable third = source.Subscribe(_ => heard.Add("third"));
        ping.Send();
        loop.DispatchUntil(() => heard.Count == 2, "the ping after subscribing again");
        Assert.Equal(["second", "third"], heard);
        ping.Dispose();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void Delivery_ToOneOrEightSubscribers_AllocatesNothingPerEvent(int subscribers)
    {
        using var loop = new EventLoop();
        var (ping, source) = loop.Ping();
        var counter = new CountingObserver();
        var subscriptions = Enumerable.Range(0, subscribers).Select(_ => source.Subscribe(counter)).ToList();

        long allocated = AllocationWindows.LeastPerWindow(_ =>
        {
            ping.Send();
            loop.Dispatch(TimeSpan.Zero);
        });

        Assert.Equal(3100L * subscribers, counter.Count);
        Assert.True(allocated == 0, $"1000 pings to {subscribers} subscriber(s) allocated {allocated} bytes");
        subscriptions.ForEach(subscription => subscription.Dispose());
        ping.Dispose();
    }

    /// <summary>Counts values; allocates nothing, unlike a lambda observer's closure over a list.</summary>
    private sealed class CountingObserver : IObserver<Unit>
    {
        public long Count { get; private set; }

        public void OnNext(Unit value) => Count++;

        public void OnError(Exception error) => throw error;

        public void OnCompleted()
        {
        }
    }
}
