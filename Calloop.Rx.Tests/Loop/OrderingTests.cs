using System.Diagnostics;
using System.Reactive;
using System.Reactive.Concurrency;
using System.Runtime.InteropServices;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// What calloop leaves untested about one dispatch: the order of its phases, the idle rules, <c>Stop</c> before
/// <c>Run</c>, and the EINTR retry.
/// </summary>
/// <remarks>Serial because the EINTR test sends a real signal to the loop thread (and the idle test measures a wait).</remarks>
[Collection("Serial")]
public class OrderingTests
{
    [Fact]
    public void Dispatch_OneCall_RunsFdEventsThenTimersThenActionsThenIdles()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        loop.AdvanceBy(TimeSpan.FromSeconds(10));
        DateTimeOffset now = loop.Now;
        using var pair = FdPair.SocketPair();
        var (ping, pings) = loop.Ping();
        var (sender, messages) = loop.Channel<int>();
        var log = new List<string>();
        var fdObserver = new ContractObserver<Readiness>(loop, _ =>
        {
            TestSys.Drain(pair.Second);
            log.Add("fd");
        });
        var pingObserver = new ContractObserver<Unit>(loop, _ => log.Add("ping"));
        var channelObserver = new ContractObserver<int>(loop, _ => log.Add("channel"));
        var lateTimer = new ContractObserver<DateTimeOffset>(loop, _ => log.Add("timer -1s"));
        var earlyTimer = new ContractObserver<DateTimeOffset>(loop, _ => log.Add("timer -3s"));

        // Registered in an order unlike the expected one, so only the loop's phases can produce it.
        loop.InsertIdle(() => log.Add("idle"));
        loop.Scheduler.Schedule(() => log.Add("action"));
        loop.Timer(now - TimeSpan.FromSeconds(1)).Subscribe(lateTimer);
        loop.Scheduler.Schedule(now - TimeSpan.FromSeconds(2), () => log.Add("timed action -2s"));
        loop.Timer(now - TimeSpan.FromSeconds(3)).Subscribe(earlyTimer);
        loop.Fd(pair.Second).Subscribe(fdObserver);
        pings.Subscribe(pingObserver);
        messages.Subscribe(channelObserver);
        sender.Send(1);
        ping.Send();
        pair.Poke();

        loop.Dispatch(TimeSpan.Zero);

        // fd, ping and channel events come in the kernel's order; all of them before the rest.
        Assert.Equal(["channel", "fd", "ping"], log.Take(3).Order());
        Assert.Equal(["timer -3s", "timed action -2s", "timer -1s", "action", "idle"], log.Skip(3));
        fdObserver.AssertClean();
        pingObserver.AssertClean();
        channelObserver.AssertClean();
        lateTimer.AssertClean();
        earlyTimer.AssertClean();
    }

    [Fact]
    public void InsertIdle_FromAnIdle_RunsInTheNextDispatch()
    {
        using var loop = new EventLoop();
        var log = new List<string>();
        loop.InsertIdle(() =>
        {
            log.Add("first");
            loop.InsertIdle(() => log.Add("second"));
        });

        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(["first"], log);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(["first", "second"], log);
    }

    [Fact]
    public void InsertIdle_FromAnEvent_RunsInTheSameDispatch()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var log = new List<string>();
        var observer = new ContractObserver<Unit>(loop, _ =>
        {
            log.Add("ping");
            loop.InsertIdle(() => log.Add("idle"));
        });
        pings.Subscribe(observer);

        ping.Send();
        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(["ping", "idle"], log);
        observer.AssertClean();
    }

    [Fact]
    public void InsertIdle_Pending_DoesNotPreventBlocking()
    {
        using var loop = new EventLoop();
        bool ran = false;
        loop.InsertIdle(() => ran = true);

        var stopwatch = Stopwatch.StartNew();
        loop.Dispatch(TimeSpan.FromMilliseconds(50));

        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(50), $"Dispatch(50ms) with only an idle pending returned after {stopwatch.Elapsed.TotalMilliseconds} ms");
        Assert.True(ran);
    }

    [Fact]
    public void Stop_BeforeRun_IsForgotten()
    {
        // calloop's run resets the stop flag; so does Run. A timer stops the loop later, and must have fired by then.
        using var loop = new EventLoop();
        var observer = new ContractObserver<DateTimeOffset>(loop, _ => loop.Stop());
        loop.Timer(TimeSpan.FromMilliseconds(20)).Subscribe(observer);
        int dispatches = 0;
        int dispatchesWhenFired = -1;

        loop.Stop();
        using (var watchdog = new Watchdog(loop))
        {
            loop.Run(afterDispatch: _ =>
            {
                dispatches++;
                if (observer.Values.Count == 1 && dispatchesWhenFired < 0)
                {
                    dispatchesWhenFired = dispatches;
                }
            });
            watchdog.AssertNotFired("the timer's Stop did not end Run");
        }

        Assert.Single(observer.Values);

        // afterDispatch also ran after the dispatch in which Stop was called, and Run returned right after it.
        Assert.Equal(dispatches, dispatchesWhenFired);
        observer.AssertClean();
    }

    [Fact]
    public void Dispatch_SignalInterruptsTheWait_NeitherThrowsNorEndsEarly()
    {
        // The signal is sent to the loop thread itself (tgkill) while it is blocked in epoll, so epoll_wait really
        // returns EINTR. The signal source is disabled: the signal makes no event, so only the timer may end the wait.
        using var loop = new EventLoop();
        SignalSource signals = loop.Signals((PosixSignal)TestSys.SIGUSR1);
        var signalObserver = new ContractObserver<SignalEvent>(loop);
        signals.Subscribe(signalObserver);
        signals.Disable();
        DateTimeOffset firedAt = default;
        var timerObserver = new ContractObserver<DateTimeOffset>(loop, _ => firedAt = loop.Now);
        TimerSource timer = loop.Timer(TimeSpan.FromMilliseconds(300));
        timer.Subscribe(timerObserver);
        int loopThread = TestSys.CurrentThreadId();
        bool interrupted = false;
        var sender = new Thread(() =>
        {
            if (TestSys.WaitUntilInEpollWait(loopThread, LoopExtensions.Patience))
            {
                TestSys.KillThread(loopThread, TestSys.SIGUSR1);
                interrupted = true;
            }
        });
        sender.Start();

        using (var watchdog = new Watchdog(loop))
        {
            loop.Dispatch();
            watchdog.AssertNotFired("the timer did not end Dispatch(null)");
        }

        Assert.True(sender.Join(LoopExtensions.Patience));
        Assert.True(interrupted, "the loop thread was never seen blocked in epoll");
        Assert.Single(timerObserver.Values);
        Assert.True(firedAt >= timer.Deadline, $"fired {(timer.Deadline - firedAt).TotalMilliseconds} ms early");

        // The signal did arrive (and was taken over): it shows up once the source is enabled again.
        signals.Enable();
        loop.DispatchUntil(() => signalObserver.Values.Count > 0, "the SIGUSR1 sent during the wait");
        Assert.Equal(TestSys.SIGUSR1, signalObserver.Values[0].Number);
        signalObserver.AssertClean();
        timerObserver.AssertClean();
    }
}
