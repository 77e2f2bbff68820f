using System.Reactive;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using Calloop.Rx.Testing;
using Microsoft.Reactive.Testing;

namespace Calloop.Rx.Tests.Testing;

/// <summary>
/// Rx's time operators given <see cref="EventLoop.Scheduler"/>, driven by <see cref="LoopTestScheduler"/>: each test
/// takes the input, the notifications and the subscription ticks of the Rx.NET operator test of the same name (which
/// runs the operator on <see cref="TestScheduler"/>), so the loop's scheduler must keep TestScheduler's deadline order
/// and its clock + 1 rule exactly.
/// </summary>
public sealed class TimeOperatorConformanceTests : ReactiveTest, IDisposable
{
    private readonly LoopTestScheduler _scheduler = new();

    /// <summary>The scheduler under test: the loop's own, not the test scheduler.</summary>
    private IScheduler Loop => _scheduler.Loop.Scheduler;

    public void Dispose() => _scheduler.Dispose();

    private static TimeSpan Ticks(long ticks) => TimeSpan.FromTicks(ticks);

    private static DateTimeOffset Tick(long ticks) => new(ticks, TimeSpan.Zero);

    /// <summary>The hot source most Throttle tests share, ending with <paramref name="end"/> at 400.</summary>
    private ITestableObservable<int> ThrottleSource(Recorded<Notification<int>> end) => _scheduler.CreateHotObservable(
        OnNext(150, 0), OnNext(210, 1), OnNext(240, 2), OnNext(270, 3), OnNext(300, 4), end);

    /// <summary>The hot source the Throttle drop tests share, ending with <paramref name="end"/> at 400.</summary>
    private ITestableObservable<int> ThrottleDropSource(Recorded<Notification<int>> end) => _scheduler.CreateHotObservable(
        OnNext(150, 0), OnNext(210, 1), OnNext(240, 2), OnNext(270, 3), OnNext(300, 4), OnNext(330, 5), OnNext(360, 6), OnNext(390, 7), end);

    /// <summary>The hot source of the Buffer and Window time tests, ending with <paramref name="end"/> at 600.</summary>
    private ITestableObservable<int> BufferSource(Recorded<Notification<int>> end) => _scheduler.CreateHotObservable(
        OnNext(100, 1), OnNext(210, 2), OnNext(240, 3), OnNext(280, 4), OnNext(320, 5), OnNext(350, 6), OnNext(380, 7), OnNext(420, 8), OnNext(470, 9), end);

    /// <summary>The hot source of the Delay tests, ending with <paramref name="end"/> at 550.</summary>
    private ITestableObservable<int> DelaySource(Recorded<Notification<int>> end) => _scheduler.CreateHotObservable(
        OnNext(150, 1), OnNext(250, 2), OnNext(350, 3), OnNext(450, 4), end);

    /// <summary>The hot source of the Timeout tests with a fallback.</summary>
    private ITestableObservable<int> TimeoutSource(params Recorded<Notification<int>>[] messages) => _scheduler.CreateHotObservable(messages);

    private static IObservable<string> Joined(IObservable<IList<int>> buffers) => buffers.Select(b => string.Join(",", b));

    // Throttle

    [Fact]
    public void Throttle_TimeSpan_AllPass()
    {
        var xs = ThrottleSource(OnCompleted<int>(400));
        var res = _scheduler.Start(() => xs.Throttle(Ticks(20), Loop));
        res.Messages.AssertEqual(OnNext(230, 1), OnNext(260, 2), OnNext(290, 3), OnNext(320, 4), OnCompleted<int>(400));
        xs.Subscriptions.AssertEqual(Subscribe(200, 400));
    }

    [Fact]
    public void Throttle_TimeSpan_AllPass_ErrorEnd()
    {
        var ex = new Exception();
        var xs = ThrottleSource(OnError<int>(400, ex));
        var res = _scheduler.Start(() => xs.Throttle(Ticks(20), Loop));
        res.Messages.AssertEqual(OnNext(230, 1), OnNext(260, 2), OnNext(290, 3), OnNext(320, 4), OnError<int>(400, ex));
        xs.Subscriptions.AssertEqual(Subscribe(200, 400));
    }

    [Fact]
    public void Throttle_TimeSpan_AllDrop()
    {
        var xs = ThrottleDropSource(OnCompleted<int>(400));
        var res = _scheduler.Start(() => xs.Throttle(Ticks(40), Loop));
        res.Messages.AssertEqual(OnNext(400, 7), OnCompleted<int>(400));
        xs.Subscriptions.AssertEqual(Subscribe(200, 400));
    }

