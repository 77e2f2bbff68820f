using System.Runtime.InteropServices;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// Signals arriving while the loop is disposed on another thread: the subscriber ends exactly once, nothing throws,
/// and the signal is free for the next loop. SIGWINCH (ignored by default) keeps a late signal harmless; serial
/// because signal handling is process-wide.
/// </summary>
[Collection("Serial")]
public class SignalDisposeRaceTests
{
    [Fact]
    public void SignalsArrivingDuringLoopDispose_EndTheSubscriberOnce_AndTheNextLoopReceivesThem()
    {
        RaceTrials.Run(maxTrials: 60, ciSeconds: 2, trial =>
        {
            var loop = new EventLoop();
            SignalSource signals = loop.Signals(PosixSignal.SIGWINCH);
            var observer = new CountingObserver<SignalEvent>("SIGWINCH subscriber");
            signals.Subscribe(observer);
            int stopSignalling = 0;
            RaceThread signaller = RaceThread.Start("signaller", () =>
            {
                while (Volatile.Read(ref stopSignalling) == 0)
                {
                    TestSys.Kill(TestSys.SIGWINCH);
                }
            });
            RaceThread dispatcher = RaceThread.Start("dispatcher", () =>
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

            int seenAtTeardown;
            try
            {
                Assert.True(SpinWait.SpinUntil(() => observer.NextCount > trial % 5, LoopExtensions.Patience), "no signal was delivered");
                loop.Dispose();
                dispatcher.Join();

                // Signals keep coming after the teardown: they must not reach the ended subscriber.
                seenAtTeardown = observer.NextCount;
                for (int i = 0; i < 20; i++)
                {
                    TestSys.Kill(TestSys.SIGWINCH);
                }
            }
            finally
            {
                Volatile.Write(ref stopSignalling, 1);
            }

            signaller.Join();
            observer.AssertCompletedOnce();
            Assert.Equal(seenAtTeardown, observer.NextCount);
            Assert.True(signals.IsTerminated);

            // The registration is released: a new loop takes the signal over again.
            using var next = new EventLoop();
            var nextObserver = new ContractObserver<SignalEvent>(next);
            next.Signals(PosixSignal.SIGWINCH).Subscribe(nextObserver);
            TestSys.Kill(TestSys.SIGWINCH);
            next.DispatchUntil(() => nextObserver.Values.Count > 0, "SIGWINCH on the next loop");
            nextObserver.AssertClean();
        });
    }
}
