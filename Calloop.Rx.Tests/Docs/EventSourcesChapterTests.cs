using System.IO.Pipes;
using System.Reactive;
using System.Reactive.Linq;
using Calloop.Rx.Testing;
using Calloop.Rx.Tests.Infrastructure;
using Microsoft.Reactive.Testing;

namespace Calloop.Rx.Tests.Docs;

/// <summary>The examples of docs/02-using-event-sources.md, kept compiling and true by running them.</summary>
public class EventSourcesChapterTests
{
    [Fact]
    public void Subscribe_FirstAndLastSubscriber_RegistersAndUnregisters()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        Assert.False(pings.IsActive);

        var first = new List<Unit>();
        var second = new List<Unit>();
        IDisposable firstSubscription = pings.Subscribe(first.Add);
        IDisposable secondSubscription = pings.Subscribe(second.Add);
        Assert.True(pings.IsActive);

        // One registration, broadcast: every subscriber gets every event.
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(first);
        Assert.Single(second);

        firstSubscription.Dispose();
        Assert.True(pings.IsActive);
        secondSubscription.Dispose();
        Assert.False(pings.IsActive);
    }

    [Fact]
    public void Subscribe_Late_StillGetsWhatWasSentBefore()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<string>();
        sender.Send("sent before anyone listened");

        var received = new List<string>();
        using IDisposable subscription = messages.Subscribe(received.Add);
        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(["sent before anyone listened"], received);
        sender.Dispose();
    }

    [Fact]
    public void SourceControl_DisableEnableRemove_PausesResumesCompletes()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var received = new List<int>();
        bool completed = false;
        using IDisposable subscription = messages.Subscribe(received.Add, () => completed = true);

        messages.Disable();
        sender.Send(1);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(received); // paused: the message waits in the channel

        messages.Enable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal([1], received);

        messages.Remove();
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(completed); // removed from outside: OnCompleted on the next dispatch
        Assert.Equal(SendResult.Closed, sender.TrySend(2));
    }

    [Fact]
    public void Remove_InsideItsOwnCallback_AppliesWhenItReturns()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        TimerSource ticks = loop.Timer(TimeSpan.FromSeconds(1), _ => TimeoutAction.ToDuration(TimeSpan.FromSeconds(1)));
        int count = 0;
        bool completed = false;
        using IDisposable subscription = ticks.Subscribe(
            _ =>
            {
                if (++count == 3)
                {
                    ticks.Remove(); // this tick is still delivered to every subscriber; then OnCompleted
                }
            },
            () => completed = true);

        loop.AdvanceBy(TimeSpan.FromSeconds(10));

        Assert.Equal(3, count);
        Assert.True(completed);
    }

    [Fact]
    public void Fd_OneShotMode_ReportsOnceUntilUpdate()
    {
        using var loop = new EventLoop();
        using var writer = new AnonymousPipeServerStream(PipeDirection.Out);
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, writer.ClientSafePipeHandle);
        FdSource source = loop.Fd(reader.SafePipeHandle, Interest.Read, TriggerMode.OneShot);
        var reports = new List<Readiness>();
        using IDisposable subscription = source.Subscribe(reports.Add);
        writer.Write("ping"u8);

        loop.Dispatch(TimeSpan.Zero);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(reports); // still readable, but a one-shot fd is disarmed after one report

        source.Update(); // re-arm
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, reports.Count);
    }

    [Fact]
    public void Fd_PeerHangsUp_ReportsDataNotAnError()
    {
        using var loop = new EventLoop();
        using var writer = new AnonymousPipeServerStream(PipeDirection.Out);
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, writer.ClientSafePipeHandle);
        var reports = new List<Readiness>();
        Exception? error = null;
        using IDisposable subscription = loop.Fd(reader.SafePipeHandle, Interest.Read).Subscribe(reports.Add, e => error = e);

        writer.Dispose(); // the only writer is gone
        using var deadline = new LoopDeadline(loop);
        while (reports.Count == 0) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.True(reports[0].HangUp);
        Assert.Null(error); // the source still works; the observer decides what a hang-up means
    }

    [Fact]
    public void Timer_Callback_ChoosesWhatHappensNext()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        DateTimeOffset start = loop.Now;

        // Every second on the second (ToInstant catches up after a late dispatch), three times, then Drop.
        int fired = 0;
        TimerSource metronome = loop.Timer(
            TimeSpan.FromSeconds(1),
            deadline => ++fired < 3 ? TimeoutAction.ToInstant(deadline + TimeSpan.FromSeconds(1)) : TimeoutAction.Drop);
        var ticks = new List<DateTimeOffset>();
        bool completed = false;
        using IDisposable subscription = metronome.Subscribe(ticks.Add, () => completed = true);

        loop.AdvanceBy(TimeSpan.FromSeconds(10));

        Assert.Equal([start.AddSeconds(1), start.AddSeconds(2), start.AddSeconds(3)], ticks);
        Assert.True(completed);
    }

    [Fact]
    public void Timer_Update_MovesTheDeadline()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        DateTimeOffset start = loop.Now;
        TimerSource timeout = loop.Timer(TimeSpan.FromSeconds(5));
        var fired = new List<DateTimeOffset>();
        bool completed = false;
        using IDisposable subscription = timeout.Subscribe(fired.Add, () => completed = true);

        loop.AdvanceBy(TimeSpan.FromSeconds(4));
        timeout.Deadline = loop.Now + TimeSpan.FromSeconds(5); // activity: push the timeout back
        timeout.Update();

        loop.AdvanceBy(TimeSpan.FromSeconds(4));
        Assert.Empty(fired);
        loop.AdvanceBy(TimeSpan.FromSeconds(1));
        Assert.Equal([start.AddSeconds(9)], fired);
        Assert.True(completed);
    }

    [Fact]
    public void Ping_SeveralSendsBeforeADispatch_CoalesceIntoOneEvent()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        int received = 0;
        bool completed = false;
        using IDisposable subscription = pings.Subscribe(_ => received++, () => completed = true);
        Ping other = ping.Clone();

        ping.Send();
        other.Send();
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(1, received);

        ping.Dispose();
        other.Dispose(); // the last sender is gone: the source completes
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(completed);
    }

    [Fact]
    public void InsertIdle_WithPendingEvents_RunsAfterThem()
    {
        using var loop = new EventLoop();
        var order = new List<string>();
        var (ping, pings) = loop.Ping();
        using IDisposable subscription = pings.Subscribe(_ =>
        {
            order.Add("ping");
            loop.InsertIdle(() => order.Add("idle inserted by the ping"));
        });
        IDisposable cancelled = loop.InsertIdle(() => order.Add("cancelled idle"));
        loop.InsertIdle(() => order.Add("idle"));
        cancelled.Dispose();
        ping.Send();

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(["ping", "idle", "idle inserted by the ping"], order);
    }

    [Fact]
    public void Insert_CustomSource_RunsIt()
    {
        using var loop = new EventLoop();
        using var writer = new AnonymousPipeServerStream(PipeDirection.Out);
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, writer.ClientSafePipeHandle);
        LoopSource<string> lines = loop.Insert(new LineSource(reader));
        var received = new List<string>();
        bool completed = false;
        using IDisposable subscription = lines.Subscribe(received.Add, () => completed = true);

        using var deadline = new LoopDeadline(loop);
        writer.Write("hello\nwor"u8);
        while (received.Count < 1) loop.Dispatch(TimeSpan.FromSeconds(1));
        writer.Write("ld\n"u8);
        writer.Dispose(); // end of stream: the source returns PostAction.Remove
        while (!completed) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Equal(["hello", "world"], received);
    }

    [Fact]
    public void ObserverException_InADispatch_ComesOutAndTheRestWaits()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var received = new List<int>();
        using IDisposable subscription = messages.Subscribe(value =>
        {
            received.Add(value);
            if (value == 2)
            {
                throw new InvalidOperationException("cannot handle 2");
            }
        });
        sender.Send(1);
        sender.Send(2);
        sender.Send(3);

        var error = Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));
        Assert.Equal("cannot handle 2", error.Message);
        Assert.Equal([1, 2], received);

        // Nothing is lost: the following dispatches deliver the rest without waiting.
        using var deadline = new LoopDeadline(loop);
        while (received.Count < 3) loop.Dispatch(TimeSpan.FromSeconds(1));
        Assert.Equal([1, 2, 3], received);
        sender.Dispose();
    }

    [Fact]
    public void CustomSource_ProcessingFails_EndsWithOnErrorAndTheLoopGoesOn()
    {
        using var loop = new EventLoop();
        using var writer = new AnonymousPipeServerStream(PipeDirection.Out);
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, writer.ClientSafePipeHandle);
        Exception? linesError = null;
        using IDisposable linesSubscription = loop.Insert(new LineSource(reader, maxLineLength: 8))
            .Subscribe(_ => { }, e => linesError = e);
        var (ping, pings) = loop.Ping();
        int pingsReceived = 0;
        using IDisposable pingSubscription = pings.Subscribe(_ => pingsReceived++);

        using var deadline = new LoopDeadline(loop);
        writer.Write("far too long for eight bytes"u8);
        ping.Send();
        while (linesError is null || pingsReceived == 0) loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.IsType<InvalidDataException>(linesError);
        Assert.Equal(1, pingsReceived);
    }

    [Fact]
    public void Subscribe_KernelRefusesTheRegistration_ReportsOnError()
    {
        using var loop = new EventLoop();
        using var writer = new AnonymousPipeServerStream(PipeDirection.Out);
        int b = (int)writer.ClientSafePipeHandle.DangerousGetHandle();
        Exception? firstError = null;
        using IDisposable subscription = loop.Fd(b).Subscribe(_ => { }, e => firstError = e);

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
        Assert.Null(firstError);
    }

    [Fact]
    public void VirtualClock_RxTimeOperators_RunDeterministically()
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
