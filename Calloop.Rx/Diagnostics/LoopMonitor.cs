using System.Diagnostics;

namespace Calloop.Rx.Diagnostics;

/// <summary>
/// A loop's diagnostics while someone observes them (the live model, statistics or metrics): the records of its
/// sources, the changes not yet delivered, and the loop's own figures. The loop holds one only while observed, so
/// its hot paths test a single null field otherwise.
/// </summary>
/// <remarks>Records and pending changes are guarded by the loop's gate; the figures are written on the loop thread.</remarks>
internal sealed class LoopMonitor
{
    private readonly EventLoop _loop;
    private readonly long[] _retiredEvents = new long[Enum.GetValues<SourceKind>().Length];
    private readonly long[] _retiredCoalesced = new long[Enum.GetValues<SourceKind>().Length];
    private List<(SourceChangeReason Reason, ILoopSource Source, SourceRecord Record)> _pending = [];
    private long _nextId;
    private long _sequence;
    private int _changeObservers;

    public LoopMonitor(EventLoop loop)
    {
        _loop = loop;
        Feed = new SourceChangeFeed(loop, this);
    }

    /// <summary>The source that delivers change sets to the live model's observers.</summary>
    public SourceChangeFeed Feed { get; }

    /// <summary>The sequence number of the last change noted. Under the gate.</summary>
    public long Sequence => _sequence;

    /// <summary>Dispatches, and their time waiting and in total, in <see cref="Stopwatch"/> ticks (loop thread).</summary>
    public long Iterations;

    public long WaitTimestampTicks;

    public long DispatchTimestampTicks;

    /// <summary>When the dispatch in progress started (<see cref="Stopwatch"/> timestamp), 0 between dispatches (loop thread).</summary>
    public long DispatchStart;

    /// <summary>
    /// Time spent dispatching other than waiting, the dispatch in progress included (a sample taken inside a dispatch
    /// has counted its wait already). Read from another thread it may be a dispatch old.
    /// </summary>
    public long WorkTimestampTicks
    {
        get
        {
            long start = DispatchStart;
            long current = start == 0 ? 0 : Stopwatch.GetTimestamp() - start;
            return Math.Max(0, DispatchTimestampTicks + current - WaitTimestampTicks);
        }
    }

    /// <summary>Source events delivered (callback runs; loop thread).</summary>
    public long Events;

    /// <summary>Whether the loop's figures go to the process's <see cref="LoopMetrics"/> meter.</summary>
    public volatile bool PublishesMetrics;

    /// <summary>An observer of <see cref="LoopDiagnostics.Changes"/> arrived: changes are noted from now on. Caller holds the gate.</summary>
    public void AddChangeObserverLocked() => _changeObservers++;

    /// <summary>
    /// An observer of the changes left; after the last, changes are no longer noted (statistics or metrics alone
    /// keep no backlog of them). Caller holds the gate.
    /// </summary>
    public void RemoveChangeObserverLocked()
    {
        if (--_changeObservers == 0)
        {
            _pending.Clear();
        }
    }

    /// <summary>A source joined the loop's table of sources. Caller holds the gate.</summary>
    public void OnTracked(ILoopSource source)
    {
        var record = new SourceRecord(this, ++_nextId, KindOf(source), _loop.Time.NowTicks);
        source.Record = record;
        Note(SourceChangeReason.Added, source, record);
    }

    /// <summary>A source left the loop's table: its figures are retired into the totals. Caller holds the gate.</summary>
    public void OnUntracked(ILoopSource source)
    {
        if (source.Record is { } record && record.Monitor == this)
        {
            _retiredEvents[(int)record.Kind] += record.Delivered;
            _retiredCoalesced[(int)record.Kind] += Volatile.Read(ref record.Coalesced);
            Note(SourceChangeReason.Removed, source, record);
        }

        source.Record = null;
    }

    /// <summary>Something shown about a tracked source changed. Caller holds the gate.</summary>
    public void OnChanged(ILoopSource source, SourceChangeReason reason)
    {
        if (source.Record is { } record && record.Monitor == this)
        {
            Note(reason, source, record);
        }
    }

    /// <summary>Gives every source the loop tracks now a record (the monitor was just installed). Caller holds the gate.</summary>
    public void Adopt(IEnumerable<ILoopSource> sources)
    {
        foreach (ILoopSource source in sources)
        {
            source.Record = new SourceRecord(this, ++_nextId, KindOf(source), _loop.Time.NowTicks);
        }
    }

    /// <summary>The monitor was uninstalled: the sources drop their records, so hot paths see null again. Caller holds the gate.</summary>
    public static void Release(IEnumerable<ILoopSource> sources)
    {
        foreach (ILoopSource source in sources)
        {
            source.Record = null;
        }
    }

