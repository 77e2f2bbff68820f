using System.Reactive.Linq;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Sources;

/// <summary>
/// <see cref="CompositeSource{T}"/>: a source made of loop sources and Rx operators has every promise of a built-in
/// source (broadcast, registration by subscription, Enable/Disable/Update/Remove, late terminal replay, loop disposal)
/// and its hooks run when documented.
/// </summary>
public class CompositeSourceTests
{
    [Fact]
    public void Subscribe_ConnectsThePipeline_EverySubscriberGetsEveryValue()
    {
        using var loop = new EventLoop();
        var relay = new DoublingRelay(loop);
        var first = new List<int>();
        var second = new List<int>();
        using IDisposable a = relay.Subscribe(first.Add);
        using IDisposable b = relay.Subscribe(second.Add);
        Assert.Equal(1, relay.Connects);
        Assert.True(relay.Inner.IsActive);

        relay.Sender.Send(1);
        relay.Sender.Send(2);
        loop.DispatchUntil(() => second.Count == 2);
        Assert.Equal([2, 4], first);
        Assert.Equal([2, 4], second);
    }

    [Fact]
    public void LastDisposal_Disconnects_ValuesSentMeanwhileReachTheNextSubscriber()
    {
        using var loop = new EventLoop();
        var relay = new DoublingRelay(loop);
        relay.Subscribe(_ => { }).Dispose();
        Assert.Equal(1, relay.Disconnects);
        Assert.False(relay.Inner.IsActive);

        relay.Sender.Send(5);
        var values = new List<int>();
        using IDisposable subscription = relay.Subscribe(values.Add);
        loop.DispatchUntil(() => values.Count == 1);
        Assert.Equal([10], values);
        Assert.Equal(2, relay.Connects);
    }

    [Fact]
    public void DisableEnableUpdate_ByDefault_HoldValuesAndReconnect()
    {
        using var loop = new EventLoop();
        var relay = new DoublingRelay(loop);
        var values = new List<int>();
        using IDisposable subscription = relay.Subscribe(values.Add);

        relay.Disable();
        Assert.Equal(1, relay.Disconnects);
        relay.Sender.Send(3);
        loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(values);

        relay.Enable();
        loop.DispatchUntil(() => values.Count == 1);
        Assert.Equal([6], values);

        relay.Update();
        Assert.Equal(3, relay.Connects);
        Assert.Equal(2, relay.Disconnects);
    }

    [Fact]
    public void Remove_Called_CompletesOnceAndTellsLateSubscribers()
    {
        using var loop = new EventLoop();
        var relay = new DoublingRelay(loop);
        var observer = new ContractObserver<int>(loop);
        using IDisposable subscription = relay.Subscribe(observer);

        relay.Remove();
        relay.Remove();
        loop.DispatchUntil(() => observer.Completed);
        Assert.Equal(1, relay.Ends);
        Assert.True(relay.Inner.IsTerminated);
        Assert.Throws<InvalidOperationException>(relay.Enable);

        var late = new ContractObserver<int>(loop);
        using IDisposable lateSubscription = relay.Subscribe(late);
        loop.DispatchUntil(() => late.Completed);
        Assert.Equal(1, relay.Connects);
    }

    [Fact]
    public void PipelineError_Raised_EndsTheSourceForPresentAndLateSubscribers()
    {
        using var loop = new EventLoop();
        var relay = new DoublingRelay(loop);
        var observer = new ContractObserver<int>(loop);
        using IDisposable subscription = relay.Subscribe(observer);

        relay.Sender.Send(DoublingRelay.Poison);
        loop.DispatchUntil(() => observer.Error is not null);
        Assert.IsType<InvalidDataException>(observer.Error);
        Assert.Equal(1, relay.Ends);
        Assert.False(relay.Inner.IsActive);

        var late = new ContractObserver<int>(loop);
        using IDisposable lateSubscription = relay.Subscribe(late);
        loop.DispatchUntil(() => late.Error is not null);
        Assert.Same(observer.Error, late.Error);
    }