    [Fact]
    public void Throttle_TimeSpan_AllDrop_ErrorEnd()
    {
        var ex = new Exception();
        var xs = ThrottleDropSource(OnError<int>(400, ex));
        var res = _scheduler.Start(() => xs.Throttle(Ticks(40), Loop));
        res.Messages.AssertEqual(OnError<int>(400, ex));
        xs.Subscriptions.AssertEqual(Subscribe(200, 400));
    }

    [Fact]
    public void Throttle_Empty()
    {
        var xs = _scheduler.CreateHotObservable(OnNext(150, 0), OnCompleted<int>(300));
        var res = _scheduler.Start(() => xs.Throttle(Ticks(10), Loop));
        res.Messages.AssertEqual(OnCompleted<int>(300));
        xs.Subscriptions.AssertEqual(Subscribe(200, 300));
    }

    [Fact]
    public void Throttle_Error()
    {
        var ex = new Exception();
        var xs = _scheduler.CreateHotObservable(OnNext(150, 0), OnError<int>(300, ex));
        var res = _scheduler.Start(() => xs.Throttle(Ticks(10), Loop));
        res.Messages.AssertEqual(OnError<int>(300, ex));
        xs.Subscriptions.AssertEqual(Subscribe(200, 300));
    }

    [Fact]
    public void Throttle_Never()
    {
        var xs = _scheduler.CreateHotObservable(OnNext(150, 0));
        var res = _scheduler.Start(() => xs.Throttle(Ticks(10), Loop));
        res.Messages.AssertEqual();
        xs.Subscriptions.AssertEqual(Subscribe(200, 1000));
    }

    [Fact]
    public void Throttle_Simple()
    {
        var xs = _scheduler.CreateHotObservable(OnNext(150, 0), OnNext(210, 1), OnNext(240, 2), OnNext(250, 3), OnNext(280, 4), OnCompleted<int>(300));
        var res = _scheduler.Start(() => xs.Throttle(Ticks(20), Loop));
        res.Messages.AssertEqual(OnNext(230, 1), OnNext(270, 3), OnNext(300, 4), OnCompleted<int>(300));
        xs.Subscriptions.AssertEqual(Subscribe(200, 300));
    }

    // Throttle with a duration selector (debounce by a per-element observable)

    private ITestableObservable<int> DurationSource(long completedAt) => _scheduler.CreateHotObservable(
        OnNext(150, -1), OnNext(250, 0), OnNext(280, 1), OnNext(310, 2), OnNext(350, 3), OnNext(400, 4), OnCompleted<int>(completedAt));

    private ITestableObservable<int>[] Durations(params long[] firstAt) =>
        [.. firstAt.Select(t => _scheduler.CreateColdObservable(OnNext(t, 42), OnNext(t + 5, 99)))];

    [Fact]
    public void Throttle_Duration_DelayBehavior()
    {
        var xs = DurationSource(550);
        var ys = Durations(20, 20, 20, 20, 20);
        var res = _scheduler.Start(() => xs.Throttle(x => ys[x]));
        res.Messages.AssertEqual(OnNext(270, 0), OnNext(300, 1), OnNext(330, 2), OnNext(370, 3), OnNext(420, 4), OnCompleted<int>(550));
        xs.Subscriptions.AssertEqual(Subscribe(200, 550));
        ys[0].Subscriptions.AssertEqual(Subscribe(250, 270));
        ys[1].Subscriptions.AssertEqual(Subscribe(280, 300));
        ys[2].Subscriptions.AssertEqual(Subscribe(310, 330));
        ys[3].Subscriptions.AssertEqual(Subscribe(350, 370));
        ys[4].Subscriptions.AssertEqual(Subscribe(400, 420));
    }

    [Fact]
    public void Throttle_Duration_ThrottleBehavior()
    {
        var xs = DurationSource(550);
        var ys = Durations(20, 40, 20, 60, 20);
        var res = _scheduler.Start(() => xs.Throttle(x => ys[x]));
        res.Messages.AssertEqual(OnNext(270, 0), OnNext(330, 2), OnNext(420, 4), OnCompleted<int>(550));
        xs.Subscriptions.AssertEqual(Subscribe(200, 550));
        ys[0].Subscriptions.AssertEqual(Subscribe(250, 270));
        ys[1].Subscriptions.AssertEqual(Subscribe(280, 310));
        ys[2].Subscriptions.AssertEqual(Subscribe(310, 330));
        ys[3].Subscriptions.AssertEqual(Subscribe(350, 400));
        ys[4].Subscriptions.AssertEqual(Subscribe(400, 420));
    }

