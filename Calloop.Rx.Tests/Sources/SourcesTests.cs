using System.Reactive;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Sources;

/// <summary>
/// The counterparts of calloop's <c>src/sources/mod.rs</c> tests. <c>docs/calloop-test-map.md</c> names the calloop
/// test behind each one.
/// </summary>
/// <remarks>
/// calloop's <c>test_boxed_source</c> and <c>test_mut_ref_source</c> check that a <c>Box&lt;S&gt;</c> and a
/// <c>&amp;mut S</c> forward every <c>EventSource</c> call. There are no such wrappers in C#; what they exercise
/// (fire, <c>update</c>, fire again, <c>remove</c>, nothing more) is tested on a user's custom source, where
/// <c>Update</c> must reach <see cref="IEventSource{T}.Reregister"/> and <c>Remove</c> must reach
/// <see cref="IEventSource{T}.Unregister"/>, and on the built-in ping through its <see cref="LoopSource{T}"/> handle.
/// </remarks>
public class SourcesTests
{
    public static TheoryData<PostAction, PostAction> AllPairs()
    {
        var data = new TheoryData<PostAction, PostAction>();
        foreach (PostAction a in Enum.GetValues<PostAction>())
        {
            foreach (PostAction b in Enum.GetValues<PostAction>())
            {
                data.Add(a, b);
            }
        }

        return data;
    }

    [Fact]
    public void CustomSource_UpdateAndRemove_ReachReregisterAndUnregister()
    {
        // A custom source: Update goes to Reregister, Remove to Unregister, and each step fires as calloop's test expects.
        using var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        var inner = new FdEventSource(pipe.Second);
        LoopSource<int> source = loop.Insert(inner);
        var observer = new ContractObserver<int>(loop);
        source.Subscribe(observer);

        pipe.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        source.Update();
        Assert.Equal(1, inner.ReregisterCount);
        pipe.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);

        source.Remove();
        Assert.Equal(1, inner.UnregisterCount);
        pipe.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void Ping_UpdateAndRemoveThroughItsHandle_BehaveAsOnACustomSource()
    {
        // The same sequence on the built-in ping, driven through its LoopSource handle.
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop);
        pings.Subscribe(observer);

        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        pings.Update();
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);

        pings.Remove();
        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);
        Assert.True(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void PostAction_Disable_PausesTheSourceUntilEnable()
    {
        // What calloop's test_transient_disable checks through its wrapper: a source that asks to be disabled after
        // each event delivers nothing more until it is enabled, and what arrived meanwhile then comes.
        using var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        var inner = new FdEventSource(pipe.Second) { After = PostAction.Disable };
        LoopSource<int> source = loop.Insert(inner);
        var observer = new ContractObserver<int>(loop);
        source.Subscribe(observer);

        pipe.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);
        Assert.False(source.IsEnabled);
        Assert.Equal(1, inner.UnregisterCount);

        pipe.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Single(observer.Values);

        source.Enable();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(2, observer.Values.Count);
        Assert.False(observer.Completed);
        observer.AssertClean();
    }

    [Fact]
    public void PostAction_ReregisterThenRemove_CallsReregisterAndCompletes()
    {
        using var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        var inner = new FdEventSource(pipe.Second) { After = PostAction.Reregister };
        LoopSource<int> source = loop.Insert(inner);
        var observer = new ContractObserver<int>(loop);
        source.Subscribe(observer);

        pipe.Poke();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(1, inner.ReregisterCount);

        inner.After = PostAction.Remove;
        pipe.Poke();
        loop.Dispatch(TimeSpan.Zero);

        // Every subscriber gets the event in progress, then OnCompleted, in the same dispatch.
        Assert.Equal(2, observer.Values.Count);
        Assert.True(observer.Completed);
        Assert.Equal(1, inner.UnregisterCount);
        observer.AssertClean();
    }

    [Fact]
    public void Remove_InsideTheCallback_WinsOverTheReturnedPostAction()
    {
        // In calloop, remove() inside the callback empties the slot at once, so whatever the source returns cannot
        // bring it back. A one-shot source returns Reregister after every event; a subscriber's Remove must still hold.
        using var loop = new EventLoop();
        using var pipe = FdPair.Pipe();
        foreach (PostAction returned in new[] { PostAction.Reregister, PostAction.Disable, PostAction.Continue })
        {
            var inner = new FdEventSource(pipe.Second) { After = returned };
            LoopSource<int> source = loop.Insert(inner);
            var observer = new ContractObserver<int>(loop, _ => source.Remove());
            source.Subscribe(observer);

            pipe.Poke();
            loop.Dispatch(TimeSpan.Zero);

            Assert.True(observer.Completed, $"Remove lost when the source returned {returned}");
            Assert.True(source.IsTerminated);
            Assert.Equal(1, inner.UnregisterCount);
            observer.AssertClean();
        }
    }

    [Fact]
    public void Remove_InsideTheCallback_IsNotUndoneByALaterChange()
    {
        // Two subscribers of one event: the first removes the source, the second (not knowing) updates it.
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var remover = new ContractObserver<Unit>(loop, _ => pings.Remove());
        var updater = new ContractObserver<Unit>(loop, _ =>
        {
            pings.Update();
            pings.Disable();
            pings.Enable();
        });
        pings.Subscribe(remover);
        pings.Subscribe(updater);

        ping.Send();
        loop.Dispatch(TimeSpan.Zero);

        Assert.True(remover.Completed);
        Assert.True(updater.Completed);
        Assert.True(pings.IsTerminated);
        Assert.Equal(SendResult.Closed, ping.Send());
        remover.AssertClean();
        updater.AssertClean();
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void PostAction_Combine_IsSymmetricAndEqualOrReregister(PostAction a, PostAction b)
    {
        PostAction expected = a == b ? a : PostAction.Reregister;

        Assert.Equal(expected, a.Combine(b));
        Assert.Equal(expected, b.Combine(a));
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void PostAction_CombineAssigned_GivesTheSameResult(PostAction a, PostAction b)
    {
        // calloop's `a |= b`. C# has no user-defined |= on an enum (and the enum's own | is a bit-or, not this rule).
        PostAction combined = a;
        combined = combined.Combine(b);

        Assert.Equal(a == b ? a : PostAction.Reregister, combined);
    }
}
