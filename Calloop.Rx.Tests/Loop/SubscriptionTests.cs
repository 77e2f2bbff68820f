using System.Reactive;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// Subscription is registration: shared by all subscribers, hot with a kernel or queue buffer, thread-safe, exact on
/// the loop thread, and never re-entrant.
/// </summary>
public class SubscriptionTests
{
    [Fact]
    public void TwoSubscribers_ShareOneRegistration()
    {
        using var loop = new EventLoop();
        var (read, write) = TestSys.Pipe();
        try
        {
            var inner = new FdEventSource(read);
            LoopSource<int> source = loop.Insert(inner);
            var first = new ContractObserver<int>(loop);
            var second = new ContractObserver<int>(loop);
            Assert.False(source.IsActive);

            IDisposable firstSubscription = source.Subscribe(first);
            IDisposable secondSubscription = source.Subscribe(second);
            Assert.True(source.IsActive);
            Assert.Equal(1, inner.RegisterCount);

            // Broadcast: each subscriber gets the event.
            TestSys.Write(write, "abc"u8);
            loop.DispatchUntil(() => first.Values.Count == 1 && second.Values.Count == 1);
            Assert.Equal([3], first.Values);
            Assert.Equal([3], second.Values);

            firstSubscription.Dispose();
            Assert.True(source.IsActive);
            Assert.Equal(0, inner.UnregisterCount);
            TestSys.Write(write, "de"u8);
            loop.DispatchUntil(() => second.Values.Count == 2);
            Assert.Single(first.Values);

            secondSubscription.Dispose();
            secondSubscription.Dispose();
            Assert.False(source.IsActive);
            Assert.False(source.IsTerminated);
            Assert.Equal(1, inner.UnregisterCount);

            // A new subscriber registers it again.
            var third = new ContractObserver<int>(loop);
            using (source.Subscribe(third))
            {
                Assert.True(source.IsActive);
                Assert.Equal(2, inner.RegisterCount);
            }

            first.AssertClean();
            second.AssertClean();
            third.AssertClean();
        }
        finally
        {
            TestSys.Close(read);
            TestSys.Close(write);
        }
    }

    [Fact]
    public void LateSubscriber_ToACompletedSource_GetsOnCompletedOnTheNextDispatch()
    {
        using var loop = new EventLoop();
        TimerSource timer = loop.Timer(TimeSpan.FromMilliseconds(1));
        var early = new ContractObserver<DateTimeOffset>(loop);
        timer.Subscribe(early);
        loop.DispatchUntil(() => early.Completed);
        Assert.True(timer.IsTerminated);

        var late = new ContractObserver<DateTimeOffset>(loop);
        timer.Subscribe(late);
        var fromAnotherThread = new ContractObserver<DateTimeOffset>(loop);
        var subscriber = new Thread(() => timer.Subscribe(fromAnotherThread));
        subscriber.Start();
        subscriber.Join();

        // Not synchronously from Subscribe: on the loop thread (ContractObserver checks), in the next dispatch.
        Assert.Empty(late.Notifications);
        Assert.Empty(fromAnotherThread.Notifications);
        loop.Dispatch(TimeSpan.Zero);
        Assert.True(late.Completed);
        Assert.True(fromAnotherThread.Completed);
        Assert.Empty(late.Values);
        early.AssertClean();
        late.AssertClean();
        fromAnotherThread.AssertClean();
    }

    [Fact]
    public void LateSubscriber_ToAFailedSource_GetsTheSameError()
    {
        using var loop = new EventLoop();
        var (read, write) = TestSys.Pipe();
        try
        {
            var failure = new InvalidOperationException("the source broke");
            LoopSource<int> source = loop.Insert(new FdEventSource(read) { Failure = failure });
            var early = new ContractObserver<int>(loop);
            source.Subscribe(early);
            TestSys.Write(write, "x"u8);
            loop.DispatchUntil(() => early.Error is not null);
            Assert.Same(failure, early.Error);
            Assert.True(source.IsTerminated);

            var late = new ContractObserver<int>(loop);
            source.Subscribe(late);
            Assert.Null(late.Error);
            loop.Dispatch(TimeSpan.Zero);
            Assert.Same(failure, late.Error);
            early.AssertClean();
            late.AssertClean();
        }
        finally
        {
            TestSys.Close(read);
            TestSys.Close(write);
        }
    }

    [Fact]
    public void SubscribeAndDispose_FromManyThreads_WhileTheLoopRuns()
    {
        const int Messages = 20_000;
        const int Churners = 4;
        const int Cycles = 300;
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        var steady = new ContractObserver<int>(loop);
        messages.Subscribe(steady);
        var failures = new List<string>();
        var churned = new List<(ContractObserver<int> Observer, int AtDispose, Func<int> Count)>();
        int churnersDone = 0;

        var producer = new Thread(() =>
        {
            for (int i = 0; i < Messages; i++)
            {
                sender.Send(i);
            }
        });
        var churners = Enumerable.Range(0, Churners).Select(_ => new Thread(() =>
        {
            try
            {
                for (int c = 0; c < Cycles; c++)
                {
                    int last = -1;
                    int count = 0;
                    var observer = new ContractObserver<int>(loop, v =>
                    {
                        if (v <= last)
                        {
                            throw new InvalidOperationException($"out of order: {v} after {last}");
                        }

                        last = v;
                        Interlocked.Increment(ref count);
                    });
                    IDisposable subscription = messages.Subscribe(observer);
                    Thread.Yield();
                    subscription.Dispose();
                    int atDispose = Volatile.Read(ref count);
                    subscription.Dispose();
                    lock (churned)
                    {
                        churned.Add((observer, atDispose, () => Volatile.Read(ref count)));
                    }
                }
            }
            catch (Exception e)
            {
                lock (failures)
                {
                    failures.Add(e.ToString());
                }
            }
            finally
            {
                Interlocked.Increment(ref churnersDone);
            }
        })).ToList();

        producer.Start();
        churners.ForEach(t => t.Start());
        loop.DispatchUntil(() => steady.Values.Count == Messages && Volatile.Read(ref churnersDone) == Churners, "all messages and all churners");
        producer.Join();
        churners.ForEach(t => t.Join());

        Assert.Empty(failures);
        Assert.Equal(Enumerable.Range(0, Messages), steady.Values);
        Assert.Equal(Churners * Cycles, churned.Count);
        foreach (var (observer, atDispose, count) in churned)
        {
            // Disposed from another thread: no delivery starts after Dispose returned; one already running may finish.
            Assert.InRange(count() - atDispose, 0, 1);
            observer.AssertClean();
        }

        steady.AssertClean();
        Assert.True(messages.IsActive);
    }