    [Fact]
    public void Throttle_Duration_EarlyCompletion()
    {
        var xs = DurationSource(410);
        var ys = Durations(20, 40, 20, 60, 20);
        var res = _scheduler.Start(() => xs.Throttle(x => ys[x]));
        res.Messages.AssertEqual(OnNext(270, 0), OnNext(330, 2), OnNext(410, 4), OnCompleted<int>(410));
        xs.Subscriptions.AssertEqual(Subscribe(200, 410));
        ys[3].Subscriptions.AssertEqual(Subscribe(350, 400));
        ys[4].Subscriptions.AssertEqual(Subscribe(400, 410));
    }

    // Sample

    [Fact]
    public void Sample_Regular()
    {
        var xs = _scheduler.CreateHotObservable(
            OnNext(150, 1), OnNext(210, 2), OnNext(230, 3), OnNext(260, 4), OnNext(300, 5), OnNext(350, 6), OnNext(380, 7), OnCompleted<int>(390));
        var res = _scheduler.Start(() => xs.Sample(Ticks(50), Loop));
        res.Messages.AssertEqual(OnNext(250, 3), OnNext(300, 5), OnNext(350, 6), OnNext(400, 7), OnCompleted<int>(400));
        xs.Subscriptions.AssertEqual(Subscribe(200, 390));
    }

    [Fact]
    public void Sample_ErrorInFlight()
    {
        var ex = new Exception();
        var xs = _scheduler.CreateHotObservable(
            OnNext(150, 1), OnNext(210, 2), OnNext(230, 3), OnNext(260, 4), OnNext(300, 5), OnNext(310, 6), OnError<int>(330, ex));
        var res = _scheduler.Start(() => xs.Sample(Ticks(50), Loop));
        res.Messages.AssertEqual(OnNext(250, 3), OnNext(300, 5), OnError<int>(330, ex));
        xs.Subscriptions.AssertEqual(Subscribe(200, 330));
    }

    [Fact]
    public void Sample_Empty()
    {
        var xs = _scheduler.CreateHotObservable(OnNext(150, 1), OnCompleted<int>(300));
        var res = _scheduler.Start(() => xs.Sample(Ticks(50), Loop));
        res.Messages.AssertEqual(OnCompleted<int>(300));
        xs.Subscriptions.AssertEqual(Subscribe(200, 300));
    }

    [Fact]
    public void Sample_Error()
    {
        var ex = new Exception();
        var xs = _scheduler.CreateHotObservable(OnNext(150, 1), OnError<int>(300, ex));
        var res = _scheduler.Start(() => xs.Sample(Ticks(50), Loop));
        res.Messages.AssertEqual(OnError<int>(300, ex));
        xs.Subscriptions.AssertEqual(Subscribe(200, 300));
    }

    [Fact]
    public void Sample_Never()
    {
        var xs = _scheduler.CreateHotObservable(OnNext(150, 1));
        var res = _scheduler.Start(() => xs.Sample(Ticks(50), Loop));
        res.Messages.AssertEqual();
        xs.Subscriptions.AssertEqual(Subscribe(200, 1000));
    }

    // Buffer(time), Buffer(time, shift), Buffer(time, count)

    [Fact]
    public void BufferWithTime_Basic_Same()
    {
        var xs = BufferSource(OnCompleted<int>(600));
        var res = _scheduler.Start(() => Joined(xs.Buffer(Ticks(100), Loop)));
        res.Messages.AssertEqual(OnNext(300, "2,3,4"), OnNext(400, "5,6,7"), OnNext(500, "8,9"), OnNext(600, ""), OnCompleted<string>(600));
        xs.Subscriptions.AssertEqual(Subscribe(200, 600));
    }

    [Fact]
    public void BufferWithTime_Basic1()
    {
        var xs = BufferSource(OnCompleted<int>(600));
        var res = _scheduler.Start(() => Joined(xs.Buffer(Ticks(100), Ticks(70), Loop)));
        res.Messages.AssertEqual(
            OnNext(300, "2,3,4"), OnNext(370, "4,5,6"), OnNext(440, "6,7,8"), OnNext(510, "8,9"), OnNext(580, ""), OnNext(600, ""), OnCompleted<string>(600));
        xs.Subscriptions.AssertEqual(Subscribe(200, 600));
    }

    [Fact]
    public void BufferWithTime_Basic2()
    {
        var xs = BufferSource(OnCompleted<int>(600));
        var res = _scheduler.Start(() => Joined(xs.Buffer(Ticks(70), Ticks(100), Loop)));
        res.Messages.AssertEqual(OnNext(270, "2,3"), OnNext(370, "5,6"), OnNext(470, "8,9"), OnNext(570, ""), OnCompleted<string>(600));
        xs.Subscriptions.AssertEqual(Subscribe(200, 600));
    }

