using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.FileSystem;

/// <summary>Loop disposal ends file watches and closes the loop's inotify fd. Serial because it counts the process's open fds.</summary>
[Collection("Serial")]
public sealed class FileWatchDisposalTests
{
    [Fact]
    public void Dispose_CompletesWatches_AndClosesTheOneInotifyFd()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir["sub"]);

        // The first round loads what the process keeps for its life; only the second is counted.
        WatchTwoPathsAndDispose(dir);
        HashSet<int> before = TestSys.OpenFds();

        WatchTwoPathsAndDispose(dir);

        Assert.Empty(TestSys.FdsOpenedSince(before));
    }

    private static void WatchTwoPathsAndDispose(TempDirectory dir)
    {
        var loop = new EventLoop();
        HashSet<int> beforeWatches = TestSys.OpenFds();
        var first = new ContractObserver<FileSystemEvent>(loop);
        var second = new ContractObserver<FileSystemEvent>(loop);
        loop.Watch(dir.Path, new FileWatchOptions { Recursive = true }).Subscribe(first);
        loop.Watch(dir["sub"]).Subscribe(second);
        File.WriteAllText(dir["sub/file"], "x");
        loop.DispatchUntil(() => second.Values.Count > 0 && first.Values.Count > 0, "both watches' events");

        // One inotify fd for every watch of the loop.
        List<string> opened = TestSys.FdsOpenedSince(beforeWatches);
        Assert.Single(opened);
        Assert.Contains("inotify", opened[0], StringComparison.Ordinal);

        loop.Dispose();

        Assert.True(first.Completed);
        Assert.True(second.Completed);
        first.AssertClean();
        second.AssertClean();
        File.Delete(dir["sub/file"]);
    }
}
