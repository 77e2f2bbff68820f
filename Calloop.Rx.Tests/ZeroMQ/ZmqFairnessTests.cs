using System.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// The book leaves the source greedy: it drains the socket completely in one go. Ours yields after
/// <see cref="ZmqSourceOptions.BatchLimit"/> messages, so a flood cannot starve the rest of the loop.
/// Serial: the timing part must not compete with the rest of the suite for the CPU.
/// </summary>
[Collection("Serial")]
public class ZmqFairnessTests
{
    private const int Flood = 100_000;
    private const int BatchLimit = 256;

    [Fact]
    public void ZmqSource_Flooded_DoesNotStarveATimerOrAChannel()
    {
        using var bed = new ZmqTestBed();
        var pull = bed.Socket(ZmqSocketType.Pull);
        pull.ReceiveHighWaterMark = 0;
        var push = bed.Socket(ZmqSocketType.Push);
        push.SendHighWaterMark = 0;
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));

        // The whole flood is waiting before the loop starts: a greedy source would take it in one dispatch.
        for (int i = 0; i < Flood; i++)
        {
            Assert.True(push.TrySendMultipart([Frames.Int(i)]));
        }

        var loop = bed.Loop;
        int received = 0;
        var (chat, chatSource) = loop.Channel<string>();
        int receivedWhenChatArrived = -1;
        var chatter = new ContractObserver<string>(loop, _ => receivedWhenChatArrived = received);
        using var chatSubscription = chatSource.Subscribe(chatter);
        var (_, _, messages) = bed.Start(
            pull,
            _ =>
            {
                // Other work for the loop in the middle of the flood (sent from the loop thread: the moment is exact).
                if (++received == 1000)
                {
                    chat.Send("hello during the flood");
                }
            },
            new ZmqSourceOptions { BatchLimit = BatchLimit });

        var period = TimeSpan.FromMilliseconds(2);
        var lateness = new List<TimeSpan>();
        var ticks = new ContractObserver<DateTimeOffset>(loop, deadline =>
        {
            if (received < Flood)
            {
                lateness.Add(loop.Now - deadline);
            }
        });
        using var timer = loop.Timer(period, _ => TimeoutAction.ToDuration(period)).Subscribe(ticks);

        int mostInOneDispatch = 0;
        var patience = Stopwatch.StartNew();
        while (received < Flood)
        {
            Assert.True(patience.Elapsed < LoopExtensions.Patience, $"only {received} messages after {patience.Elapsed}");
            int before = received;
            loop.Dispatch(TimeSpan.FromMilliseconds(50));
            mostInOneDispatch = Math.Max(mostInOneDispatch, received - before);
        }

        // Deterministic: no dispatch took more than the limit, plus what was left of the budget of an earlier turn.
        Assert.InRange(mostInOneDispatch, 1, 2 * BatchLimit);

        // The channel message was delivered while the flood was still pouring in, within a few turns.
        Assert.Equal(["hello during the flood"], chatter.Values);
        Assert.InRange(receivedWhenChatArrived, 1000, 1000 + (4 * BatchLimit));

        // The timer kept firing during the flood, each time close to its deadline (a real clock on a shared
        // machine: the bound is generous, a greedy drain of the whole flood takes far longer than one period).
        Assert.True(lateness.Count >= 3, $"the timer fired only {lateness.Count} times during the flood");
        Assert.All(lateness, late => Assert.InRange(late, TimeSpan.Zero, TimeSpan.FromMilliseconds(250)));
        Assert.Equal(Flood, messages.Values.Count);
        messages.AssertClean();
        chatter.AssertClean();
        ticks.AssertClean();
    }

    [Fact]
    public void ZmqSource_LongOutbox_YieldsToTheLoop()
    {
        using var bed = new ZmqTestBed();
        var push = bed.Socket(ZmqSocketType.Push);
        push.SendHighWaterMark = 0;
        var (sender, _, _) = bed.Start(push, options: new ZmqSourceOptions { BatchLimit = BatchLimit });
        for (int i = 0; i < 10_000; i++)
        {
            sender.Send(Frames.Int(i));
        }

        // No peer: the whole outbox is stuck; then a peer appears and the outbox drains, a batch per turn.
        bed.Loop.Dispatch(TimeSpan.Zero);
        var pull = bed.Socket(ZmqSocketType.Pull);
        pull.ReceiveHighWaterMark = 0;
        push.Connect(bed.Bind(pull, ZmqTestBed.Inproc));

        int received = 0;
        int mostInOneDispatch = 0;
        var patience = Stopwatch.StartNew();
        while (received < 10_000)
        {
            Assert.True(patience.Elapsed < LoopExtensions.Patience, $"only {received} messages after {patience.Elapsed}");
            bed.Loop.Dispatch(TimeSpan.FromMilliseconds(50));
            int now = 0;
            while (pull.TryReceiveMultipart(out byte[][] message))
            {
                Assert.Equal(received + now, message.Int(0));
                now++;
            }

            received += now;
            mostInOneDispatch = Math.Max(mostInOneDispatch, now);
        }

        Assert.InRange(mostInOneDispatch, 1, 2 * BatchLimit);
    }
}