    [Fact]
    public void BufferWithTime_Error()
    {
        var ex = new Exception();
        var xs = BufferSource(OnError<int>(600, ex));
        var res = _scheduler.Start(() => Joined(xs.Buffer(Ticks(100), Ticks(70), Loop)));
        res.Messages.AssertEqual(
            OnNext(300, "2,3,4"), OnNext(370, "4,5,6"), OnNext(440, "6,7,8"), OnNext(510, "8,9"), OnNext(580, ""), OnError<string>(600, ex));
        xs.Subscriptions.AssertEqual(Subscribe(200, 600));
    }

    [Fact]
    public void BufferWithTime_Disposed()
    {
        var xs = BufferSource(OnCompleted<int>(600));
        var res = _scheduler.Start(() => Joined(xs.Buffer(Ticks(100), Ticks(70), Loop)), 370);
        res.Messages.AssertEqual(OnNext(300, "2,3,4"));
        xs.Subscriptions.AssertEqual(Subscribe(200, 370));
    }

    private ITestableObservable<int> BufferOrCountSource(Recorded<Notification<int>> end) => _scheduler.CreateHotObservable(
        OnNext(205, 1), OnNext(210, 2), OnNext(240, 3), OnNext(280, 4), OnNext(320, 5), OnNext(350, 6), OnNext(370, 7), OnNext(420, 8), OnNext(470, 9), end);

    [Fact]
    public void BufferWithTimeOrCount_Basic()
    {
        var xs = BufferOrCountSource(OnCompleted<int>(600));
        var res = _scheduler.Start(() => Joined(xs.Buffer(Ticks(70), 3, Loop)));
        res.Messages.AssertEqual(
            OnNext(240, "1,2,3"), OnNext(310, "4"), OnNext(370, "5,6,7"), OnNext(440, "8"), OnNext(510, "9"), OnNext(580, ""), OnNext(600, ""), OnCompleted<string>(600));
        xs.Subscriptions.AssertEqual(Subscribe(200, 600));
    }

    [Fact]
    public void BufferWithTimeOrCount_Error()
    {
        var ex = new Exception();
        var xs = BufferOrCountSource(OnError<int>(600, ex));
        var res = _scheduler.Start(() => Joined(xs.Buffer(Ticks(70), 3, Loop)));
        res.Messages.AssertEqual(
            OnNext(240, "1,2,3"), OnNext(310, "4"), OnNext(370, "5,6,7"), OnNext(440, "8"), OnNext(510, "9"), OnNext(580, ""), OnError<string>(600, ex));
        xs.Subscriptions.AssertEqual(Subscribe(200, 600));
    }

    // Window(time), Window(time, shift)

    private static IObservable<string> Numbered(IObservable<IObservable<int>> windows) =>
        windows.Select((w, i) => w.Select(x => $"{i} {x}")).Merge();

    [Fact]
    public void WindowWithTime_Basic_Same()
    {
        var xs = BufferSource(OnCompleted<int>(600));
        var res = _scheduler.Start(() => Numbered(xs.Window(Ticks(100), Loop)));
        res.Messages.AssertEqual(
            OnNext(210, "0 2"), OnNext(240, "0 3"), OnNext(280, "0 4"), OnNext(320, "1 5"), OnNext(350, "1 6"), OnNext(380, "1 7"),
            OnNext(420, "2 8"), OnNext(470, "2 9"), OnCompleted<string>(600));
        xs.Subscriptions.AssertEqual(Subscribe(200, 600));
    }

    [Fact]
    public void WindowWithTime_Basic1()
    {
        var xs = BufferSource(OnCompleted<int>(600));
        var res = _scheduler.Start(() => Numbered(xs.Window(Ticks(100), Ticks(70), Loop)));
        res.Messages.AssertEqual(
            OnNext(210, "0 2"), OnNext(240, "0 3"), OnNext(280, "0 4"), OnNext(280, "1 4"), OnNext(320, "1 5"), OnNext(350, "1 6"), OnNext(350, "2 6"),
            OnNext(380, "2 7"), OnNext(420, "2 8"), OnNext(420, "3 8"), OnNext(470, "3 9"), OnCompleted<string>(600));
        xs.Subscriptions.AssertEqual(Subscribe(200, 600));
    }

    // Timeout

