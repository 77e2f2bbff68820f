using System.Collections.Concurrent;
using System.Collections.Specialized;
using System.Reactive.Linq;
using Calloop.Rx.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Diagnostics;

/// <summary>
/// The live model: a snapshot first, then one change set per dispatch for every source that is added, removed,
/// enabled, disabled, updated or ends, delivered on the loop thread, and a collection a UI thread can bind to.
/// </summary>
public class LiveModelTests
{
    [Fact]
    public void Changes_StartWithEverySourceInTheModel_WithItsFdInterestModeStateAndSubscribers()
    {
        using var loop = new EventLoop();
        using var fds = FdPair.Pipe();
        var watch = loop.Fd(fds.Second, Interest.Read, TriggerMode.Edge);
        using var first = watch.Subscribe(_ => { });
        using var second = watch.Subscribe(_ => { });
        using var timer = loop.Timer(TimeSpan.FromMinutes(1)).Subscribe();
        var sets = new List<SourceChangeSet>();
        using var model = loop.Diagnostics.Changes.Subscribe(sets.Add);

        loop.DispatchUntil(() => sets.Count > 0, "the snapshot");

        SourceChangeSet snapshot = sets[0];
        Assert.All(snapshot, change => Assert.Equal(SourceChangeReason.Added, change.Reason));
        SourceInfo fd = Assert.Single(snapshot, change => change.Source.Kind == SourceKind.Fd).Source;
        Assert.Equal(fds.Second, fd.Fd);
        Assert.Equal(Interest.Read, fd.Interest);
        Assert.Equal(TriggerMode.Edge, fd.Mode);
        Assert.Equal(SourceState.Active, fd.State);
        Assert.Equal(2, fd.SubscriberCount);
        SourceInfo timerRow = Assert.Single(snapshot, change => change.Source.Kind == SourceKind.Timer).Source;
        Assert.Null(timerRow.Fd);
        Assert.Equal(1, timerRow.SubscriberCount);
        Assert.NotEqual(fd.Id, timerRow.Id);
        Assert.InRange(fd.CreatedAt, loop.Now - TimeSpan.FromSeconds(10), loop.Now);
    }

    [Fact]
    public void Changes_DisableEnableUpdateRemove_ReportedInOrderAndEndedRowsLeave()
    {
        using var loop = new EventLoop();
        using var fds = FdPair.Pipe();
        var watch = loop.Fd(fds.Second);
        using var subscription = watch.Subscribe(_ => { });
        var changes = new List<SourceChange>();
        using var model = loop.Diagnostics.Changes.Subscribe(set => changes.AddRange(set));
        loop.DispatchUntil(() => changes.Any(c => c.Source.Kind == SourceKind.Fd), "the snapshot");
        changes.Clear();

        watch.Disable();
        loop.DispatchUntil(() => changes.Count > 0, "the change after Disable");
        Assert.Equal((SourceChangeReason.Disabled, SourceState.Disabled), (changes[^1].Reason, changes[^1].Source.State));

        watch.Enable();
        watch.Interest = Interest.Write;
        watch.Update();
        watch.Remove();
        loop.DispatchUntil(() => changes.Any(c => c.Reason == SourceChangeReason.Removed && c.Source.Kind == SourceKind.Fd), "the fd's removal");

        var fdChanges = changes.Where(c => c.Source.Kind == SourceKind.Fd).Select(c => c.Reason).ToList();
        Assert.Equal(
            [SourceChangeReason.Disabled, SourceChangeReason.Enabled, SourceChangeReason.Updated, SourceChangeReason.Ended, SourceChangeReason.Removed],
            fdChanges);
        Assert.Equal(SourceState.Ended, changes.Last(c => c.Reason == SourceChangeReason.Ended).Source.State);
        Assert.DoesNotContain(loop.Diagnostics.GetSources(), row => row.Kind == SourceKind.Fd);
    }

    [Fact]
    public void Changes_MadeOnAnotherThreadBetweenDispatches_ArriveAsOneSetOnTheLoopThread()
    {
        using var loop = new EventLoop();
        var sets = new List<(SourceChangeSet Set, bool OnLoopThread)>();
        using var model = loop.Diagnostics.Changes.Subscribe(set => sets.Add((set, loop.IsOnLoopThread)));
        loop.DispatchUntil(() => sets.Count > 0, "the model's own feed joining the model");
        sets.Clear();

        var subscriptions = new List<IDisposable>();
        var thread = new Thread(() =>
        {
            for (int i = 0; i < 3; i++)
            {
                subscriptions.Add(loop.Ping().Source.Subscribe());
            }
        });
        thread.Start();
        Assert.True(thread.Join(LoopExtensions.Patience));
        loop.DispatchUntil(() => sets.Count > 0, "the pings' additions");

        var (set, onLoopThread) = Assert.Single(sets);
        Assert.True(onLoopThread);
        Assert.Equal(3, set.Count(change => change.Reason == SourceChangeReason.Added && change.Source.Kind == SourceKind.Ping));
        Assert.Equal(3, set.Select(change => change.Source.Id).Distinct().Count());
        subscriptions.ForEach(s => s.Dispose());
    }

    [Fact]
    public void GetSources_FromAnotherThread_ListsOnlyTheRegisteredSources()
    {
        using var loop = new EventLoop();
        var (_, unsubscribed) = loop.Channel<int>();
        var (_, channel) = loop.Channel<int>();
        using var subscription = channel.Subscribe();
        IReadOnlyList<SourceInfo>? rows = null;
        var thread = new Thread(() => rows = loop.Diagnostics.GetSources());
        thread.Start();
        Assert.True(thread.Join(LoopExtensions.Patience));

        SourceInfo row = Assert.Single(rows!);
        Assert.Equal((SourceKind.Channel, "Channel", SourceState.Active), (row.Kind, row.Name, row.State));
        GC.KeepAlive(unsubscribed);
    }

