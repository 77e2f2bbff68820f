using System.Reactive;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// Subscribe and subscription disposal from other threads while the loop delivers: a steady subscriber loses
/// nothing, churned subscribers see gap-free runs, no delivery starts after a disposal returned, and a source
/// ending while others subscribe gives each subscriber exactly one terminal notification.
/// </summary>
public class SubscriptionRaceTests
{
    [Fact]
    public void SteadySubscriberGetsEverything_ChurnedSubscribersSeeGapFreeRuns_WhileOtherThreadsSubscribeAndDispose()
    {
        int messages = StressSettings.Scaled(20_000);
        using var loop = new EventLoop();
        var (sender, source) = loop.Channel<int>();
        var steady = new ContractObserver<int>(loop);
        source.Subscribe(steady);
        bool completed = false;
        source.Subscribe(_ => { }, () => completed = true);
        var churned = new System.Collections.Concurrent.ConcurrentBag<ContractObserver<int>>();
        int stop = 0;
        RaceThread[] churners = [.. Enumerable.Range(0, 2).Select(c => RaceThread.Start($"churner {c}", () =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                var observer = new ContractObserver<int>(loop);
                churned.Add(observer);
                source.Subscribe(observer).Dispose();
                source.Subscribe(observer.OnNext, () => { }).Dispose();
            }
        }))];
        RaceThread producer = RaceThread.Start("producer", () =>
        {
            for (int i = 0; i < messages; i++)
            {
                Assert.Equal(SendResult.Sent, sender.TrySend(i));
            }

            sender.Dispose();
        });

        // The threads are joined before the outcome is asserted, so that what a producer or churner threw is what fails.
        Exception? timedOut = Record.Exception(() => loop.DispatchUntil(() => completed, "every message and the completion"));
        Volatile.Write(ref stop, 1);
        producer.Join();
        foreach (RaceThread churner in churners)
        {
            churner.Join();
        }

        Assert.True(timedOut is null, $"{timedOut?.Message}; at the end the steady subscriber had {steady.Values.Count} of {messages}");
        steady.AssertClean();
        Assert.True(steady.Values.SequenceEqual(Enumerable.Range(0, messages)), $"the steady subscriber got {steady.Values.Count} of {messages} messages, or out of order");
        Assert.True(churned.Count > 10, "the churners barely ran");
        foreach (ContractObserver<int> observer in churned)
        {
            observer.AssertClean();
            IReadOnlyList<int> values = observer.Values;
            Assert.True(values.Zip(values.Skip(1)).All(p => p.Second == p.First + 1), "a churned subscriber missed a message delivered while it was subscribed");
        }
    }

    [Fact]
    public void SubscriptionDisposedFromAnotherThread_NoDispatchStartedAfterDisposeReturnedDeliversToIt()
    {
        RaceTrials.Run(maxTrials: 300, ciSeconds: 2, trial =>
        {
            using var loop = new EventLoop();
            var (ping, source) = loop.Ping();

            // The doc allows a delivery already under way to finish after Dispose returns, so the check is on
            // dispatches: one numbered above the count read after Dispose returned began after it, and must not deliver.
            long dispatches = 0;
            long returnedAt = long.MaxValue;
            int lateDeliveries = 0;
            using var delivered = new ManualResetEventSlim();
            IDisposable subscription = source.Subscribe(_ =>
            {
                if (Volatile.Read(ref dispatches) > Volatile.Read(ref returnedAt))
                {
                    Interlocked.Increment(ref lateDeliveries);
                }

                delivered.Set();
            });
            int stop = 0;
            RaceThread dispatcher = RaceThread.Start("dispatcher", () =>
            {
                while (Volatile.Read(ref stop) == 0)
                {
                    ping.Send();
                    Interlocked.Increment(ref dispatches);
                    loop.Dispatch(TimeSpan.Zero);
                }
            });

            try
            {
                Assert.True(delivered.Wait(LoopExtensions.Patience), "no ping was delivered");
                Thread.SpinWait(trial % 17 * 40);
                subscription.Dispose();
                long seen = Volatile.Read(ref dispatches);
                Volatile.Write(ref returnedAt, seen);

                // Let the dispatcher run a few more dispatches, each of which would be late for the disposed subscription.
                Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref dispatches) > seen + 3, LoopExtensions.Patience), "the dispatcher stalled");
            }
            finally
            {
                Volatile.Write(ref stop, 1);
            }

            dispatcher.Join();
            Assert.Equal(0, lateDeliveries);
            Assert.False(source.IsActive);
            ping.Dispose();
        });
    }

    [Fact]
    public void SourceEndingWhileOtherThreadsSubscribe_EverySubscriberGetsExactlyOneOnCompleted()
    {
        RaceTrials.Run(maxTrials: 300, ciSeconds: 2.5, trial =>
        {
            using var loop = new EventLoop();
            var (ping, source) = loop.Ping();
            var observers = new System.Collections.Concurrent.ConcurrentBag<CountingObserver<Unit>>();
            using var start = new Barrier(3);
            RaceThread[] subscribers = [.. Enumerable.Range(0, 2).Select(s => RaceThread.Start($"subscriber {s}", () =>
            {
                start.SignalAndWait(LoopExtensions.Patience);
                for (int i = 0; i < 20; i++)
                {
                    var observer = new CountingObserver<Unit>($"subscriber {s}.{i}");
                    observers.Add(observer);
                    source.Subscribe(observer);
                }
            }))];

            start.SignalAndWait(LoopExtensions.Patience);
            ping.Send();
            if (trial % 2 == 0)
            {
                ping.Dispose();
            }
            else
            {
                source.Remove();
            }

            foreach (RaceThread subscriber in subscribers)
            {
                subscriber.Join();
            }

            loop.DispatchUntil(() => observers.All(o => o.Ended), "a terminal notification for every subscriber");
            loop.Dispatch(TimeSpan.Zero);
            foreach (CountingObserver<Unit> observer in observers)
            {
                observer.AssertCompletedOnce();
            }

            ping.Dispose();
        });
    }
}