    [Fact]
    public void Timeout_TimeSpan_TimeoutOccurs_WithDefaultException()
    {
        var xs = TimeoutSource(OnNext(410, 1));
        var res = _scheduler.Start(() => xs.Timeout(Ticks(200), Loop));
        res.Messages.AssertEqual(OnError<int>(400, ex => ex is TimeoutException));
        xs.Subscriptions.AssertEqual(Subscribe(200, 400));
    }

    [Fact]
    public void Timeout_DateTimeOffset_TimeoutOccurs_WithDefaultException()
    {
        var xs = TimeoutSource(OnNext(410, 1));
        var res = _scheduler.Start(() => xs.Timeout(Tick(400), Loop));
        res.Messages.AssertEqual(OnError<int>(400, ex => ex is TimeoutException));
        xs.Subscriptions.AssertEqual(Subscribe(200, 400));
    }

    [Fact]
    public void Timeout_TimeoutOccurs_1()
    {
        var xs = TimeoutSource(OnNext(70, 1), OnNext(130, 2), OnNext(310, 3), OnNext(400, 4), OnCompleted<int>(500));
        var ys = _scheduler.CreateColdObservable(OnNext(50, -1), OnNext(200, -2), OnNext(310, -3), OnCompleted<int>(320));
        var res = _scheduler.Start(() => xs.Timeout(Ticks(100), ys, Loop));
        res.Messages.AssertEqual(OnNext(350, -1), OnNext(500, -2), OnNext(610, -3), OnCompleted<int>(620));
        xs.Subscriptions.AssertEqual(Subscribe(200, 300));
        ys.Subscriptions.AssertEqual(Subscribe(300, 620));
    }

    [Fact]
    public void Timeout_TimeoutOccurs_2()
    {
        var xs = TimeoutSource(OnNext(70, 1), OnNext(130, 2), OnNext(240, 3), OnNext(310, 4), OnNext(430, 5), OnCompleted<int>(500));
        var ys = _scheduler.CreateColdObservable(OnNext(50, -1), OnNext(200, -2), OnNext(310, -3), OnCompleted<int>(320));
        var res = _scheduler.Start(() => xs.Timeout(Ticks(100), ys, Loop));
        res.Messages.AssertEqual(OnNext(240, 3), OnNext(310, 4), OnNext(460, -1), OnNext(610, -2), OnNext(720, -3), OnCompleted<int>(730));
        xs.Subscriptions.AssertEqual(Subscribe(200, 410));
        ys.Subscriptions.AssertEqual(Subscribe(410, 730));
    }

    [Fact]
    public void Timeout_TimeoutOccurs_Never()
    {
        var xs = TimeoutSource(OnNext(70, 1), OnNext(130, 2), OnNext(240, 3), OnNext(310, 4), OnNext(430, 5), OnCompleted<int>(500));
        var ys = _scheduler.CreateColdObservable<int>();
        var res = _scheduler.Start(() => xs.Timeout(Ticks(100), ys, Loop));
        res.Messages.AssertEqual(OnNext(240, 3), OnNext(310, 4));
        xs.Subscriptions.AssertEqual(Subscribe(200, 410));
        ys.Subscriptions.AssertEqual(Subscribe(410, 1000));
    }

    [Fact]
    public void Timeout_TimeoutOccurs_Completed()
    {
        var xs = TimeoutSource(OnCompleted<int>(500));
        var ys = _scheduler.CreateColdObservable(OnNext(100, -1));
        var res = _scheduler.Start(() => xs.Timeout(Ticks(100), ys, Loop));
        res.Messages.AssertEqual(OnNext(400, -1));
        xs.Subscriptions.AssertEqual(Subscribe(200, 300));
        ys.Subscriptions.AssertEqual(Subscribe(300, 1000));
    }

    [Fact]
    public void Timeout_TimeoutNotOccurs_Completed()
    {
        var xs = TimeoutSource(OnCompleted<int>(250));
        var ys = _scheduler.CreateColdObservable(OnNext(100, -1));
        var res = _scheduler.Start(() => xs.Timeout(Ticks(100), ys, Loop));
        res.Messages.AssertEqual(OnCompleted<int>(250));
        xs.Subscriptions.AssertEqual(Subscribe(200, 250));
        ys.Subscriptions.AssertEqual();
    }

    [Fact]
    public void Timeout_TimeoutDoesNotOccur()
    {
        var xs = TimeoutSource(OnNext(70, 1), OnNext(130, 2), OnNext(240, 3), OnNext(320, 4), OnNext(410, 5), OnCompleted<int>(500));
        var ys = _scheduler.CreateColdObservable(OnNext(50, -1), OnNext(200, -2), OnNext(310, -3), OnCompleted<int>(320));
        var res = _scheduler.Start(() => xs.Timeout(Ticks(100), ys, Loop));
        res.Messages.AssertEqual(OnNext(240, 3), OnNext(320, 4), OnNext(410, 5), OnCompleted<int>(500));
        xs.Subscriptions.AssertEqual(Subscribe(200, 500));
        ys.Subscriptions.AssertEqual();
    }

