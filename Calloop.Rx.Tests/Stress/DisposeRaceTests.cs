using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// Loop disposal from another thread racing a dispatch: every subscriber ends exactly once, senders answer Closed
/// from the moment Dispose returns, the dispatching thread leaves, and the loop's fds are closed. Serial because
/// it watches the process's fds.
/// </summary>
[Collection("Serial")]
public class DisposeRaceTests
{
    [Fact]
    public void Dispose_RacingDispatchOnAnotherThread_EndsEverySubscriberOnceAndClosesEverything()
    {
        RaceTrials.Run(maxTrials: 300, ciSeconds: 2.5, trial =>
        {
            using var pipe = FdPair.Pipe();
            HashSet<int> before = TestSys.OpenFds();
            using var everything = new EverySource(new EventLoop(), pipe);
            int[] loopFds = [.. TestSys.OpenFds().Except(before)];
            everything.Prime();

            using var dispatched = new ManualResetEventSlim();
            RaceThread dispatcher = StartDispatcher(everything.Loop, dispatched, blocking: trial % 3 == 2);
            Assert.True(dispatched.Wait(LoopExtensions.Patience), "the dispatcher never dispatched");
            Thread.SpinWait(trial % 13 * 50);

            everything.Loop.Dispose();

            // Every broken promise of the trial is reported together: they tend to come from one race.
            List<string> problems = everything.SendersNotClosed("right after Dispose returned");
            if (Record.Exception(() => everything.Pings.Subscribe(_ => { })) is not ObjectDisposedException)
            {
                problems.Add("Subscribe did not throw ObjectDisposedException after Dispose returned");
            }

            dispatcher.Join();
            problems.AddRange(everything.ObserversNotCompletedOnce());
            HashSet<int> open = TestSys.OpenFds();
            problems.AddRange(loopFds.Where(open.Contains).Select(fd => $"the loop's fd {fd} is still open after the dispatcher left"));
            Assert.True(problems.Count == 0, $"trial {trial}: {string.Join("; ", problems)}");
        });
    }

    [Fact]
    public void Dispose_RacingTheEndOfADispatch_TheLoopIsStillTornDown()
    {
        // Many cheap trials of the narrowest case: a dispatcher doing nothing but entering and leaving dispatches,
        // so that Dispose often lands as one ends. Whoever loses the race must still leave the teardown to the other.
        RaceTrials.Run(maxTrials: 3_000, ciSeconds: 2, trial =>
        {
            var loop = new EventLoop(LoopClock.Virtual());
            var (ping, pings) = loop.Ping();
            var observer = new CountingObserver<System.Reactive.Unit>("ping subscriber");
            pings.Subscribe(observer);
            using var dispatched = new ManualResetEventSlim();
            RaceThread dispatcher = StartDispatcher(loop, dispatched, blocking: false);
            Assert.True(dispatched.Wait(LoopExtensions.Patience), "the dispatcher never dispatched");
            Thread.SpinWait(trial % 8 * 10);
            loop.Dispose();
            dispatcher.Join();
            Assert.True(observer.Completions == 1, $"trial {trial}: the subscriber got {observer.Completions} OnCompleted calls after Dispose returned and the dispatcher left (the loop was never torn down)");
            ping.Dispose();
        });
    }

    [Fact]
    public void Dispose_FromSeveralThreadsWhileDispatching_TearsDownOnce()
    {
        RaceTrials.Run(maxTrials: 200, ciSeconds: 2, trial =>
        {
            using var pipe = FdPair.Pipe();
            using var everything = new EverySource(new EventLoop(), pipe);
            everything.Prime();
            using var dispatched = new ManualResetEventSlim();
            RaceThread dispatcher = StartDispatcher(everything.Loop, dispatched, blocking: trial % 2 == 1);
            Assert.True(dispatched.Wait(LoopExtensions.Patience), "the dispatcher never dispatched");

            var problems = new List<string>();
            using var start = new Barrier(3);
            RaceThread[] disposers = [.. Enumerable.Range(0, 3).Select(i => RaceThread.Start($"disposer {i}", () =>
            {
                start.SignalAndWait(LoopExtensions.Patience);
                everything.Loop.Dispose();
                lock (problems)
                {
                    problems.AddRange(everything.SendersNotClosed($"after Dispose returned on disposer {i}"));
                }
            }))];

            foreach (RaceThread disposer in disposers)
            {
                disposer.Join();
            }

            dispatcher.Join();
            problems.AddRange(everything.ObserversNotCompletedOnce());
            Assert.True(problems.Count == 0, $"trial {trial}: {string.Join("; ", problems)}");
        });
    }

