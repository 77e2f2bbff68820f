using System.Runtime.InteropServices;

namespace Calloop.Rx;

/// <summary>The one check that the library runs where it can: Linux, for epoll, eventfd and timerfd.</summary>
internal static class LoopPlatform
{
    /// <summary>Throws <see cref="PlatformNotSupportedException"/> naming this system unless it is Linux.</summary>
    /// <param name="isLinux">Whether the system is Linux (a parameter, so that the refusal can be tested on Linux).</param>
    internal static void ThrowIfUnsupported(bool isLinux)
    {
        if (!isLinux)
        {
            throw new PlatformNotSupportedException(
                $"Calloop.Rx runs on Linux only (it is built on epoll, eventfd and timerfd); this system is {RuntimeInformation.OSDescription}.");
        }
    }
}