    [Fact]
    public void Timeout_DateTimeOffset_TimeoutOccur_2()
    {
        var xs = TimeoutSource(OnNext(310, 1), OnNext(350, 2), OnNext(420, 3), OnCompleted<int>(450));
        var ys = _scheduler.CreateColdObservable(OnNext(100, -1));
        var res = _scheduler.Start(() => xs.Timeout(Tick(400), ys, Loop));
        res.Messages.AssertEqual(OnNext(310, 1), OnNext(350, 2), OnNext(500, -1));
        xs.Subscriptions.AssertEqual(Subscribe(200, 400));
        ys.Subscriptions.AssertEqual(Subscribe(400, 1000));
    }

    // Delay

    [Fact]
    public void Delay_TimeSpan_Simple2()
    {
        var xs = DelaySource(OnCompleted<int>(550));
        var res = _scheduler.Start(() => xs.Delay(Ticks(50), Loop));
        res.Messages.AssertEqual(OnNext(300, 2), OnNext(400, 3), OnNext(500, 4), OnCompleted<int>(600));
        xs.Subscriptions.AssertEqual(Subscribe(200, 550));
    }

    [Fact]
    public void Delay_TimeSpan_Simple3()
    {
        var xs = DelaySource(OnCompleted<int>(550));
        var res = _scheduler.Start(() => xs.Delay(Ticks(150), Loop));
        res.Messages.AssertEqual(OnNext(400, 2), OnNext(500, 3), OnNext(600, 4), OnCompleted<int>(700));
        xs.Subscriptions.AssertEqual(Subscribe(200, 550));
    }

    [Fact]
    public void Delay_DateTimeOffset_Simple1()
    {
        var xs = DelaySource(OnCompleted<int>(550));
        var res = _scheduler.Start(() => xs.Delay(Tick(300), Loop));
        res.Messages.AssertEqual(OnNext(350, 2), OnNext(450, 3), OnNext(550, 4), OnCompleted<int>(650));
        xs.Subscriptions.AssertEqual(Subscribe(200, 550));
    }

    [Fact]
    public void Delay_TimeSpan_Error1()
    {
        var ex = new Exception();
        var xs = DelaySource(OnError<int>(550, ex));
        var res = _scheduler.Start(() => xs.Delay(Ticks(50), Loop));
        res.Messages.AssertEqual(OnNext(300, 2), OnNext(400, 3), OnNext(500, 4), OnError<int>(550, ex));
        xs.Subscriptions.AssertEqual(Subscribe(200, 550));
    }

    [Fact]
    public void Delay_TimeSpan_Error2()
    {
        var ex = new Exception();
        var xs = DelaySource(OnError<int>(550, ex));
        var res = _scheduler.Start(() => xs.Delay(Ticks(150), Loop));
        res.Messages.AssertEqual(OnNext(400, 2), OnNext(500, 3), OnError<int>(550, ex));
        xs.Subscriptions.AssertEqual(Subscribe(200, 550));
    }

    [Fact]
    public void Delay_Empty()
    {
        var xs = _scheduler.CreateHotObservable(OnNext(150, 1), OnCompleted<int>(550));
        var res = _scheduler.Start(() => xs.Delay(Ticks(10), Loop));
        res.Messages.AssertEqual(OnCompleted<int>(560));
        xs.Subscriptions.AssertEqual(Subscribe(200, 550));
    }

    // DelaySubscription

    [Fact]
    public void DelaySubscription_TimeSpan_Simple()
    {
        var xs = _scheduler.CreateColdObservable(OnNext(50, 42), OnNext(60, 43), OnCompleted<int>(70));
        var res = _scheduler.Start(() => xs.DelaySubscription(Ticks(30), Loop));
        res.Messages.AssertEqual(OnNext(280, 42), OnNext(290, 43), OnCompleted<int>(300));
        xs.Subscriptions.AssertEqual(Subscribe(230, 300));
    }

    [Fact]
    public void DelaySubscription_DateTimeOffset_Simple()
    {
        var xs = _scheduler.CreateColdObservable(OnNext(50, 42), OnNext(60, 43), OnCompleted<int>(70));
        var res = _scheduler.Start(() => xs.DelaySubscription(Tick(255), Loop));
        res.Messages.AssertEqual(OnNext(305, 42), OnNext(315, 43), OnCompleted<int>(325));
        xs.Subscriptions.AssertEqual(Subscribe(255, 325));
    }

