using System.Diagnostics.CodeAnalysis;

namespace Calloop.Rx;

/// <summary>Throw sites kept out of hot methods.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowLoopDisposed() => throw new ObjectDisposedException(nameof(EventLoop), "The event loop has been disposed.");
}
