using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.FileSystem;

/// <summary>File-system watches over the loop's inotify fd, with real files in a per-test temporary directory.</summary>
public sealed class FileWatchTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly EventLoop _loop = new();

    public void Dispose()
    {
        _loop.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void Watch_ReportsCreatedModifiedAttributesChangedAndDeleted_InOrder()
    {
        var events = Watch(_dir.Path);
        string file = _dir["a.txt"];

        File.WriteAllText(file, "hello");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Delete(file);
        WaitFor(events, FileSystemEventKind.Deleted, file);

        Assert.Equal(
            [
                new FileSystemEvent(FileSystemEventKind.Created, file, null, 1, false),
                new FileSystemEvent(FileSystemEventKind.Modified, file, null, 1, false),
                new FileSystemEvent(FileSystemEventKind.AttributesChanged, file, null, 1, false),
                new FileSystemEvent(FileSystemEventKind.Deleted, file, null, 1, false),
            ],
            events.Values);
        events.AssertClean();
    }

    [Fact]
    public void Watch_OfAFile_ReportsItsModifications()
    {
        string file = _dir["watched.txt"];
        File.WriteAllText(file, "one");
        var events = Watch(file);

        File.AppendAllText(file, "two");
        WaitFor(events, FileSystemEventKind.Modified, file);

        Assert.Equal(new FileSystemEvent(FileSystemEventKind.Modified, file, null, 1, false), Assert.Single(events.Values));
    }

    [Fact]
    public void Watch_RenameWithinTheWatch_IsOneMovedEventWithBothPaths()
    {
        string directory = _dir.Path;
        string oldPath = Path.Combine(directory, "old.txt");
        string newPath = Path.Combine(directory, "new.txt");
        File.WriteAllText(oldPath, "x");
        var events = new List<FileSystemEvent>();
        using IDisposable subscription = _loop.Watch(directory).Subscribe(events.Add);

        File.Move(oldPath, newPath);
        using var deadline = new LoopDeadline(_loop);
        while (events.Count == 0) _loop.Dispatch(TimeSpan.FromSeconds(1));

        Assert.Equal(new FileSystemEvent(FileSystemEventKind.Moved, newPath, oldPath, 1, false), Assert.Single(events));
    }

    [Fact]
    public void Watch_MoveOutIsMovedAway_AndMoveInIsMovedIn()
    {
        Directory.CreateDirectory(_dir["watched"]);
        Directory.CreateDirectory(_dir["outside"]);
        File.WriteAllText(_dir["watched/leaving.txt"], "x");
        File.WriteAllText(_dir["outside/coming.txt"], "y");
        var events = Watch(_dir["watched"]);

        File.Move(_dir["watched/leaving.txt"], _dir["outside/leaving.txt"]);
        File.Move(_dir["outside/coming.txt"], _dir["watched/coming.txt"]);
        WaitFor(events, FileSystemEventKind.MovedIn, _dir["watched/coming.txt"]);

        Assert.Equal(
            [
                new FileSystemEvent(FileSystemEventKind.MovedAway, _dir["watched/leaving.txt"], null, 1, false),
                new FileSystemEvent(FileSystemEventKind.MovedIn, _dir["watched/coming.txt"], null, 1, false),
            ],
            events.Values);
    }

    [Fact]
    public void Watch_MoveBetweenTwoWatches_IsMovedAwayForOneAndMovedInForTheOther()
    {
        Directory.CreateDirectory(_dir["left"]);
        Directory.CreateDirectory(_dir["right"]);
        File.WriteAllText(_dir["left/f"], "x");
        var left = Watch(_dir["left"]);
        var right = Watch(_dir["right"]);

        File.Move(_dir["left/f"], _dir["right/f"]);
        WaitFor(right, FileSystemEventKind.MovedIn, _dir["right/f"]);
        WaitFor(left, FileSystemEventKind.MovedAway, _dir["left/f"]);

        Assert.Single(left.Values);
        Assert.Single(right.Values);
    }

    [Fact]
    public void Watch_Recursive_FollowsANewSubdirectoryAndItsExistingSubtree()
    {
        Directory.CreateDirectory(_dir["deep/er"]);
        var events = Watch(_dir.Path, new FileWatchOptions { Recursive = true });

        File.WriteAllText(_dir["deep/er/old-tree.txt"], "x");
        WaitFor(events, FileSystemEventKind.Created, _dir["deep/er/old-tree.txt"]);

        Directory.CreateDirectory(_dir["sub"]);
        WaitFor(events, FileSystemEventKind.Created, _dir["sub"]);
        Assert.True(events.Values[^1].IsDirectory);

        File.WriteAllText(_dir["sub/inside.txt"], "y");
        WaitFor(events, FileSystemEventKind.Created, _dir["sub/inside.txt"]);
    }

    [Fact]
    public void Watch_Recursive_ReportsWhatWasMadeInANewDirectoryBeforeItsWatch()
    {
        var events = Watch(_dir.Path, new FileWatchOptions { Recursive = true });

        // All made before the loop reads the first creation, so before x and x/y are watched.
        Directory.CreateDirectory(_dir["x/y"]);
        File.WriteAllText(_dir["x/y/f"], string.Empty);
        WaitFor(events, FileSystemEventKind.Created, _dir["x/y/f"]);

        Assert.Equal(
            [
                new FileSystemEvent(FileSystemEventKind.Created, _dir["x"], null, 1, true),
                new FileSystemEvent(FileSystemEventKind.Created, _dir["x/y"], null, 1, true),
                new FileSystemEvent(FileSystemEventKind.Created, _dir["x/y/f"], null, 1, false),
            ],
            events.Values);
        File.WriteAllText(_dir["x/y/g"], string.Empty);
        WaitFor(events, FileSystemEventKind.Created, _dir["x/y/g"]);
    }

    [Fact]
    public void Watch_Recursive_RenamedSubdirectoryReportsItsNewPaths()
    {
        Directory.CreateDirectory(_dir["before"]);
        var events = Watch(_dir.Path, new FileWatchOptions { Recursive = true });

        Directory.Move(_dir["before"], _dir["after"]);
        WaitFor(events, FileSystemEventKind.Moved, _dir["after"]);
        File.WriteAllText(_dir["after/x.txt"], "x");

        WaitFor(events, FileSystemEventKind.Created, _dir["after/x.txt"]);
    }

    [Fact]
    public void Watch_NotRecursive_IgnoresWhatHappensInSubdirectories()
    {
        Directory.CreateDirectory(_dir["sub"]);
        var events = Watch(_dir.Path);

        File.WriteAllText(_dir["sub/ignored.txt"], "x");
        File.WriteAllText(_dir["seen.txt"], "y");
        WaitFor(events, FileSystemEventKind.Created, _dir["seen.txt"]);

        Assert.DoesNotContain(events.Values, e => e.Path == _dir["sub/ignored.txt"]);
    }

    [Fact]
    public void Watch_WatchedDirectoryDeleted_DeliversDeletedAndWatchRemovedThenCompletes()
    {
        string watched = _dir["doomed"];
        Directory.CreateDirectory(watched);
        FileWatchSource source = _loop.Watch(watched);
        var events = new ContractObserver<FileSystemEvent>(_loop);
        using IDisposable subscription = source.Subscribe(events);

        Directory.Delete(watched);
        _loop.DispatchUntil(() => events.Completed, "OnCompleted");

        Assert.Equal(
            [
                new FileSystemEvent(FileSystemEventKind.Deleted, watched, null, 1, true),
                new FileSystemEvent(FileSystemEventKind.WatchRemoved, watched, null, 1, true),
            ],
            events.Values);
        Assert.True(source.IsTerminated);
        events.AssertClean();
    }

    [Fact]
    public void Watch_QueueOverflow_IsDeliveredAsAnOverflowEvent()
    {
        // Alternating between two files, so the kernel cannot merge an event into the one before it; more than
        // fs.inotify.max_queued_events (16384 by default) while the loop does not read.
        int limit = int.Parse(File.ReadAllText("/proc/sys/fs/inotify/max_queued_events").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(limit <= 100_000, $"max_queued_events is {limit}: too many events to force an overflow quickly");
        File.WriteAllText(_dir["a"], "a");
        File.WriteAllText(_dir["b"], "b");
        var events = Watch(_dir.Path);

        var time = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (int i = 0; i <= limit + 1; i++)
        {
            File.SetLastWriteTimeUtc(i % 2 == 0 ? _dir["a"] : _dir["b"], time.AddSeconds(i));
        }

        _loop.DispatchUntil(() => events.Values.Any(e => e.Kind == FileSystemEventKind.Overflow), "the Overflow event");

        FileSystemEvent overflow = events.Values[^1];
        Assert.Equal(new FileSystemEvent(FileSystemEventKind.Overflow, _dir.Path, null, 1, true), overflow);
        Assert.Equal(limit, events.Values.Count(e => e.Kind == FileSystemEventKind.AttributesChanged));
    }

    [Fact]
    public void Watch_CoalesceWindowOnTheVirtualClock_DeliversOneModifiedPerPathWithItsCount()
    {
        string directory = _dir.Path;
        using var loop = new EventLoop(LoopClock.Virtual());
        DateTimeOffset start = loop.Now;
        File.WriteAllText(Path.Combine(directory, "a"), string.Empty);
        File.WriteAllText(Path.Combine(directory, "b"), string.Empty);
        var events = new List<(DateTimeOffset Time, FileSystemEvent Event)>();
        using IDisposable subscription = loop.Watch(directory, new FileWatchOptions { CoalesceWindow = TimeSpan.FromSeconds(1) })
            .Subscribe(e => events.Add((loop.Now, e)));

        // Alternating paths: the kernel merges only an event identical to the one before it.
        foreach (string name in new[] { "a", "b", "a", "b", "a" })
        {
            File.AppendAllText(Path.Combine(directory, name), "x");
        }

        Directory.CreateDirectory(_dir["marker"]);
        loop.DispatchUntil(() => events.Count > 0, "the marker");
        Assert.Equal([FileSystemEventKind.Created], events.Select(e => e.Event.Kind));

        loop.AdvanceBy(TimeSpan.FromMilliseconds(999));
        Assert.Single(events);
        loop.AdvanceBy(TimeSpan.FromMilliseconds(1));
        loop.DispatchUntil(() => events.Count >= 3, "the coalesced modifications");

        Assert.Equal(
            [
                (start.AddSeconds(1), new FileSystemEvent(FileSystemEventKind.Modified, _dir["a"], null, 3, false)),
                (start.AddSeconds(1), new FileSystemEvent(FileSystemEventKind.Modified, _dir["b"], null, 2, false)),
            ],
            events.Skip(1));
    }

    [Fact]
    public void Watch_CoalesceWindow_DeliversHeldModificationsBeforeALaterEventOfTheSamePath()
    {
        using var loop = new EventLoop(LoopClock.Virtual());
        File.WriteAllText(_dir["a"], string.Empty);
        var events = new ContractObserver<FileSystemEvent>(loop);
        using IDisposable subscription = loop.Watch(_dir.Path, new FileWatchOptions { CoalesceWindow = TimeSpan.FromHours(1) }).Subscribe(events);

        File.AppendAllText(_dir["a"], "x");
        File.Delete(_dir["a"]);
        loop.DispatchUntil(() => events.Values.Count == 2, "the modification and the deletion");

        Assert.Equal([FileSystemEventKind.Modified, FileSystemEventKind.Deleted], events.Values.Select(e => e.Kind));
    }

    [Fact]
    public void Watch_SubscriptionDisposed_RemovesTheKernelWatchAndEventsStop()
    {
        var kept = Watch(_dir.Path);
        FileWatchSource other = _loop.Watch(_dir["sub"]);
        Directory.CreateDirectory(_dir["sub"]);
        var stopped = new ContractObserver<FileSystemEvent>(_loop);
        IDisposable subscription = other.Subscribe(stopped);
        Assert.Equal(2, KernelWatchCount());

        subscription.Dispose();

        Assert.Equal(1, KernelWatchCount());
        File.WriteAllText(_dir["sub/after.txt"], "x");
        File.WriteAllText(_dir["marker"], "x");
        WaitFor(kept, FileSystemEventKind.Created, _dir["marker"]);
        Assert.Empty(stopped.Values);
    }

    [Fact]
    public void Watch_ResubscribedAfterAnInterruptedDelivery_DoesNotReplayEventsOfTheOldRegistration()
    {
        FileWatchSource source = _loop.Watch(_dir.Path);
        var thrower = new ContractObserver<FileSystemEvent>(_loop, _ => throw new InvalidOperationException("observer fails"));
        IDisposable first = source.Subscribe(thrower);
        File.WriteAllText(_dir["one"], string.Empty);
        File.WriteAllText(_dir["two"], string.Empty);

        // The observer's exception comes out of the dispatch that delivered the first event; the second stays pending.
        Assert.Throws<InvalidOperationException>(() => _loop.DispatchUntil(() => false, "the failing observer"));
        Assert.Single(thrower.Values);
        first.Dispose();

        var events = new ContractObserver<FileSystemEvent>(_loop);
        using IDisposable second = source.Subscribe(events);
        File.WriteAllText(_dir["marker"], string.Empty);
        WaitFor(events, FileSystemEventKind.Created, _dir["marker"]);

        Assert.DoesNotContain(events.Values, e => e.Path == _dir["two"]);
    }

    [Fact]
    public void Watch_RemoveOfARecursiveWatch_RemovesEveryKernelWatchThenCompletes()
    {
        Directory.CreateDirectory(_dir["a/b"]);
        var kept = Watch(_dir["a/b"]);
        FileWatchSource source = _loop.Watch(_dir.Path, new FileWatchOptions { Recursive = true });
        var events = new ContractObserver<FileSystemEvent>(_loop);
        using IDisposable subscription = source.Subscribe(events);
        Assert.Equal(3, KernelWatchCount());

        source.Remove();
        _loop.DispatchUntil(() => events.Completed, "OnCompleted");

        // a/b is still watched by the other source, which shares its kernel watch.
        Assert.Equal(1, KernelWatchCount());
        File.WriteAllText(_dir["a/b/x"], "x");
        WaitFor(kept, FileSystemEventKind.Created, _dir["a/b/x"]);
        Assert.Empty(events.Values);
        events.AssertClean();
    }

    [Fact]
    public void Watch_TwoSourcesOnOnePath_ShareTheKernelWatchUntilTheLastLetsGo()
    {
        var first = Watch(_dir.Path);
        var secondSource = _loop.Watch(_dir.Path);
        var second = new ContractObserver<FileSystemEvent>(_loop);
        IDisposable secondSubscription = secondSource.Subscribe(second);
        Assert.Equal(1, KernelWatchCount());

        secondSubscription.Dispose();
        File.WriteAllText(_dir["still-seen.txt"], "x");

        WaitFor(first, FileSystemEventKind.Created, _dir["still-seen.txt"]);
        Assert.Equal(1, KernelWatchCount());
        Assert.Empty(second.Values);
    }

    [Fact]
    public void Watch_NonexistentPath_FailsWithErrnoAndPathAndTheLoopGoesOn()
    {
        string missing = _dir["missing"];

        LoopException error = _loop.Watch(missing).AssertRefused();

        Assert.Equal(2, error.Errno);
        Assert.Equal("inotify_add_watch", error.Operation);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        var events = Watch(_dir.Path);
        File.WriteAllText(_dir["after.txt"], "x");
        WaitFor(events, FileSystemEventKind.Created, _dir["after.txt"]);
    }

    [Fact]
    public void Watch_WithoutPermission_FailsWithEaccesAndTheLoopGoesOn()
    {
        string secret = _dir["secret"];
        Directory.CreateDirectory(secret);
        File.SetUnixFileMode(secret, UnixFileMode.None);
        FileWatchSource source = _loop.Watch(secret);

        // As nobody (root would pass every permission check); the kernel watch is added on the subscribing thread.
        LoopException error;
        using (FsUid.Become(FsUid.Nobody))
        {
            error = source.AssertRefused();
        }

        Assert.Equal(13, error.Errno);
        Assert.Contains(secret, error.Message, StringComparison.Ordinal);
        var events = Watch(_dir.Path);
        File.WriteAllText(_dir["after.txt"], "x");
        WaitFor(events, FileSystemEventKind.Created, _dir["after.txt"]);
    }

    [Fact]
    public void Watch_RefusedThenCreated_ALaterSubscriptionSucceeds()
    {
        FileWatchSource source = _loop.Watch(_dir["later"]);
        source.AssertRefused();
        Directory.CreateDirectory(_dir["later"]);
        var events = new ContractObserver<FileSystemEvent>(_loop);
        using IDisposable subscription = source.Subscribe(events);

        File.WriteAllText(_dir["later/x"], "x");
        WaitFor(events, FileSystemEventKind.Created, _dir["later/x"]);
    }

    [Fact]
    public void Watch_WhileDisabled_KeepsEventsForEnable()
    {
        Directory.CreateDirectory(_dir["marker"]);
        var marker = Watch(_dir["marker"]);
        FileWatchSource source = _loop.Watch(_dir.Path);
        var events = new ContractObserver<FileSystemEvent>(_loop);
        using IDisposable subscription = source.Subscribe(events);
        source.Disable();

        // One inotify queue for the loop: once the marker's event is delivered, the earlier one was read too.
        File.WriteAllText(_dir["while-disabled.txt"], "x");
        File.WriteAllText(_dir["marker/m"], "x");
        WaitFor(marker, FileSystemEventKind.Created, _dir["marker/m"]);
        _loop.Dispatch(TimeSpan.Zero);
        Assert.Empty(events.Values);
        source.Enable();

        WaitFor(events, FileSystemEventKind.Created, _dir["while-disabled.txt"]);
    }

    [Fact]
    public void LoopException_ForTheWatchLimit_SaysWhichLimitIsReached()
    {
        var error = new LoopException("inotify_add_watch", Calloop.Rx.Interop.Inotify.ENOSPC, -1, "Watch /some/path");

        Assert.StartsWith("the per-user inotify watch limit (fs.inotify.max_user_watches; user.max_inotify_watches in a user namespace) is reached (Watch /some/path)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Watch_BadArguments_ThrowAtOnce()
    {
        Assert.Throws<ArgumentNullException>(() => _loop.Watch(null!));
        Assert.Throws<ArgumentException>(() => _loop.Watch(string.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => _loop.Watch(_dir.Path, new FileWatchOptions { CoalesceWindow = TimeSpan.FromSeconds(-1) }));
    }

    [Fact]
    public void Watch_RelativePath_IsMadeAbsolute()
    {
        FileWatchSource source = _loop.Watch("some/relative/dir/");

        Assert.Equal(Path.Join(Environment.CurrentDirectory, "some/relative/dir"), source.Path);
    }

    private ContractObserver<FileSystemEvent> Watch(string path, FileWatchOptions? options = null)
    {
        var observer = new ContractObserver<FileSystemEvent>(_loop);
        _loop.Watch(path, options).Subscribe(observer);
        Assert.Null(observer.Error);
        return observer;
    }

    private void WaitFor(ContractObserver<FileSystemEvent> events, FileSystemEventKind kind, string path) =>
        _loop.DispatchUntil(() => events.Values.Any(e => e.Kind == kind && e.Path == path), $"{kind} {path}");

    /// <summary>The kernel watches on the loop's inotify fd, as /proc/self/fdinfo lists them.</summary>
    private int KernelWatchCount()
    {
        int fd;
        lock (_loop.Gate)
        {
            fd = _loop.InotifyIfMade!.Fd;
        }

        return File.ReadAllLines($"/proc/self/fdinfo/{fd}").Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal));
    }
}
