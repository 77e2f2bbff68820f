using System.Reactive;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// Error propagation, which calloop's suite does not cover. The rules differ from calloop's on
/// purpose: calloop drops the rest of the batch and skips the idles when a callback fails; here an observer's
/// exception comes out of <c>Dispatch</c> once that event reached every subscriber, and what was not delivered yet
/// is delivered by the next <c>Dispatch</c>, which does not wait. A source whose own processing throws ends with
/// <c>OnError</c> and the loop goes on.
/// </summary>
public class ErrorPropagationTests
{
    [Fact]
    public void ObserverException_OneOfSeveral_ComesOutAfterEverySubscriberGotTheEvent()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var boom = new InvalidOperationException("boom");
        var before = new ContractObserver<Unit>(loop);
        var thrower = new ContractObserver<Unit>(loop, _ => throw boom);
        var after = new ContractObserver<Unit>(loop);
        pings.Subscribe(before);
        pings.Subscribe(thrower);
        pings.Subscribe(after);

        ping.Send();
        var thrown = Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));

        Assert.Same(boom, thrown);
        Assert.Single(before.Values);
        Assert.Single(thrower.Values);
        Assert.Single(after.Values);

        // The next Dispatch finishes the interrupted one (it does not poll); after it the source works as usual.
        loop.Dispatch(TimeSpan.Zero);
        ping.Send();
        Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));
        Assert.Equal(2, after.Values.Count);
        before.AssertClean();
        after.AssertClean();
    }

    [Fact]
    public void ObserverException_Undelivered_ComesWithTheNextDispatchWithoutWaiting()
    {
        using var loop = new EventLoop();
        var (firstPing, firstPings) = loop.Ping();
        var (secondPing, secondPings) = loop.Ping();
        bool thrown = false;
        var log = new List<string>();

        // Whichever ping the kernel reports first throws; the other must still be delivered, by the next Dispatch.
        void OnPing(string name)
        {
            log.Add(name);
            if (!thrown)
            {
                thrown = true;
                throw new InvalidOperationException("boom");
            }
        }

        var first = new ContractObserver<Unit>(loop, _ => OnPing("first"));
        var second = new ContractObserver<Unit>(loop, _ => OnPing("second"));
        var timer = new ContractObserver<DateTimeOffset>(loop, _ => log.Add("timer"));
        firstPings.Subscribe(first);
        secondPings.Subscribe(second);
        loop.Timer(TimeSpan.Zero).Subscribe(timer);
        loop.InsertIdle(() => log.Add("idle"));
        firstPing.Send();
        secondPing.Send();

        Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));
        Assert.Single(log);

        // Dispatch(null) would block forever if it waited: there is nothing left to wake it but the watchdog.
        Watchdog.Dispatch(loop, "the interrupted dispatch was not resumed at once");

        Assert.Equal(["first", "second"], log.Take(2).Order());
        Assert.Equal(["timer", "idle"], log.Skip(2));
        first.AssertClean();
        second.AssertClean();
        timer.AssertClean();
    }

    [Fact]
    public void ObserverException_InAChannelBatch_LosesAndRepeatsNothing()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var observer = new ContractObserver<int>(loop, value =>
        {
            if (value == 1)
            {
                throw new InvalidOperationException("boom");
            }
        });
        messages.Subscribe(observer);
        for (int i = 0; i < 5; i++)
        {
            sender.Send(i);
        }

        sender.Dispose();

        Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));
        Assert.Equal([0, 1], observer.Values);
        loop.DispatchUntil(() => observer.Completed, "the rest of the messages");

        Assert.Equal([0, 1, 2, 3, 4], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void ObserverException_SeveralObserversThrow_ComeOutTogether()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var one = new ContractObserver<Unit>(loop, _ => throw new InvalidOperationException("one"));
        var two = new ContractObserver<Unit>(loop, _ => throw new ArgumentException("two"));
        pings.Subscribe(one);
        pings.Subscribe(two);

        ping.Send();
        var thrown = Assert.Throws<AggregateException>(() => loop.Dispatch(TimeSpan.Zero));

        Assert.Collection(
            thrown.InnerExceptions,
            e => Assert.Equal("one", e.Message),
            e => Assert.Equal("two", e.Message));
    }

    [Fact]
    public void ActionOrIdle_Throws_ComesOutAndTheRestRunsNextTime()
    {
        using var loop = new EventLoop();
        var log = new List<string>();
        loop.InsertIdle(() => throw new InvalidOperationException("idle"));
        loop.InsertIdle(() => log.Add("second idle"));

        Assert.Throws<InvalidOperationException>(() => loop.Dispatch(TimeSpan.Zero));
        Assert.Empty(log);

        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(["second idle"], log);
    }

    [Fact]
    public void ObserverException_DuringRun_EndsRun()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        pings.Subscribe(new ContractObserver<Unit>(loop, _ => throw new InvalidOperationException("boom")));
        ping.Send();

        using var watchdog = new Watchdog(loop);
        Assert.Throws<InvalidOperationException>(() => loop.Run());
        watchdog.AssertNotFired("Run did not end with the exception");
    }

    [Fact]
    public void CustomSource_ProcessingThrows_GetsOnErrorAndTheOthersGoOn()
    {
        using var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        var inner = new FdEventSource(pipe.Second) { Failure = new InvalidOperationException("the source broke") };
        LoopSource<int> failing = loop.Insert(inner);
        var failed = new ContractObserver<int>(loop);
        failing.Subscribe(failed);
        var (ping, pings) = loop.Ping();
        var pinged = new ContractObserver<Unit>(loop);
        pings.Subscribe(pinged);

        pipe.Poke();
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);

        // Not an observer's exception: Dispatch does not throw, the source ends with OnError and is unregistered.
        Assert.Same(inner.Failure, failed.Error);
        Assert.True(failing.IsTerminated);
        Assert.Equal(1, inner.UnregisterCount);
        Assert.Single(pinged.Values);

        // Still readable, but no longer watched; the others go on.
        pipe.Poke();
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(1, inner.ProcessCount);
        Assert.Equal(2, pinged.Values.Count);

        // A later subscriber gets the same terminal notification.
        var late = new ContractObserver<int>(loop);
        failing.Subscribe(late);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Same(inner.Failure, late.Error);
        failed.AssertClean();
        pinged.AssertClean();
        late.AssertClean();
    }
}
