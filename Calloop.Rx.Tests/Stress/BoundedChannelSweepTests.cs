using System.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// Bounded channels across every capacity from 1 to past four batch limits: room must come back once messages are
/// delivered, whatever the capacity's relation to the per-dispatch batch limit (1024) and to the refill of the
/// queue's double buffer. The capacities at which the loop stops reading exactly at the end of a buffer (1024,
/// 2048, ...) are where a queue that gives room back only on its next refill, which nothing triggers, would jam for
/// good. An unbounded
/// channel is swept around the same boundaries, where a dispatch must leave the rest queued for the next one.
/// </summary>
public class BoundedChannelSweepTests
{
    private const int MaxCapacity = 4200;

    private static readonly TimeSpan s_sweepPatience = TimeSpan.FromSeconds(4);

    [Fact]
    public void BoundedChannel_CapacitiesUpTo4200_RoomComesBackAfterDelivery()
    {
        using var loop = new EventLoop();
        foreach (int capacity in TrySendCapacities())
        {
            var (sender, messages) = loop.BoundedChannel<int>(capacity);
            var observer = new InOrderObserver(capacity);
            using IDisposable subscription = messages.Subscribe(observer);

            // Two rounds: the second needs the room the first one's delivery gave back.
            for (int round = 0; round < 2; round++)
            {
                for (int i = 0; i < capacity; i++)
                {
                    Assert.Equal(SendResult.Sent, sender.TrySend(observer.Sent++));
                }

                Assert.Equal(SendResult.Full, sender.TrySend(-1));

                // Each dispatch delivers at most min(capacity + 1, 1024) and asks for the next when more is left.
                int dispatches = (capacity / Math.Min(capacity + 1, ChannelSource<int>.BatchLimit)) + 1;
                for (int d = 0; d < dispatches; d++)
                {
                    loop.Dispatch(TimeSpan.Zero);
                }

                Assert.True(observer.Received == observer.Sent, $"capacity {capacity}, round {round}: {observer.Received} of {observer.Sent} delivered after {dispatches} dispatches");
            }

            sender.Dispose();
            loop.Dispatch(TimeSpan.Zero);
            observer.AssertCompleteAndInOrder();
        }
    }

