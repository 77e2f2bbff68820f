using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Processes;

/// <summary>
/// What a child inherits from the loop's process. Serial: tests running in parallel open fds of their own (some on
/// purpose without close-on-exec), which a child started meanwhile would inherit.
/// </summary>
[Collection("Serial")]
public class ChildProcessInheritanceTests
{
    private const int SigPipe = 13;

    [Fact]
    public void StartProcess_ChildGetsNoFdOfTheLoop_NoSignalBlockedOrIgnored()
    {
        // The runtime ignores SIGPIPE and the loop may block signals; both survive exec unless reset. And every fd of
        // the loop is close-on-exec: the child's /proc/self/fd lists 0, 1, 2, the directory ls itself opened, and
        // only such fds as this process inherited without close-on-exec itself (from whatever started the tests).
        using var loop = new EventLoop();
        using ChildProcess fds = loop.StartProcess("/bin/ls", "/proc/self/fd");
        // grep reads its own status, as posix_spawn left it (a shell would show its own mask, which it changes while waiting).
        using ChildProcess signals = loop.StartProcess("/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status");
        using ChildProcess piped = loop.StartProcess("/bin/sh", "-c", "kill -PIPE $$");
        HashSet<int> inheritable = [0, 1, 2, 3, .. TestSys.OpenFds().Where(fd => !TestSys.IsCloseOnExec(fd))];

        string[] listed = ChildProbe.ReadAll(loop, fds.StandardOutput).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        ulong[] masks = [.. ChildProbe.ReadAll(loop, signals.StandardOutput).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => ulong.Parse(line[(line.IndexOf('\t') + 1)..], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture))];

        Assert.Subset(inheritable, listed.Select(fd => int.Parse(fd, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet());

        // Signals 1 to 31; glibc keeps its own real-time signals (32, 33) to itself.
        Assert.Equal([0UL, 0UL], masks.Select(mask => mask & 0x7FFF_FFFFUL));
        Assert.Equal(SigPipe, ChildProbe.AwaitExit(loop, piped).Signal);
    }
}
