namespace Calloop.Rx;

/// <summary>
/// Hands out the tokens of one registration, one per fd a custom source registers. Each call to
/// <see cref="IEventSource{T}.Register"/> or <see cref="IEventSource{T}.Reregister"/> gets a fresh factory that starts at sub-id 0.
/// </summary>
public sealed class TokenFactory
{
    private readonly Token _base;
    private int _next;

    internal TokenFactory(Token baseToken) => _base = baseToken;

    /// <summary>The next unused token of this registration.</summary>
    /// <exception cref="InvalidOperationException">More than 65,536 tokens were requested for one registration.</exception>
    public Token Next()
    {
        if (_next > Token.MaxSubId)
        {
            throw new InvalidOperationException($"A source cannot take more than {Token.MaxSubId + 1} tokens per registration.");
        }

        return _base.WithSubId(_next++);
    }
}