    [Fact]
    public void DelaySubscription_TimeSpan_Error()
    {
        var ex = new Exception();
        var xs = _scheduler.CreateColdObservable(OnNext(50, 42), OnNext(60, 43), OnError<int>(70, ex));
        var res = _scheduler.Start(() => xs.DelaySubscription(Ticks(30), Loop));
        res.Messages.AssertEqual(OnNext(280, 42), OnNext(290, 43), OnError<int>(300, ex));
        xs.Subscriptions.AssertEqual(Subscribe(230, 300));
    }

    // Interval and Timer

    [Fact]
    public void Interval_TimeSpan_Basic()
    {
        var res = _scheduler.Start(() => Observable.Interval(Ticks(100), Loop));
        res.Messages.AssertEqual(
            OnNext(300, 0L), OnNext(400, 1L), OnNext(500, 2L), OnNext(600, 3L), OnNext(700, 4L), OnNext(800, 5L), OnNext(900, 6L));
    }

    [Fact]
    public void Interval_TimeSpan_Zero()
    {
        var res = _scheduler.Start(() => Observable.Interval(TimeSpan.Zero, Loop), 210);
        res.Messages.AssertEqual(
            OnNext(201, 0L), OnNext(202, 1L), OnNext(203, 2L), OnNext(204, 3L), OnNext(205, 4L), OnNext(206, 5L), OnNext(207, 6L), OnNext(208, 7L), OnNext(209, 8L));
    }

    [Fact]
    public void OneShotTimer_TimeSpan_Basic()
    {
        var res = _scheduler.Start(() => Observable.Timer(Ticks(300), Loop));
        res.Messages.AssertEqual(OnNext(500, 0L), OnCompleted<long>(500));
    }

    [Fact]
    public void OneShotTimer_TimeSpan_Zero()
    {
        var res = _scheduler.Start(() => Observable.Timer(TimeSpan.Zero, Loop));
        res.Messages.AssertEqual(OnNext(201, 0L), OnCompleted<long>(201));
    }

    [Fact]
    public void OneShotTimer_TimeSpan_Negative()
    {
        var res = _scheduler.Start(() => Observable.Timer(Ticks(-1), Loop));
        res.Messages.AssertEqual(OnNext(201, 0L), OnCompleted<long>(201));
    }

    [Fact]
    public void OneShotTimer_TimeSpan_Disposed()
    {
        var res = _scheduler.Start(() => Observable.Timer(Ticks(1000), Loop));
        res.Messages.AssertEqual();
    }

    [Fact]
    public void OneShotTimer_DateTimeOffset_Basic()
    {
        var res = _scheduler.Start(() => Observable.Timer(Tick(500), Loop));
        res.Messages.AssertEqual(OnNext(500, 0L), OnCompleted<long>(500));
    }

    [Fact]
    public void OneShotTimer_DateTimeOffset_Zero()
    {
        var res = _scheduler.Start(() => Observable.Timer(Tick(200), Loop));
        res.Messages.AssertEqual(OnNext(201, 0L), OnCompleted<long>(201));
    }

    [Fact]
    public void OneShotTimer_DateTimeOffset_Past()
    {
        var res = _scheduler.Start(() => Observable.Timer(Tick(0), Loop));
        res.Messages.AssertEqual(OnNext(201, 0L), OnCompleted<long>(201));
    }

    [Fact]
    public void RepeatingTimer_TimeSpan_TimeSpan_Simple()
    {
        var res = _scheduler.Start(() => Observable.Timer(Ticks(100), Ticks(100), Loop), 0, 200, 750);
        res.Messages.AssertEqual(OnNext(300, 0L), OnNext(400, 1L), OnNext(500, 2L), OnNext(600, 3L), OnNext(700, 4L));
    }

    [Fact]
    public void RepeatingTimer_DateTimeOffset_TimeSpan_Simple()
    {
        var res = _scheduler.Start(() => Observable.Timer(Tick(300), Ticks(100), Loop), 0, 200, 750);
        res.Messages.AssertEqual(OnNext(300, 0L), OnNext(400, 1L), OnNext(500, 2L), OnNext(600, 3L), OnNext(700, 4L));
    }