    [Fact]
    public void DisposeOnTheLoopThread_InsideAnotherObserversOnNext_StopsDeliveryInTheSameEvent()
    {
        using var loop = new EventLoop();

        // A ping: the second subscriber is removed by the first while the one event is being delivered.
        var (ping, pings) = loop.Ping();
        IDisposable? victimSubscription = null;
        var killer = new ContractObserver<Unit>(loop, _ => victimSubscription!.Dispose());
        var victim = new ContractObserver<Unit>(loop);
        pings.Subscribe(killer);
        victimSubscription = pings.Subscribe(victim);
        ping.Send();
        loop.DispatchUntil(() => killer.Values.Count == 1);
        Assert.Empty(victim.Values);

        // A channel batch: removed after the first message, the second subscriber misses the rest of the batch.
        var (sender, messages) = loop.Channel<int>();
        IDisposable? laterSubscription = null;
        var first = new ContractObserver<int>(loop, v =>
        {
            if (v == 2)
            {
                laterSubscription!.Dispose();
            }
        });
        var later = new ContractObserver<int>(loop);
        messages.Subscribe(first);
        laterSubscription = messages.Subscribe(later);
        for (int i = 1; i <= 5; i++)
        {
            sender.Send(i);
        }

        loop.DispatchUntil(() => first.Values.Count == 5);
        Assert.Equal([1], later.Values);

        // An observer disposing its own subscription gets nothing more from the same batch.
        IDisposable? selfSubscription = null;
        var self = new ContractObserver<int>(loop, _ => selfSubscription!.Dispose());
        selfSubscription = messages.Subscribe(self);
        sender.Send(6);
        sender.Send(7);
        loop.DispatchUntil(() => first.Values.Count == 7);
        Assert.Equal([6], self.Values);

        killer.AssertClean();
        victim.AssertClean();
        first.AssertClean();
        later.AssertClean();
        self.AssertClean();
    }

    [Fact]
    public void ObserverSendingOnItsOwnChannel_GetsTheMessageLater_NeverNested()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        ContractObserver<int>? observer = null;
        observer = new ContractObserver<int>(loop, v =>
        {
            if (v < 5)
            {
                sender.Send(v + 1);
            }
        });
        messages.Subscribe(observer);
        sender.Send(0);
        loop.DispatchUntil(() => observer.Values.Count == 6);
        Assert.Equal([0, 1, 2, 3, 4, 5], observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void ObserverPingingItsOwnPing_GetsOneEventPerDispatch_NeverNested()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop, _ => ping.Send());
        pings.Subscribe(observer);
        ping.Send();
        loop.DispatchUntil(() => observer.Values.Count == 1);

        // The ping sent from the callback is a new event for a later dispatch, not a nested call.
        Assert.Single(observer.Values);
        loop.DispatchUntil(() => observer.Values.Count == 3);
        observer.AssertClean();
    }

    [Fact]
    public void HotBuffering_PingsBeforeSubscribeFireOnce()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        ping.Send();
        ping.Send();
        ping.Send();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);
        loop.DispatchUntil(() => observer.Values.Count == 1);
        loop.Dispatch(TimeSpan.Zero);
        loop.Dispatch(TimeSpan.FromMilliseconds(10));
        Assert.Single(observer.Values);
        observer.AssertClean();
    }

    [Fact]
    public void HotBuffering_MessagesAndReadinessBeforeSubscribeAreDeliveredInOrder()
    {
        using var loop = new EventLoop();
        var (sender, messages) = loop.Channel<int>();
        for (int i = 0; i < 100; i++)
        {
            sender.Send(i);
        }

        var observer = new ContractObserver<int>(loop);
        messages.Subscribe(observer);
        loop.DispatchUntil(() => observer.Values.Count == 100);
        Assert.Equal(Enumerable.Range(0, 100), observer.Values);
        observer.AssertClean();

        var (a, b) = TestSys.SocketPair();
        try
        {
            TestSys.Write(a, "waiting"u8);
            var read = new List<string>();
            var fd = new ContractObserver<Readiness>(loop, _ => read.Add(System.Text.Encoding.ASCII.GetString(TestSys.Drain(b))));
            using (loop.Fd(b).Subscribe(fd))
            {
                loop.DispatchUntil(() => read.Count == 1);
            }

            Assert.Equal(["waiting"], read);
            fd.AssertClean();
        }
        finally
        {
            TestSys.Close(a);
            TestSys.Close(b);
        }
    }
}
