using System.Threading.Channels;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// Once <see cref="EventLoop.Dispose"/> has returned, on whatever thread, a send answers Closed (or throws
/// <see cref="ChannelClosedException"/>), never Sent, and a sender blocked for room is released, also while the
/// teardown itself waits for a dispatch in progress on another thread.
/// </summary>
public class SendAfterLoopDisposeTests
{
    [Fact]
    public void Send_AfterDisposeReturnedWithTeardownDeferred_AnswersClosed()
    {
        using var held = new HeldDispatch();
        var (sender, messages) = held.Loop.Channel<int>();
        var (syncSender, syncMessages) = held.Loop.BoundedChannel<int>(16);
        var (ping, pings) = held.Loop.Ping();
        var (unsubscribedSender, _) = held.Loop.Channel<int>();
        var (unsubscribedPing, _) = held.Loop.Ping();
        messages.Subscribe(_ => { });
        syncMessages.Subscribe(_ => { });
        pings.Subscribe(_ => { });
        held.Hold();

        // The dispatcher is inside a callback: the teardown waits for it, Dispose returns at once.
        held.Loop.Dispose();

        Assert.Equal(SendResult.Closed, sender.TrySend(1));
        Assert.Throws<ChannelClosedException>(() => sender.Send(1));
        Assert.Equal(SendResult.Closed, syncSender.TrySend(1));
        Assert.Throws<ChannelClosedException>(() => syncSender.Send(1));
        Assert.Equal(SendResult.Closed, ping.Send());
        Assert.Equal(SendResult.Closed, unsubscribedSender.TrySend(1));
        Assert.Equal(SendResult.Closed, unsubscribedPing.Send());
    }

    [Fact]
    public void BoundedSenderSend_BlockedWithTeardownDeferred_IsReleasedByDispose()
    {
        using var held = new HeldDispatch();
        var (sender, messages) = held.Loop.BoundedChannel<int>(1);
        messages.Subscribe(_ => { });
        held.Hold();
        Assert.Equal(SendResult.Sent, sender.TrySend(0));
        Exception? error = null;
        var producer = new Thread(() =>
        {
            try
            {
                sender.Send(1);
            }
            catch (Exception e)
            {
                error = e;
            }
        })
        {
            IsBackground = true,
            Name = "blocked producer",
        };
        producer.Start();

        // Blocked for room: the held dispatcher cannot drain the channel.
        Assert.True(
            SpinWait.SpinUntil(() => (producer.ThreadState & ThreadState.WaitSleepJoin) != 0, LoopExtensions.Patience),
            "the producer never blocked");
        held.Loop.Dispose();

        Assert.True(producer.Join(LoopExtensions.Patience), "Dispose did not release the blocked Send");
        Assert.IsType<ChannelClosedException>(error);
    }

    [Fact]
    public void Sends_RacingDispose_NeverAnswerSentOnceDisposeReturned()
    {
        // Thread A dispatches, thread B sends without pause on three kinds of sender, this thread disposes; every
        // send B starts after this thread's Dispose returned must be refused.
        const int Trials = 30;
        for (int trial = 0; trial < Trials; trial++)
        {
            var loop = new EventLoop();
            var (sender, messages) = loop.Channel<int>();
            var (syncSender, syncMessages) = loop.BoundedChannel<int>(1 << 16);
            var (ping, pings) = loop.Ping();
            messages.Subscribe(_ => { });
            syncMessages.Subscribe(_ => { });
            pings.Subscribe(_ => { });
            var dispatcher = new Thread(() => RunUntilDisposed(loop)) { IsBackground = true, Name = "dispatcher" };
            bool disposeReturned = false;
            string? violation = null;
            using var sending = new ManualResetEventSlim();
            var producer = new Thread(() =>
            {
                int refused = 0;
                for (int i = 0; refused < 100 && violation is null; i++)
                {
                    bool after = Volatile.Read(ref disposeReturned);
                    SendResult channel = sender.TrySend(i);
                    SendResult sync = syncSender.TrySend(i);
                    bool pinged = ping.Send() == SendResult.Sent;
                    if (after)
                    {
                        if (channel != SendResult.Closed || sync != SendResult.Closed || pinged)
                        {
                            violation = $"send {i} after Dispose returned: channel {channel}, sync channel {sync}, ping {pinged}";
                        }

                        refused++;
                    }

                    if (i == 1000)
                    {
                        sending.Set();
                    }
                }
            })
            {
                IsBackground = true,
                Name = "producer",
            };
            dispatcher.Start();
            producer.Start();
            Assert.True(sending.Wait(LoopExtensions.Patience), "the producer did not get going");

            loop.Dispose();
            Volatile.Write(ref disposeReturned, true);

            Assert.True(producer.Join(LoopExtensions.Patience), "the producer did not finish");
            Assert.True(dispatcher.Join(LoopExtensions.Patience), "Run did not return after Dispose");
            Assert.True(violation is null, $"trial {trial}: {violation}");
        }
    }

    private static void RunUntilDisposed(EventLoop loop)
    {
        try
        {
            loop.Run();
        }
        catch (ObjectDisposedException)
        {
            // Disposed before Run started: nothing to dispatch.
        }
    }

    /// <summary>A loop whose dispatch runs on its own thread and can be held inside a callback, so that a disposal defers the teardown to it.</summary>
    private sealed class HeldDispatch : IDisposable
    {
        private readonly ManualResetEventSlim _inCallback = new();
        private readonly ManualResetEventSlim _release = new();
        private readonly Ping _hold;
        private readonly Thread _dispatcher;

        public HeldDispatch()
        {
            Loop = new EventLoop();
            (_hold, PingSource holds) = Loop.Ping();
            holds.Subscribe(_ =>
            {
                // Held past any of the test's own waits, so that none of them can pass thanks to a teardown.
                _inCallback.Set();
                _release.Wait(3 * LoopExtensions.Patience);
            });
            _dispatcher = new Thread(() => RunUntilDisposed(Loop)) { IsBackground = true, Name = "held dispatcher" };
            _dispatcher.Start();
        }

        public EventLoop Loop { get; }

        /// <summary>Returns once the dispatcher is inside a callback, where it stays until disposal.</summary>
        public void Hold()
        {
            _hold.Send();
            Assert.True(_inCallback.Wait(LoopExtensions.Patience), "the dispatcher never ran the holding callback");
        }

        public void Dispose()
        {
            _release.Set();
            Loop.Dispose();
            Assert.True(_dispatcher.Join(LoopExtensions.Patience), "the dispatcher did not return");
            _inCallback.Dispose();
            _release.Dispose();
        }
    }
}
