using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// The loop's source table, seen through real registrations: which source an epoll token reaches, and which sources
/// disposal would end.
/// </summary>
public class SourceTableTests
{
    [Fact]
    public void StaleToken_AfterItsSlotIsReused_DoesNotReachTheNewSource()
    {
        using var loop = new EventLoop();
        LoopSource<int> first = loop.Insert(new TokenOnlySource());
        IDisposable subscription = first.Subscribe(new ContractObserver<int>(loop));
        Token stale = ((ILoopSource)first).Token;
        Assert.Same(first, Lookup(loop, stale));

        subscription.Dispose();
        Assert.Null(Lookup(loop, stale));

        LoopSource<int> second = loop.Insert(new TokenOnlySource());
        using IDisposable secondSubscription = second.Subscribe(new ContractObserver<int>(loop));
        Token fresh = ((ILoopSource)second).Token;
        Assert.Equal(stale.Slot, fresh.Slot);
        Assert.NotEqual(stale.Generation, fresh.Generation);
        Assert.Null(Lookup(loop, stale));
        Assert.Same(second, Lookup(loop, fresh));
    }

    [Fact]
    public void Registrations_PastTheFirstSlotArray_AreEachFoundByTheirToken()
    {
        const int Count = 300;
        using var loop = new EventLoop();
        var sources = new List<LoopSource<int>>();
        var subscriptions = new List<IDisposable>();
        for (int i = 0; i < Count; i++)
        {
            LoopSource<int> source = loop.Insert(new TokenOnlySource());
            subscriptions.Add(source.Subscribe(new ContractObserver<int>(loop)));
            sources.Add(source);
        }

        Assert.Equal(Count, sources.Select(s => ((ILoopSource)s).Token.Slot).Distinct().Count());
        foreach (LoopSource<int> source in sources)
        {
            Assert.Same(source, Lookup(loop, ((ILoopSource)source).Token));
        }

        var tokens = sources.Select(s => ((ILoopSource)s).Token).ToList();
        subscriptions.ForEach(s => s.Dispose());
        Assert.All(tokens, token => Assert.Null(Lookup(loop, token)));
    }

    [Fact]
    public void Timer_WhileSubscribed_IsTrackedWithoutTakingARegistrationSlot()
    {
        using var loop = new EventLoop();
        TimerSource timer = loop.Timer(TimeSpan.FromHours(1));
        IDisposable subscription = timer.Subscribe(new ContractObserver<DateTimeOffset>(loop));
        lock (loop.Gate)
        {
            Assert.Contains(timer, loop.Sources.TrackedLocked());
        }

        Assert.Equal(default, ((ILoopSource)timer).Token);

        subscription.Dispose();
        lock (loop.Gate)
        {
            Assert.DoesNotContain(timer, loop.Sources.TrackedLocked());
        }
    }

    private static ILoopSource? Lookup(EventLoop loop, Token token) => loop.Sources.Lookup(token.Value);

    /// <summary>A custom source that takes its registration token and no fd.</summary>
    private sealed class TokenOnlySource : IEventSource<int>
    {
        public void Register(Poller poller, TokenFactory tokens) => tokens.Next();

        public void Reregister(Poller poller, TokenFactory tokens) => tokens.Next();

        public void Unregister(Poller poller)
        {
        }

        public PostAction ProcessEvents(Readiness readiness, Token token, Action<int> emit) => PostAction.Continue;
    }
}
