using System.Threading.Channels;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// Senders on other threads racing the loop: exactly-once, per-sender ordered delivery under contention, blocked
/// senders released when the receiving side goes away, and no Sent once loop disposal has returned.
/// </summary>
public class SenderRaceTests
{
    private const int Producers = 3;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1024)]
    public void BlockingSendersAndADispatcher_DeliverEveryMessageExactlyOnceInOrder_ThenComplete(int capacity)
    {
        int perProducer = StressSettings.Scaled(capacity == 1 ? 5_000 : 20_000);
        using var loop = new EventLoop();
        var (sender, source) = loop.BoundedChannel<int>(capacity);
        var received = new List<int>[Producers];
        for (int p = 0; p < Producers; p++)
        {
            received[p] = [];
        }

        bool completed = false;
        source.Subscribe(v => received[v / 10_000_000].Add(v % 10_000_000), () => completed = true);
        BoundedSender<int>[] senders = [sender, .. Enumerable.Range(1, Producers - 1).Select(_ => sender.Clone())];
        RaceThread[] producers = [.. senders.Select((s, p) => RaceThread.Start($"producer {p}", () =>
        {
            for (int i = 0; i < perProducer; i++)
            {
                s.Send((p * 10_000_000) + i);
            }

            s.Dispose();
        }))];

        loop.DispatchUntil(() => completed, "every message and the completion");

        foreach (RaceThread producer in producers)
        {
            producer.Join();
        }

        for (int p = 0; p < Producers; p++)
        {
            Assert.True(received[p].SequenceEqual(Enumerable.Range(0, perProducer)), $"producer {p}: {received[p].Count} of {perProducer} delivered, or out of order");
        }
    }

    [Fact]
    public void LastSenderDisposedRightAfterItsLastSend_EverythingIsDeliveredThenOneCompletion()
    {
        RaceTrials.Run(maxTrials: 300, ciSeconds: 2, trial =>
        {
            using var loop = new EventLoop();
            var (sender, source) = loop.Channel<int>();
            Sender<int> clone = sender.Clone();
            var values = new List<int>();
            var observer = new ContractObserver<int>(loop, values.Add);
            source.Subscribe(observer);
            int count = 1 + (trial % 50);
            RaceThread first = RaceThread.Start("first sender", () => SendAndDispose(sender, 0, count));
            RaceThread second = RaceThread.Start("second sender", () => SendAndDispose(clone, 1_000, count));

            loop.DispatchUntil(() => observer.Completed, "the completion after both senders are gone");
            first.Join();
            second.Join();

            observer.AssertClean();
            Assert.Equal(Enumerable.Range(0, count), values.Where(v => v < 1_000));
            Assert.Equal(Enumerable.Range(1_000, count), values.Where(v => v >= 1_000));
        });

        static void SendAndDispose(Sender<int> sender, int first, int count)
        {
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(SendResult.Sent, sender.TrySend(first + i));
            }

            sender.Dispose();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SendersBlockedOnAFullBoundedChannel_AreReleasedWhenTheReceivingSideGoes(bool disposeLoop)
    {
        RaceTrials.Run(maxTrials: 40, ciSeconds: 1.5, trial =>
        {
            var loop = new EventLoop();
            var (sender, source) = loop.BoundedChannel<int>(1);
            source.Subscribe(_ => { });
            Assert.Equal(SendResult.Sent, sender.TrySend(0));
            int closed = 0;
            RaceThread[] blocked = [.. Enumerable.Range(0, 3).Select(i => RaceThread.Start($"blocked sender {i}", () =>
            {
                Assert.Throws<ChannelClosedException>(() => sender.Send(i + 1));
                Interlocked.Increment(ref closed);
            }))];

            // Most trials act once every sender is waiting; some act while they are still on their way in.
            if (trial % 4 != 0)
            {
                Assert.True(SpinWait.SpinUntil(() => blocked.All(t => t.IsBlocked), LoopExtensions.Patience), "the senders never blocked");
            }

            if (disposeLoop)
            {
                loop.Dispose();
            }
            else
            {
                source.Remove();
            }

            foreach (RaceThread thread in blocked)
            {
                thread.Join();
            }

            Assert.Equal(3, closed);
            loop.Dispose();
        });
    }

    [Fact]
    public void TrySendRacingLoopDispose_NeverSentAfterDisposeReturned_DeliveredIsAnInOrderPrefix()
    {
        RaceTrials.Run(maxTrials: 100, ciSeconds: 2.5, trial =>
        {
            var loop = new EventLoop();
            var (sender, channel) = loop.Channel<int>();
            var (syncSender, bounded) = loop.BoundedChannel<int>(16);
            var delivered = new List<int>[Producers + 1];
            for (int p = 0; p <= Producers; p++)
            {
                delivered[p] = [];
            }

            int total = 0;
            void Record(int v)
            {
                delivered[v / 10_000_000].Add(v % 10_000_000);
                total++;
            }

            channel.Subscribe(Record);
            bounded.Subscribe(Record);
            int disposeReturned = 0;
            int sentAfterDispose = 0;
            Func<int, SendResult>[] sends = [syncSender.TrySend, .. Enumerable.Range(1, Producers).Select(_ => (Func<int, SendResult>)sender.Clone().TrySend)];
            RaceThread[] producers = [.. sends.Select((send, p) => RaceThread.Start($"producer {p}", () =>
            {
                // Bounded even if the channel never closes (a loop never torn down), so no thread outlives the test.
                long giveUpAt = long.MaxValue;
                for (int i = 0; ;)
                {
                    bool after = Volatile.Read(ref disposeReturned) == 1;
                    if (after && giveUpAt == long.MaxValue)
                    {
                        giveUpAt = Environment.TickCount64 + 1_000;
                    }
                    else if (Environment.TickCount64 > giveUpAt)
                    {
                        return;
                    }

                    SendResult result = send((p * 10_000_000) + i);
                    if (result == SendResult.Sent)
                    {
                        i++;
                        if (after)
                        {
                            Interlocked.Increment(ref sentAfterDispose);
                        }
                    }
                    else if (after && result == SendResult.Closed)
                    {
                        return;
                    }
                }
            }))];

            var dispatcher = RaceThread.Start("dispatcher", () =>
            {
                try
                {
                    while (true)
                    {
                        loop.Dispatch(TimeSpan.Zero);
                    }
                }
                catch (ObjectDisposedException)
                {
                    // Disposed between two dispatches.
                }
            });

            // Dispose after a varying amount of traffic; the count is read racily, only to vary the moment.
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref total) > trial % 20 * 10, LoopExtensions.Patience), "nothing was delivered");
            loop.Dispose();
            Volatile.Write(ref disposeReturned, 1);
            dispatcher.Join();
            foreach (RaceThread producer in producers)
            {
                producer.Join();
            }

            Assert.True(sentAfterDispose == 0, $"{sentAfterDispose} sends answered Sent after loop.Dispose() had returned");
            for (int p = 0; p <= Producers; p++)
            {
                Assert.True(delivered[p].SequenceEqual(Enumerable.Range(0, delivered[p].Count)), $"producer {p}: delivered messages are not the in-order prefix of what it sent");
            }

            sender.Dispose();
            syncSender.Dispose();
        });
    }
}