    /// <summary>Dispatches until the loop is disposed: polls in a tight loop, or with <paramref name="blocking"/> runs waiting dispatches (Dispose must wake them).</summary>
    private static RaceThread StartDispatcher(EventLoop loop, ManualResetEventSlim dispatched, bool blocking) =>
        RaceThread.Start("dispatcher", () =>
        {
            if (blocking)
            {
                loop.Run(null, _ => dispatched.Set());
                return;
            }

            try
            {
                while (true)
                {
                    loop.Dispatch(TimeSpan.Zero);
                    dispatched.Set();
                }
            }
            catch (ObjectDisposedException)
            {
                // The loop was disposed between two dispatches: the way out.
            }
        });

    /// <summary>One loop with a live subscriber on every kind of source, each with something queued.</summary>
    private sealed class EverySource : IDisposable
    {
        private readonly FdPair _pipe;
        private readonly List<IDisposable> _senders = [];
        private readonly List<Action> _assertions = [];
        private readonly Sender<int> _sender;
        private readonly BoundedSender<int> _syncSender;
        private readonly Ping _ping;

        public EverySource(EventLoop loop, FdPair pipe)
        {
            Loop = loop;
            _pipe = pipe;
            ChannelSource<int> channel;
            ChannelSource<int> bounded;
            (_sender, channel) = loop.Channel<int>();
            (_syncSender, bounded) = loop.BoundedChannel<int>(4);
            (_ping, Pings) = loop.Ping();
            _senders.AddRange([_sender, _syncSender, _ping]);
            Watch("channel", channel);
            Watch("bounded channel", bounded);
            Watch("ping", Pings);
            Watch("timer", loop.Timer(TimeSpan.FromHours(1)));
            Watch("fd", loop.Fd(pipe.Second));
            Watch("second channel subscriber", channel);
        }

        public EventLoop Loop { get; }

        public PingSource Pings { get; }

        /// <summary>Queues a message on each channel, a ping, and a byte on the fd, so a dispatch has work.</summary>
        public void Prime()
        {
            Assert.Equal(SendResult.Sent, _sender.TrySend(1));
            Assert.Equal(SendResult.Sent, _syncSender.TrySend(1));
            Assert.Equal(SendResult.Sent, _ping.Send());
            _pipe.Poke();
        }

        public List<string> SendersNotClosed(string when)
        {
            var problems = new List<string>();
            if (_sender.TrySend(2) is var sent && sent != SendResult.Closed)
            {
                problems.Add($"Sender.TrySend answered {sent} {when}");
            }

            if (_syncSender.TrySend(2) is var syncSent && syncSent != SendResult.Closed)
            {
                problems.Add($"BoundedSender.TrySend answered {syncSent} {when}");
            }

            if (_ping.Send() == SendResult.Sent)
            {
                problems.Add($"Ping.Send answered true {when}");
            }

            return problems;
        }

        public IEnumerable<string> ObserversNotCompletedOnce() =>
            _assertions.Select(assertion => Record.Exception(assertion)?.Message).OfType<string>();

        public void Dispose()
        {
            Loop.Dispose();
            foreach (IDisposable sender in _senders)
            {
                sender.Dispose();
            }
        }

        private void Watch<T>(string name, IObservable<T> source)
        {
            var observer = new CountingObserver<T>(name);
            source.Subscribe(observer);
            _assertions.Add(observer.AssertCompletedOnce);
        }
    }
}
