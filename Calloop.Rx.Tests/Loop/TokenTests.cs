using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// The counterpart of calloop's <c>src/token.rs</c> test, <c>overflow_subid</c>.
/// </summary>
public class TokenTests
{
    [Fact]
    public void Token_PastTheLastSubId_RefusesTheRegistration()
    {
        // calloop panics past sub-id 65,535; here the 65,537th token of one registration throws, which reaches the
        // subscriber as OnError (the registration is refused) instead of aborting the process.
        using var loop = new EventLoop();
        var tokens = new GreedySource(Token.MaxSubId + 1);
        loop.Insert(tokens).Subscribe(new ContractObserver<int>(loop)).Dispose();
        Assert.Equal(Token.MaxSubId, tokens.Last.SubId);

        var greedy = new GreedySource(Token.MaxSubId + 2);
        LoopSource<int> source = loop.Insert(greedy);
        var observer = new ContractObserver<int>(loop);
        using IDisposable subscription = source.Subscribe(observer);
        Assert.False(source.IsActive);
        loop.Dispatch(TimeSpan.Zero);
        Assert.IsType<InvalidOperationException>(observer.Error);
    }

    /// <summary>Takes <c>count</c> tokens when registered, and no fd.</summary>
    private sealed class GreedySource(int count) : IEventSource<int>
    {
        public Token Last { get; private set; }

        public void Register(Poller poller, TokenFactory tokens)
        {
            for (int i = 0; i < count; i++)
            {
                Last = tokens.Next();
            }
        }

        public void Reregister(Poller poller, TokenFactory tokens) => Register(poller, tokens);

        public void Unregister(Poller poller)
        {
        }

        public PostAction ProcessEvents(Readiness readiness, Token token, Action<int> emit) => PostAction.Continue;
    }
}
