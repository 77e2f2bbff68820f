using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace Calloop.Rx;

/// <summary>Throw sites kept out of hot methods.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowLoopDisposed() => throw new ObjectDisposedException(nameof(EventLoop), "The event loop has been disposed.");

    /// <summary>What a channel's <c>Send</c> and <c>SendAsync</c> throw for <see cref="SendResult.Closed"/>.</summary>
    public static ChannelClosedException ChannelClosed() =>
        new("The channel is closed: the sender was disposed, the receiving source is gone or the loop is disposed.");
}