    /// <summary>The live model now, in id order, with the sequence number it reflects. Caller holds the gate.</summary>
    public List<SourceInfo> Snapshot(IEnumerable<ILoopSource> sources)
    {
        var rows = new List<SourceInfo>();
        foreach (ILoopSource source in sources)
        {
            if (source.Record is { } record && record.Monitor == this)
            {
                rows.Add(Describe(source, record, ended: false));
            }
        }

        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        return rows;
    }

    /// <summary>Takes the changes noted so far as one set; empty when there are none. Caller holds the gate.</summary>
    public SourceChangeSet TakeChanges()
    {
        if (_pending.Count == 0)
        {
            return new SourceChangeSet([], _sequence + 1);
        }

        var pending = _pending;
        _pending = [];
        var changes = new SourceChange[pending.Count];
        for (int i = 0; i < changes.Length; i++)
        {
            var (reason, source, record) = pending[i];
            changes[i] = new SourceChange(reason, reason == SourceChangeReason.Removed && record.LastRow is { } last
                ? last
                : Describe(source, record, reason == SourceChangeReason.Ended));
        }

        return new SourceChangeSet(changes, _sequence - changes.Length + 1);
    }

    /// <summary>Every tracked source's figures, in id order (loop thread, under the gate for the table).</summary>
    public List<SourceStatistics> SampleSources(IEnumerable<ILoopSource> sources)
    {
        var rows = new List<SourceStatistics>();
        foreach (ILoopSource source in sources)
        {
            if (source.Record is { } record && record.Monitor == this)
            {
                long callbacks = record.Callbacks;
                rows.Add(new SourceStatistics(
                    record.Id,
                    record.Kind,
                    source.Name,
                    record.Delivered,
                    Volatile.Read(ref record.Coalesced),
                    source is IQueuedSource queued ? queued.QueueDepth : 0,
                    callbacks,
                    callbacks == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, record.CallbackTimestampTicks / callbacks),
                    Stopwatch.GetElapsedTime(0, record.MaxCallbackTimestampTicks),
                    record.LastEventTicks < 0 ? null : _loop.Time.ToDateTimeOffset(record.LastEventTicks)));
            }
        }

        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        return rows;
    }

    /// <summary>Timers and timed actions pending in the loop. Caller holds the gate.</summary>
    public long LiveTimersLocked() => _loop.Work.Timers.Count;

    /// <summary>Values delivered by sources of <paramref name="kind"/>, retired ones included. Caller holds the gate.</summary>
    public long EventsOfKind(SourceKind kind, IEnumerable<ILoopSource> sources) =>
        _retiredEvents[(int)kind] + sources.Select(s => s.Record).Where(r => r?.Monitor == this && r.Kind == kind).Sum(r => r!.Delivered);

    /// <summary>Pings coalesced by sources of <paramref name="kind"/>, retired ones included. Caller holds the gate.</summary>
    public long CoalescedOfKind(SourceKind kind, IEnumerable<ILoopSource> sources) =>
        _retiredCoalesced[(int)kind] + sources.Select(s => s.Record).Where(r => r?.Monitor == this && r.Kind == kind).Sum(r => Volatile.Read(ref r!.Coalesced));

    internal static SourceKind KindOf(ILoopSource source) => source switch
    {
        FdSource => SourceKind.Fd,
        TimerSource => SourceKind.Timer,
        PingSource => SourceKind.Ping,
        SignalSource => SourceKind.Signal,
        FileWatchSource => SourceKind.FileWatch,
        ProcessExitSource => SourceKind.ProcessExit,
        EmbeddedLoopSource => SourceKind.Embedded,
        SourceChangeFeed => SourceKind.Diagnostics,
        IQueuedSource => SourceKind.Channel,
        _ => IsComposite(source.GetType()) ? SourceKind.Composite : SourceKind.Custom,
    };

    private static bool IsComposite(Type? type)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(CompositeSource<>))
            {
                return true;
            }
        }

        return false;
    }

    private void Note(SourceChangeReason reason, ILoopSource source, SourceRecord record)
    {
        _sequence++;
        if (_changeObservers == 0)
        {
            return;
        }

        _pending.Add((reason, source, record));
        if (_pending.Count == 1)
        {
            Feed.Signal();
        }
    }

    private SourceInfo Describe(ILoopSource source, SourceRecord record, bool ended)
    {
        var fd = source as FdSource;
        var row = new SourceInfo(
            record.Id,
            record.Kind,
            source.Name,
            fd?.Fd,
            fd?.Interest,
            fd?.Mode,
            ended ? SourceState.Ended : source.DiagnosticState,
            source.SubscriberCount,
            _loop.Time.ToDateTimeOffset(record.CreatedTicks));
        record.LastRow = row;
        return row;
    }
}