    [Fact]
    public void GetSources_ShowsAnEmbeddedLoopIdleUntilSubscribed_ThenActiveBesideTheFdItWatches()
    {
        using var outer = new EventLoop();
        using var inner = new EventLoop();
        EmbeddedLoopSource embedded = outer.Embed(inner);

        SourceInfo idle = Assert.Single(outer.Diagnostics.GetSources());
        Assert.Equal((SourceKind.Embedded, SourceState.Idle, 0), (idle.Kind, idle.State, idle.SubscriberCount));

        using var subscription = embedded.Subscribe();
        IReadOnlyList<SourceInfo> rows = outer.Diagnostics.GetSources();
        Assert.Equal(SourceState.Active, Assert.Single(rows, row => row.Kind == SourceKind.Embedded).State);
        Assert.Equal(inner.PollFd, Assert.Single(rows, row => row.Kind == SourceKind.Fd).Fd);
    }

    [Fact]
    public void Changes_CompleteWhenTheLoopIsDisposed()
    {
        var loop = new EventLoop();
        bool completed = false;
        using var model = loop.Diagnostics.Changes.Subscribe(_ => { }, () => completed = true);
        loop.Dispatch(TimeSpan.Zero);
        loop.Dispose();
        Assert.True(completed);
        Assert.Throws<ObjectDisposedException>(() => loop.Diagnostics.Changes.Subscribe());
    }

    [Fact]
    public void ObservableSourceCollection_AppliesTheChangesOnTheUiThread_AndMatchesTheModel()
    {
        using var ui = new UiSynchronizationContext();
        using var loop = new EventLoop();
        using var timer = loop.Timer(TimeSpan.FromMinutes(1)).Subscribe();
        var notifications = new ConcurrentQueue<(NotifyCollectionChangedAction Action, int Thread)>();
        using var changed = new SemaphoreSlim(0);
        using var collection = new ObservableSourceCollection(loop.Diagnostics.Changes, ui);
        ((INotifyCollectionChanged)collection).CollectionChanged += (_, e) =>
        {
            notifications.Enqueue((e.Action, Environment.CurrentManagedThreadId));
            changed.Release();
        };

        var (ping, pingSource) = loop.Ping();
        var pingSubscription = pingSource.Subscribe();
        loop.Dispatch(TimeSpan.Zero);
        pingSource.Disable();
        loop.Dispatch(TimeSpan.Zero);
        pingSubscription.Dispose();
        loop.Dispatch(TimeSpan.Zero);

        // The timer, the model's own feed and the ping added; the ping replaced when disabled, then removed.
        SourceKind[] expected = [.. loop.Diagnostics.GetSources().Select(row => row.Kind).Order()];
        Assert.Equal([SourceKind.Timer, SourceKind.Diagnostics], expected);
        var deadline = DateTime.UtcNow + LoopExtensions.Patience;
        while (!(notifications.Any(n => n.Action == NotifyCollectionChangedAction.Remove)
            && OnUi(ui, () => collection.Select(row => row.Kind).Order().SequenceEqual(expected))))
        {
            Assert.True(changed.Wait(deadline - DateTime.UtcNow), "the collection did not follow the model");
        }

        Assert.All(notifications, n => Assert.Equal(ui.ManagedThreadId, n.Thread));
        Assert.Contains(notifications, n => n.Action == NotifyCollectionChangedAction.Replace);
        Assert.Equal(3, notifications.Count(n => n.Action == NotifyCollectionChangedAction.Add));
        ping.Dispose();
    }

    [Fact]
    public void ObservableSourceCollection_FollowsChurnFromManyThreads_AndEndsEqualToTheModel()
    {
        using var ui = new UiSynchronizationContext();
        using var loopThread = EventLoopThread.Start();
        EventLoop loop = loopThread.Loop;
        using var changed = new SemaphoreSlim(0);
        using var collection = new ObservableSourceCollection(loop.Diagnostics.Changes, ui);
        ((INotifyCollectionChanged)collection).CollectionChanged += (_, _) => changed.Release();
        var kept = new ConcurrentBag<IDisposable>();
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                var (_, source) = loop.Channel<int>();
                IDisposable subscription = source.Subscribe();
                if (i % 50 == t)
                {
                    kept.Add(subscription);
                }
                else
                {
                    subscription.Dispose();
                }
            }
        })).ToList();
        threads.ForEach(thread => thread.Start());
        Assert.All(threads, thread => Assert.True(thread.Join(LoopExtensions.Patience)));

        long[] expected = [.. loop.Diagnostics.GetSources().Select(row => row.Id)];
        Assert.Equal(17, expected.Length); // 16 kept channels and the model's own feed
        var deadline = DateTime.UtcNow + LoopExtensions.Patience;
        while (!OnUi(ui, () => collection.Select(row => row.Id).Order().SequenceEqual(expected)))
        {
            Assert.True(changed.Wait(deadline - DateTime.UtcNow), "the collection did not end equal to the model");
        }

        foreach (IDisposable subscription in kept)
        {
            subscription.Dispose();
        }
    }

    private static T OnUi<T>(UiSynchronizationContext ui, Func<T> read)
    {
        T result = default!;
        using var done = new ManualResetEventSlim();
        ui.Post(_ =>
        {
            result = read();
            done.Set();
        }, null);
        Assert.True(done.Wait(LoopExtensions.Patience), "the UI thread did not answer");
        return result;
    }
}