    [Theory]
    [InlineData(1, 1000)]
    [InlineData(1001, 2100)]
    [InlineData(2101, 3000)]
    [InlineData(3001, 3700)]
    [InlineData(3701, MaxCapacity)]
    public void BoundedChannel_BlockedProducerAtEveryCapacity_DeliversAllOnceInOrder(int from, int to)
    {
        // One producer thread works through every capacity in turn with blocking sends of more than twice the
        // capacity, so it blocks at least twice per channel; the test thread dispatches until every channel completed.
        // The range is cut in parts of at most 4.7 million messages; at small capacities the hand-overs between the
        // blocked producer and the loop cost more than the messages, hence a part of its own.
        using var loop = new EventLoop();
        var senders = new BoundedSender<int>[to + 1];
        var observers = new InOrderObserver[to + 1];
        var subscriptions = new List<IDisposable>();
        for (int capacity = from; capacity <= to; capacity++)
        {
            var (sender, messages) = loop.BoundedChannel<int>(capacity);
            senders[capacity] = sender;
            observers[capacity] = new InOrderObserver(capacity) { Sent = (2 * capacity) + 3 };
            subscriptions.Add(messages.Subscribe(observers[capacity]));
        }

        Exception? producerError = null;
        var producer = new Thread(() =>
        {
            try
            {
                for (int capacity = from; capacity <= to; capacity++)
                {
                    for (int i = 0; i < observers[capacity].Sent; i++)
                    {
                        senders[capacity].Send(i);
                    }

                    senders[capacity].Dispose();
                }
            }
            catch (Exception e)
            {
                producerError = e;
            }
        })
        {
            IsBackground = true,
            Name = "capacity sweep producer",
        };
        producer.Start();

        var clock = Stopwatch.StartNew();
        int done = from;
        while (done <= to && clock.Elapsed < s_sweepPatience)
        {
            loop.Dispatch(TimeSpan.FromMilliseconds(50));
            while (done <= to && observers[done].Completed)
            {
                done++;
            }
        }

        // A jammed channel keeps its producer blocked for good; the dispose releases it.
        loop.Dispose();
        Assert.True(producer.Join(s_sweepPatience), "the producer was not released by the loop's disposal");
        Assert.True(done > to, $"stalled at capacity {done}: {observers[Math.Min(done, to)].Received} of {observers[Math.Min(done, to)].Sent} delivered");
        Assert.Null(producerError);
        for (int capacity = from; capacity <= to; capacity++)
        {
            observers[capacity].AssertCompleteAndInOrder();
        }

        subscriptions.ForEach(s => s.Dispose());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(1023)]
    [InlineData(1024)]
    [InlineData(1025)]
    [InlineData(2048)]
    [InlineData(4096)]
    public void BoundedChannel_EightBlockedProducers_EachProducersMessagesArriveExactlyOnceInOrder(int capacity)
    {
        const int Producers = 8;

        // At small capacities every message is a hand-over between a woken producer and the loop: a few hundred per
        // producer are enough there, and at large ones each producer still blocks several times.
        int perProducer = Math.Max(400, 2 * capacity);
        using var loop = new EventLoop();
        var (first, messages) = loop.BoundedChannel<int>(capacity);
        var observer = new PerProducerObserver(Producers);
        using IDisposable subscription = messages.Subscribe(observer);
        var senders = new BoundedSender<int>[Producers];
        senders[0] = first;
        for (int p = 1; p < Producers; p++)
        {
            senders[p] = first.Clone();
        }

        var errors = new Exception?[Producers];
        var threads = new Thread[Producers];
        for (int p = 0; p < Producers; p++)
        {
            int producer = p;
            threads[p] = new Thread(() =>
            {
                try
                {
                    for (int i = 0; i < perProducer; i++)
                    {
                        senders[producer].Send((producer << 24) | i);
                    }

                    senders[producer].Dispose();
                }
                catch (Exception e)
                {
                    errors[producer] = e;
                }
            })
            {
                IsBackground = true,
                Name = $"producer {p}",
            };
            threads[p].Start();
        }

        var clock = Stopwatch.StartNew();
        while (!observer.Completed && clock.Elapsed < s_sweepPatience)
        {
            loop.Dispatch(TimeSpan.FromMilliseconds(50));
        }

        loop.Dispose();
        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(s_sweepPatience), $"{thread.Name} was not released by the loop's disposal");
        }

        Assert.True(observer.Completed, $"capacity {capacity}: stalled with {observer.Total} of {Producers * perProducer} delivered");
        Assert.All(errors, Assert.Null);
        Assert.Null(observer.Violation);
        Assert.All(observer.Next, next => Assert.Equal(perProducer, next));
    }

    [Fact]
    public void Channel_AroundBatchLimitMultiples_DeliversOneBatchPerDispatchWithoutWaiting()
    {
        using var loop = new EventLoop();
        int batch = ChannelSource<int>.BatchLimit;
        int[] counts = [1, batch - 1, batch, batch + 1, (2 * batch) - 1, 2 * batch, (2 * batch) + 1, (3 * batch) + 5];
        foreach (int count in counts)
        {
            var (sender, messages) = loop.Channel<int>();
            var observer = new InOrderObserver(count) { Sent = count };
            using IDisposable subscription = messages.Subscribe(observer);
            for (int i = 0; i < count; i++)
            {
                sender.Send(i);
            }

            sender.Dispose();
            for (int delivered = 0; delivered < count;)
            {
                // A long timeout: a dispatch that left messages behind must have queued the source again, or this waits in vain.
                loop.Dispatch(LoopExtensions.Patience);
                Assert.Equal(Math.Min(count, delivered + batch), observer.Received);
                delivered = observer.Received;
            }

            // The completion comes with the last batch: every sender is gone and the queue is empty.
            observer.AssertCompleteAndInOrder();
        }
    }

    /// <summary>
    /// Every capacity up to just past the batch limit, those around each multiple of it, and a stride between: the
    /// blocked-producer sweep covers every capacity, this one spares the test thread filling each channel twice.
    /// </summary>
    private static IEnumerable<int> TrySendCapacities() =>
        Enumerable.Range(1, MaxCapacity)
            .Where(c => c <= ChannelSource<int>.BatchLimit + 64 || c % 7 == 0 || Math.Abs(((c + 2) % ChannelSource<int>.BatchLimit) - 2) <= 2);

    /// <summary>Checks that a channel delivers 0, 1, 2, ... and then completes.</summary>
    private sealed class InOrderObserver(int capacity) : IObserver<int>
    {
        public int Sent { get; set; }

        public int Received { get; private set; }

        public bool Completed { get; private set; }

        private string? Violation { get; set; }

        public void OnNext(int value)
        {
            if (value != Received || Completed)
            {
                Violation ??= $"capacity {capacity}: got {value} where {Received} was due (completed: {Completed})";
            }

            Received++;
        }

        public void OnError(Exception error) => Violation ??= $"capacity {capacity}: OnError {error}";

        public void OnCompleted() => Completed = true;

        public void AssertCompleteAndInOrder()
        {
            Assert.Null(Violation);
            Assert.True(Completed, $"capacity {capacity}: not completed");
            Assert.True(Received == Sent, $"capacity {capacity}: {Received} of {Sent} delivered");
        }
    }

    /// <summary>Checks that each producer's messages (producer &lt;&lt; 24 | sequence) arrive once each, in its order.</summary>
    private sealed class PerProducerObserver(int producers) : IObserver<int>
    {
        public int[] Next { get; } = new int[producers];

        public int Total { get; private set; }

        public bool Completed { get; private set; }

        public string? Violation { get; private set; }

        public void OnNext(int value)
        {
            int producer = value >> 24;
            int sequence = value & 0xFFFFFF;
            if (Next[producer] != sequence)
            {
                Violation ??= $"producer {producer}: got {sequence} where {Next[producer]} was due";
            }

            Next[producer] = sequence + 1;
            Total++;
        }

        public void OnError(Exception error) => Violation ??= $"OnError {error}";

        public void OnCompleted() => Completed = true;
    }
}