    [Fact]
    public void RepeatingTimer_UsingStopwatch_Slippage1()
    {
        // Time passes inside the observer (Sleep, as slow work would take); the timer's stopwatch sees it and catches up.
        IObservable<long>? xs = null;
        _scheduler.ScheduleAbsolute(100, () => xs = Observable.Timer(TimeSpan.Zero, Ticks(100), Loop));
        var times = new List<long>();
        IDisposable? subscription = null;
        _scheduler.ScheduleAbsolute(200, () => subscription = xs!.Subscribe(x =>
        {
            times.Add(_scheduler.Clock);
            long sleep = x switch { 0 => 0, < 2 => 50, < 4 => 120, < 6 => 50, _ => 0 };
            _scheduler.Sleep(sleep);
        }));
        _scheduler.ScheduleAbsolute(1000, () => subscription!.Dispose());

        _scheduler.Start();

        times.AssertEqual(201, 301, 401, 522, 643, 701, 801, 901);
    }

    // Take and Skip by time

    private ITestableObservable<int> TakeSource() => _scheduler.CreateHotObservable(OnNext(210, 1), OnNext(220, 2), OnNext(230, 3), OnCompleted<int>(240));

    [Fact]
    public void Take_Zero()
    {
        var xs = _scheduler.CreateHotObservable(OnNext(210, 1), OnNext(220, 2), OnCompleted<int>(230));
        var res = _scheduler.Start(() => xs.Take(TimeSpan.Zero, Loop));
        res.Messages.AssertEqual(OnCompleted<int>(201));
        xs.Subscriptions.AssertEqual(Subscribe(200, 201));
    }

    [Fact]
    public void Take_Some()
    {
        var xs = TakeSource();
        var res = _scheduler.Start(() => xs.Take(Ticks(25), Loop));
        res.Messages.AssertEqual(OnNext(210, 1), OnNext(220, 2), OnCompleted<int>(225));
        xs.Subscriptions.AssertEqual(Subscribe(200, 225));
    }

    [Fact]
    public void Skip_Zero()
    {
        var xs = _scheduler.CreateHotObservable(OnNext(210, 1), OnNext(220, 2), OnCompleted<int>(230));
        var res = _scheduler.Start(() => xs.Skip(TimeSpan.Zero, Loop));
        res.Messages.AssertEqual(OnNext(210, 1), OnNext(220, 2), OnCompleted<int>(230));
        xs.Subscriptions.AssertEqual(Subscribe(200, 230));
    }

    [Fact]
    public void Skip_Some()
    {
        var xs = _scheduler.CreateHotObservable(OnNext(210, 1), OnNext(220, 2), OnCompleted<int>(230));
        var res = _scheduler.Start(() => xs.Skip(Ticks(15), Loop));
        res.Messages.AssertEqual(OnNext(220, 2), OnCompleted<int>(230));
        xs.Subscriptions.AssertEqual(Subscribe(200, 230));
    }

    // GroupByUntil with a timed duration

    private ITestableObservable<string> GroupSource() => _scheduler.CreateHotObservable(
        OnNext(220, "bar"), OnNext(240, "foo"), OnNext(310, "qux"), OnNext(470, "baz"), OnCompleted<string>(500));

    [Fact]
    public void GroupByUntil_NullKeys_Simple_Expire1()
    {
        var xs = GroupSource();
        int n = 0;
        var res = _scheduler.Start(() => xs.GroupByUntil(
            x => x[0] == 'b' ? null : x.ToUpperInvariant(),
            g =>
            {
                if (g.Key == null)
                {
                    n++;
                }

                return Observable.Timer(Ticks(50), Loop);
            }).SelectMany(g => g, (g, x) => (g.Key ?? "(null)") + x));
        Assert.Equal(2, n);
        res.Messages.AssertEqual(OnNext(220, "(null)bar"), OnNext(240, "FOOfoo"), OnNext(310, "QUXqux"), OnNext(470, "(null)baz"), OnCompleted<string>(500));
        xs.Subscriptions.AssertEqual(Subscribe(200, 500));
    }

    [Fact]
    public void GroupByUntil_NullKeys_Simple_Expire2()
    {
        var xs = GroupSource();
        int n = 0;
        var res = _scheduler.Start(() => xs.GroupByUntil(
            x => x[0] == 'b' ? null : x.ToUpperInvariant(),
            g =>
            {
                if (g.Key == null)
                {
                    n++;
                }

                return Observable.Timer(Ticks(50), Loop).IgnoreElements();
            }).SelectMany(g => g, (g, x) => (g.Key ?? "(null)") + x));
        Assert.Equal(2, n);
        res.Messages.AssertEqual(OnNext(220, "(null)bar"), OnNext(240, "FOOfoo"), OnNext(310, "QUXqux"), OnNext(470, "(null)baz"), OnCompleted<string>(500));
        xs.Subscriptions.AssertEqual(Subscribe(200, 500));
    }
}
