using System.IO.Pipes;
using System.Reactive.Linq;
using System.Text;
using Calloop.Rx.Testing;
using Microsoft.Reactive.Testing;

namespace Calloop.Rx.Tests.Testing;

/// <summary>
/// The same virtual-time test run many times in a row gives the same messages, although its input goes through a
/// real pipe and a real channel: nothing in the outcome depends on thread timing.
/// </summary>
public sealed class DeterminismTests : ReactiveTest
{
    private const int Runs = 1_000;

    [Fact]
    public void PipelineOfTimersAChannelAndAnFd_GivesTheSameMessages_1000RunsInARow()
    {
        IList<Recorded<System.Reactive.Notification<string>>> first = RunOnce();
        // The loop timer was made at tick 0 and fires at 200, as it is subscribed. At 280 the debounce of message 1
        // is due with the scripted send of message 2: the send runs first, but the message it causes is a real event,
        // delivered after the work due at that tick, so 1 and 2 are separate batches.
        first.AssertEqual(
            OnNext(200, "timer"),
            OnNext(250, "fd:ab"),
            OnNext(280, "channel:1"),
            OnNext(300, "tick:0"),
            OnNext(300, "channel:2"),
            OnNext(350, "fd:cd"),
            OnNext(400, "tick:1"),
            OnNext(500, "tick:2"),
            OnNext(500, "channel:3"),
            OnNext(500, "fd:ef"),
            OnNext(600, "tick:3"),
            OnNext(700, "tick:4"),
            OnNext(750, "channel:4"));

        for (int run = 1; run < Runs; run++)
        {
            Assert.Equal(first, RunOnce());
        }
    }

    /// <summary>
    /// Ticks of an interval, a one-shot loop timer, channel messages debounced on the loop's scheduler, and bytes read
    /// from a pipe, all merged; the script writes and sends at fixed ticks.
    /// </summary>
    private static IList<Recorded<System.Reactive.Notification<string>>> RunOnce()
    {
        using var scheduler = new LoopTestScheduler();
        EventLoop loop = scheduler.Loop;
        using var writer = new AnonymousPipeServerStream(PipeDirection.Out);
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, writer.ClientSafePipeHandle);
        int a = (int)writer.SafePipeHandle.DangerousGetHandle();
        byte[] buffer = new byte[64];
        var (sender, messages) = loop.Channel<int>();
        scheduler.Script
            .Write(250, a, "ab"u8).Send(260, sender, 1).Send(280, sender, 2).Write(350, a, "cd"u8)
            .Send(480, sender, 3).Write(500, a, "ef"u8).Send(730, sender, 4);

        IObservable<string> ticks = Observable.Interval(TimeSpan.FromTicks(100), loop.Scheduler).Select(i => $"tick:{i}");
        IObservable<string> timer = loop.Timer(TimeSpan.FromTicks(200)).Select(_ => "timer");
        IObservable<string> debounced = messages.Buffer(() => messages.Throttle(TimeSpan.FromTicks(20), loop.Scheduler))
            .Where(batch => batch.Count > 0)
            .Select(batch => "channel:" + string.Join(",", batch));
        IObservable<string> bytes = loop.Fd(reader.SafePipeHandle).Select(_ => "fd:" + Encoding.ASCII.GetString(buffer, 0, reader.Read(buffer)));

        return scheduler.Start(() => Observable.Merge(ticks, timer, debounced, bytes), created: 100, subscribed: 200, disposed: 800).Messages;
    }
}