    [Fact]
    public void InnerRegistration_KernelRefuses_ReachesTheSubscriberAsOnError()
    {
        using var loop = new EventLoop();
        string path = Path.GetTempFileName();
        try
        {
            using Microsoft.Win32.SafeHandles.SafeFileHandle file = File.OpenHandle(path);
            var readable = new FdRelay(loop, loop.Fd(file));

            var observer = new ContractObserver<Readiness>(loop);
            using IDisposable subscription = readable.Subscribe(observer);
            loop.DispatchUntil(() => observer.Error is not null);
            LoopException refused = Assert.IsType<LoopException>(observer.Error);
            Assert.Contains("regular file", refused.Message, StringComparison.OrdinalIgnoreCase);
            Assert.True(readable.IsTerminated);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Pipeline_CompletesWhileBeingSubscribed_CompletesTheSource()
    {
        using var loop = new EventLoop();
        var empty = new EmptyComposite(loop);
        var observer = new ContractObserver<int>(loop);
        using IDisposable subscription = empty.Subscribe(observer);
        loop.DispatchUntil(() => observer.Completed);
        Assert.True(empty.IsTerminated);
    }

    [Fact]
    public void LoopDispose_NobodySubscribed_EndsTheComposite()
    {
        var loop = new EventLoop();
        var relay = new DoublingRelay(loop);
        loop.Dispose();
        Assert.Equal(1, relay.Ends);
        Assert.True(relay.IsTerminated);
        Assert.Equal(SendResult.Closed, relay.Sender.TrySend(1));
    }

    [Fact]
    public void OnEnded_ThrowsDuringLoopDispose_ComesOutAfterEverythingIsReleased()
    {
        var loop = new EventLoop();
        var relay = new DoublingRelay(loop) { ThrowOnEnd = true };
        var observer = new ContractObserver<int>(loop);
        relay.Subscribe(observer);

        var error = Assert.Throws<AggregateException>(loop.Dispose);
        Assert.IsType<DoublingRelay.HookException>(Assert.Single(error.InnerExceptions));
        Assert.True(observer.Completed);
        Assert.True(relay.Inner.IsTerminated);
        Assert.True(loop.IsDisposed);
    }

    [Fact]
    public void OnEnded_ThrowsDuringRemove_ComesOutAndTheSourceHasEnded()
    {
        using var loop = new EventLoop();
        var relay = new DoublingRelay(loop) { ThrowOnEnd = true };
        var observer = new ContractObserver<int>(loop);
        using IDisposable subscription = relay.Subscribe(observer);

        Assert.Throws<DoublingRelay.HookException>(relay.Remove);
        Assert.True(relay.IsTerminated);
        loop.DispatchUntil(() => observer.Completed);
    }

    [Fact]
    public void Create_OnADisposedLoop_ThrowsObjectDisposedException()
    {
        var loop = new EventLoop();
        loop.Dispose();
        Assert.Throws<ObjectDisposedException>(() => new EmptyComposite(loop));
    }

    /// <summary>Channel values doubled; <see cref="Poison"/> fails the pipeline. Counts its hooks.</summary>
    private sealed class DoublingRelay : CompositeSource<int>
    {
        public const int Poison = -1;

        public DoublingRelay(EventLoop loop)
            : base(loop, "Doubling relay")
        {
            (Sender, Inner) = loop.Channel<int>();
        }

        public Sender<int> Sender { get; }

        public ChannelSource<int> Inner { get; }

        public int Connects { get; private set; }

        public int Disconnects { get; private set; }

        public int Ends { get; private set; }

        public bool ThrowOnEnd { get; init; }

        protected override IObservable<int> Connect()
        {
            Connects++;
            return Inner.Select(value => value == Poison ? throw new InvalidDataException("poison") : value * 2);
        }

        protected override void OnDisconnected() => Disconnects++;

        protected override void OnEnded()
        {
            Ends++;
            Inner.Remove();
            if (ThrowOnEnd)
            {
                throw new HookException();
            }
        }

        public sealed class HookException : Exception;
    }

    private sealed class FdRelay(EventLoop loop, FdSource fd) : CompositeSource<Readiness>(loop, $"Relay of fd {fd.Fd}")
    {
        protected override IObservable<Readiness> Connect() => fd;

        protected override void OnEnded() => fd.Remove();
    }

    private sealed class EmptyComposite(EventLoop loop) : CompositeSource<int>(loop, "Empty")
    {
        protected override IObservable<int> Connect() => Observable.Empty<int>();
    }
}
