using System.Reactive;
using System.Reactive.Linq;
using Calloop.Rx.Testing;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;
using Microsoft.Reactive.Testing;

namespace Calloop.Rx.Tests.Docs;

/// <summary>The examples of docs/02-using-event-sources.md, kept compiling and true by running them.</summary>
public class EventSourcesChapterTests
{
    [Fact]
    public void Subscribe_registers_and_the_last_dispose_unregisters()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        Assert.False(pings.IsActive);

        var first = new ContractObserver<Unit>(loop);
        var second = new ContractObserver<Unit>(loop);
        IDisposable firstSubscription = pings.Subscribe(first);
        IDisposable secondSubscription = pings.Subscribe(second);
        Assert.True(pings.IsActive);

        // One registration, broadcast: every subscriber gets every event.
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(first.Values);
        Assert.Single(second.Values);

        firstSubscription.Dispose();
        Assert.True(pings.IsActive);
        secondSubscription.Dispose();
        Assert.False(pings.IsActive);
        first.AssertClean();
        second.AssertClean();
    }

    [Fact]
    public void Subscribe_late_still_gets_what_was_sent_before()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<string>();
        sender.Send("sent before anyone listened");

        var observer = new ContractObserver<string>(loop);
        using IDisposable subscription = messages.Subscribe(observer);
        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(["sent before anyone listened"], observer.Values);
        sender.Dispose();
        observer.AssertClean();
    }

    [Fact]
    public void Disable_pauses_Enable_resumes_Remove_completes()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var observer = new ContractObserver<int>(loop);
        using IDisposable subscription = messages.Subscribe(observer);

        messages.Disable();
        sender.Send(1);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(observer.Values); // paused: the message waits in the channel

        messages.Enable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([1], observer.Values);

        messages.Remove();
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(observer.Completed); // removed from outside: OnCompleted on the next dispatch
        Assert.Equal(SendResult.Closed, sender.TrySend(2));
        observer.AssertClean();
    }

    [Fact]
    public void Remove_inside_the_own_callback_applies_when_it_returns()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        TimerSource ticks = loop.Timer(TimeSpan.FromSeconds(1), _ => TimeoutAction.ToDuration(TimeSpan.FromSeconds(1)));
        int count = 0;
        var observer = new ContractObserver<DateTimeOffset>(loop, _ =>
        {
            if (++count == 3)
            {
                ticks.Remove(); // this tick is still delivered to every subscriber; then OnCompleted
            }
        });
        using IDisposable subscription = ticks.Subscribe(observer);

        loop.AdvanceBy(TimeSpan.FromSeconds(10));

        Assert.Equal(3, observer.Values.Count);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Fd_in_one_shot_mode_reports_once_until_Update()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            FdSource source = loop.Fd(b, Interest.Read, TriggerMode.OneShot);
            var observer = new ContractObserver<Readiness>(loop);
            using IDisposable subscription = source.Subscribe(observer);
            TestSys.Write(a, "ping"u8);

            loop.Dispatch(TimeSpan.Zero);
            loop.Dispatch(TimeSpan.Zero);
            Assert.Single(observer.Values); // still readable, but a one-shot fd is disarmed after one report

            source.Update(); // re-arm
            loop.Dispatch(TimeSpan.Zero);
            Assert.Equal(2, observer.Values.Count);
            observer.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void Fd_reports_hang_up_as_data_not_as_an_error()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            var observer = new ContractObserver<Readiness>(loop);
            using IDisposable subscription = loop.Fd(b, Interest.Read).Subscribe(observer);

            TestSys.Close(a);
            a = -1;
            loop.DispatchUntil(() => observer.Values.Count > 0);

            Assert.True(observer.Values[0].HangUp);
            Assert.Null(observer.Error); // the source still works; the observer decides what a hang-up means
            observer.AssertClean();
        }
        finally
        {
            if (a >= 0)
            {
                TestSys.Close(a);
            }

            TestSys.Close(b);
        }
    }

    [Fact]
    public void Timer_callback_chooses_what_happens_next()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        DateTimeOffset start = loop.Now;

        // Every second on the second (ToInstant catches up after a late dispatch), three times, then Drop.
        int fired = 0;
        TimerSource metronome = loop.Timer(
            TimeSpan.FromSeconds(1),
            deadline => ++fired < 3 ? TimeoutAction.ToInstant(deadline + TimeSpan.FromSeconds(1)) : TimeoutAction.Drop);
        var observer = new ContractObserver<DateTimeOffset>(loop);
        using IDisposable subscription = metronome.Subscribe(observer);

        loop.AdvanceBy(TimeSpan.FromSeconds(10));

        Assert.Equal([start.AddSeconds(1), start.AddSeconds(2), start.AddSeconds(3)], observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Timer_deadline_moves_with_Update()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        DateTimeOffset start = loop.Now;
        TimerSource timeout = loop.Timer(TimeSpan.FromSeconds(5));
        var observer = new ContractObserver<DateTimeOffset>(loop);
        using IDisposable subscription = timeout.Subscribe(observer);

        loop.AdvanceBy(TimeSpan.FromSeconds(4));
        timeout.Deadline = loop.Now + TimeSpan.FromSeconds(5); // activity: push the timeout back
        timeout.Update();

        loop.AdvanceBy(TimeSpan.FromSeconds(4));
        Assert.Empty(observer.Values);
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal([start.AddSeconds(9)], observer.Values);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Ping_sends_before_a_dispatch_coalesce_into_one_event()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        using IDisposable subscription = pings.Subscribe(observer);
        Ping other = ping.Clone();

        ping.Send();
        other.Send();
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        ping.Dispose();
        other.Dispose(); // the last sender is gone: the source completes
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void InsertIdle_runs_after_the_events_of_the_dispatch()
    {
        using var loop = new EventLoop();
        var order = new List<string>();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop, _ =>
        {
            order.Add("ping");
            loop.InsertIdle(() => order.Add("idle inserted by the ping"));
        });
        using IDisposable subscription = pings.Subscribe(observer);
        IDisposable cancelled = loop.InsertIdle(() => order.Add("cancelled idle"));
        loop.InsertIdle(() => order.Add("idle"));
        cancelled.Dispose();
        ping.Send();

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(["ping", "idle", "idle inserted by the ping"], order);
        observer.AssertClean();
    }

    [Fact]
    public void Insert_runs_a_custom_source()
    {
        using var loop = new EventLoop();
        var (read, write) = TestSys.Pipe();
        bool writeOpen = true;
        try
        {
            LoopSource<string> lines = loop.Insert(new LineSource(read));
            var observer = new ContractObserver<string>(loop);
            using IDisposable subscription = lines.Subscribe(observer);

            TestSys.Write(write, "hello\nwor"u8);
            loop.DispatchUntil(() => observer.Values.Count == 1);
            TestSys.Write(write, "ld\n"u8);
            TestSys.Close(write); // end of stream: the source returns PostAction.Remove
            writeOpen = false;
            loop.DispatchUntil(() => observer.Completed);

            Assert.Equal(["hello", "world"], observer.Values);
            observer.AssertClean();
        }
        finally
        {
            if (writeOpen)
            {
                TestSys.Close(write);
            }

            TestSys.Close(read);
        }
    }

    [Fact]
    public void Observer_exception_comes_out_of_Dispatch_and_the_rest_waits()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var observer = new ContractObserver<int>(loop, value =>
        {
            if (value == 2)
            {
                throw new InvalidOperationException("cannot handle 2");
            }
        });
        using IDisposable subscription = messages.Subscribe(observer);
        sender.Send(1);
        sender.Send(2);
        sender.Send(3);

        var error = Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));
        Assert.Equal("cannot handle 2", error.Message);
        Assert.Equal([1, 2], observer.Values);

        // Nothing is lost: the following dispatches deliver the rest without waiting.
        loop.DispatchUntil(() => observer.Values.Count == 3);
        Assert.Equal([1, 2, 3], observer.Values);
        sender.Dispose();
        observer.AssertClean();
    }

    [Fact]
    public void Source_that_fails_ends_with_OnError_and_the_loop_goes_on()
    {
        using var loop = new EventLoop();
        var (read, write) = TestSys.Pipe();
        try
        {
            var lines = new ContractObserver<string>(loop);
            using IDisposable linesSubscription = loop.Insert(new LineSource(read, maxLineLength: 8)).Subscribe(lines);
            var (ping, pings) = loop.Ping();
            var others = new ContractObserver<Unit>(loop);
            using IDisposable pingSubscription = pings.Subscribe(others);

            TestSys.Write(write, "far too long for eight bytes"u8);
            ping.Send();
            loop.DispatchUntil(() => lines.Error is not null && others.Values.Count == 1);

            Assert.IsType<InvalidDataException>(lines.Error);
            lines.AssertClean();
            others.AssertClean();
        }
        finally
        {
            TestSys.Close(write);
            TestSys.Close(read);
        }
    }

    [Fact]
    public void Subscribe_reports_a_kernel_refusal_through_OnError()
    {
        using var loop = new EventLoop();
        var (a, b) = TestSys.SocketPair();
        try
        {
            var first = new ContractObserver<Readiness>(loop);
            using IDisposable subscription = loop.Fd(b).Subscribe(first);

            // Two sources for one fd: epoll refuses the second registration, and the subscriber hears it through OnError
            // on the loop thread, where Rx's Catch and Retry can handle it.
            FdSource second = loop.Fd(b);
            Exception? error = null;
            using IDisposable refused = second.Subscribe(_ => { }, e => error = e);
            loop.Dispatch(TimeSpan.Zero);
            var refusal = Assert.IsType<LoopException>(error);
            Assert.Equal(17, refusal.Errno); // EEXIST
            Assert.Equal(b, refusal.Fd);
            Assert.StartsWith($"fd {b} is already registered with this loop", refusal.Message);
            first.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }

    [Fact]
    public void Virtual_clock_runs_Rx_time_operators_deterministically()
    {
        using var scheduler = new LoopTestScheduler();
        EventLoop loop = scheduler.Loop;
        var (sender, keys) = loop.Channel<char>();

        // Debounce on the loop's scheduler: a key passes only after 300 ms without another one.
        ITestableObserver<char> typed = keys.Throttle(TimeSpan.FromMilliseconds(300), loop.Scheduler).Record(scheduler);

        scheduler.Script.Send(TimeSpan.FromMilliseconds(100).Ticks, sender, 'a');
        scheduler.Script.Send(TimeSpan.FromMilliseconds(200).Ticks, sender, 'b');
        scheduler.AdvanceBy(TimeSpan.FromSeconds(1).Ticks);

        Assert.Equal([ReactiveTest.OnNext(TimeSpan.FromMilliseconds(500).Ticks, 'b')], typed.Messages);
        sender.Dispose();
    }
}
