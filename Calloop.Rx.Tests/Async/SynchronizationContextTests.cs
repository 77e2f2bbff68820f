using System.Reactive;
using System.Reactive.Concurrency;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Async;

public class SynchronizationContextTests
{
    [Fact]
    public void Dispatch_Running_InstallsTheContextAndRestoresItAfter()
    {
        using var loop = new EventLoop();
        SynchronizationContext? before = SynchronizationContext.Current;
        var seen = new List<SynchronizationContext?>();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop, _ => seen.Add(SynchronizationContext.Current));
        using var subscription = pings.Subscribe(observer);
        ping.Send();
        loop.Scheduler.Schedule(() => seen.Add(SynchronizationContext.Current));
        loop.InsertIdle(() => seen.Add(SynchronizationContext.Current));

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(3, seen.Count);
        Assert.All(seen, context => Assert.Same(loop.SynchronizationContext, context));
        Assert.Same(before, SynchronizationContext.Current);
        observer.AssertClean();
    }

    [Fact]
    public void Dispatch_Throws_StillRestoresTheContext()
    {
        using var loop = new EventLoop();
        var foreign = new SynchronizationContext();
        SynchronizationContext? before = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(foreign);
        try
        {
            loop.Scheduler.Schedule(() => throw new InvalidOperationException("boom"));
            Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));
            Assert.Same(foreign, SynchronizationContext.Current);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(before);
        }
    }

    [Fact]
    public void AdvanceTo_Running_InstallsTheContext()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        SynchronizationContext? seen = null;
        loop.Scheduler.Schedule(TimeSpan.FromSeconds(1), () => seen = SynchronizationContext.Current);

        loop.AdvanceBy(TimeSpan.FromSeconds(1));

        Assert.Same(loop.SynchronizationContext, seen);
        Assert.NotSame(loop.SynchronizationContext, SynchronizationContext.Current);
    }

    [Fact]
    public void Post_OnTheLoopThread_RunsInALaterActionsPhaseNeverInline()
    {
        using var loop = new EventLoop();
        var order = new List<string>();
        loop.Scheduler.Schedule(() =>
        {
            SynchronizationContext.Current!.Post(_ => order.Add("posted"), null);
            order.Add("after post");
        });

        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(["after post"], order);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(["after post", "posted"], order);
    }

    [Fact]
    public void Post_FromAnotherThread_WakesTheLoopAndRunsOnIt()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        int ranOn = 0;
        var poster = new Thread(() => loop.SynchronizationContext.Post(_ => ranOn = Environment.CurrentManagedThreadId, null));
        poster.Start();

        loop.DispatchUntil(() => ranOn != 0, "the posted callback");
        poster.Join();

        Assert.Equal(loopThread, ranOn);
    }

    [Fact]
    public void Post_CallbackThrows_ComesOutOfDispatchAndTheRestStillRuns()
    {
        using var loop = new EventLoop();
        bool second = false;
        loop.SynchronizationContext.Post(_ => throw new InvalidOperationException("posted"), null);
        loop.SynchronizationContext.Post(_ => second = true, null);

        var error = Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));
        Assert.Equal("posted", error.Message);
        Assert.False(second);

        loop.Dispatch(TimeSpan.Zero);
        Assert.True(second);
    }

    [Fact]
    public void AsyncVoid_Throws_ComesOutOfDispatch()
    {
        using var loop = new EventLoop();
        loop.Scheduler.Schedule(() => Fail());

        var error = Assert.Throws<InvalidOperationException>(() => loop.DispatchUntil(() => false));
        Assert.Equal("async void", error.Message);

        static async void Fail()
        {
            await Task.Yield();
            throw new InvalidOperationException("async void");
        }
    }

    [Fact]
    public void Post_AfterLoopDispose_IsDroppedSilently()
    {
        var loop = new EventLoop();
        LoopSynchronizationContext context = loop.SynchronizationContext;
        loop.Dispose();

        bool ran = false;
        context.Post(_ => ran = true, null);

        Assert.False(ran);
    }

    [Fact]
    public void CreateCopy_Called_ReturnsTheSameContext()
    {
        using var loop = new EventLoop();
        Assert.Same(loop.SynchronizationContext, loop.SynchronizationContext.CreateCopy());
        Assert.Same(loop, loop.SynchronizationContext.Loop);
    }

    [Fact]
    public void Send_OnTheLoopThread_RunsInline()
    {
        using var loop = new EventLoop();
        var order = new List<string>();
        loop.Scheduler.Schedule(() =>
        {
            SynchronizationContext.Current!.Send(_ => order.Add("sent"), null);
            order.Add("after send");
        });

        loop.Dispatch(TimeSpan.Zero);

        Assert.Equal(["sent", "after send"], order);
    }

    [Fact]
    public void Send_FromAnotherThread_WaitsForTheLoopAndGetsTheException()
    {
        using var loop = new EventLoop();
        int loopThread = Environment.CurrentManagedThreadId;
        int ranOn = 0;
        Exception? sendError = null;
        bool returned = false;
        var sender = new Thread(() =>
        {
            loop.SynchronizationContext.Send(_ => ranOn = Environment.CurrentManagedThreadId, null);
            try
            {
                loop.SynchronizationContext.Send(_ => throw new InvalidOperationException("sent"), null);
            }
            catch (Exception e)
            {
                sendError = e;
            }

            Volatile.Write(ref returned, true);
        });
        sender.Start();

        // The callback's exception goes back to the sender, not out of Dispatch.
        loop.DispatchUntil(() => Volatile.Read(ref returned), "both sends");
        sender.Join();

        Assert.Equal(loopThread, ranOn);
        Assert.Equal("sent", Assert.IsType<InvalidOperationException>(sendError).Message);
    }

    [Fact]
    public void Send_FromAnotherThreadAfterLoopDispose_Fails()
    {
        var loop = new EventLoop();
        Exception? sendError = null;
        bool ran = false;
        var sender = new Thread(() =>
        {
            try
            {
                loop.SynchronizationContext.Send(_ => ran = true, null);
            }
            catch (Exception e)
            {
                sendError = e;
            }
        });
        sender.Start();
        Assert.True(SpinWait.SpinUntil(() => loop.QueuedWorkCount > 0, LoopExtensions.Patience), "the send was never queued");

        loop.Dispose();
        Assert.True(sender.Join(LoopExtensions.Patience));

        Assert.False(ran);
        Assert.IsType<ObjectDisposedException>(sendError);
        Assert.Throws<ObjectDisposedException>(() => loop.SynchronizationContext.Send(_ => { }, null));
    }
}
