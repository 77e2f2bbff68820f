using System.Reactive;
using System.Reactive.Disposables;
using System.Reactive.Linq;

namespace Calloop.Rx.Diagnostics;

/// <summary>
/// What a loop is doing, for a GUI, a terminal monitor or a metrics pipeline: a live model of its sources
/// (<see cref="GetSources"/> and <see cref="Changes"/>), sampled statistics (<see cref="Sample(TimeSpan)"/>) and
/// <c>System.Diagnostics.Metrics</c> instruments (<see cref="PublishMetrics"/>). Get it from <see cref="EventLoop.Diagnostics"/>.
/// </summary>
/// <remarks>
/// <para>Nothing is recorded while nobody observes: the loop's hot paths then test one null field. The first
/// subscription (or <see cref="PublishMetrics"/>) switches recording on for the whole loop, the last disposal
/// switches it off; figures and ids start again the next time.</para>
/// <para>The model holds the sources the loop can reach: those registered (with a subscriber), and those that hold
/// OS resources from creation until they end (composite and embedded sources). A source nobody subscribes to is
/// not in it. A source that leaves and joins again is a new row with a new id.</para>
/// </remarks>
public sealed class LoopDiagnostics
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> the instruments belong to, for <c>dotnet-counters --counters Calloop.Rx</c> or a <c>MeterListener</c>.</summary>
    public const string MeterName = LoopMetrics.MeterName;

    private readonly EventLoop _loop;

    internal LoopDiagnostics(EventLoop loop)
    {
        _loop = loop;
    }

    /// <summary>
    /// The live model's changes, on the loop thread: first one set that adds every source in the model now (none
    /// when it is empty), then one set per dispatch in which something changed, in the order the changes happened
    /// (apply them in order, keyed by <see cref="SourceInfo.Id"/>). Completes when the loop is disposed.
    /// </summary>
    /// <remarks>Subscribe from any thread; <c>Subscribe</c> throws <see cref="ObjectDisposedException"/> once the loop is disposed.</remarks>
    public IObservable<SourceChangeSet> Changes => Observable.Create<SourceChangeSet>(observer =>
    {
        lock (_loop.Gate)
        {
            var lease = new MonitorLease(_loop);
            LoopMonitor monitor = lease.Monitor;
            List<SourceInfo> rows = monitor.Snapshot(_loop.Sources.TrackedLocked());
            SourceChangeSet? snapshot = rows.Count == 0
                ? null
                : new SourceChangeSet([.. rows.Select(row => new SourceChange(SourceChangeReason.Added, row))], 0);
            monitor.AddChangeObserverLocked();
            IDisposable subscription = monitor.Feed.Subscribe(new ChangeSetObserver(observer, snapshot, monitor.Sequence));
            monitor.Feed.Signal();
            return new CompositeDisposable(subscription, Disposable.Create(() =>
            {
                lock (_loop.Gate)
                {
                    monitor.RemoveChangeObserverLocked();
                }
            }), lease);
        }
    });

    /// <summary>
    /// The sources in the model now, in id order (ids are stable only while the model or statistics are observed).
    /// Callable from any thread; never waits for the loop.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IReadOnlyList<SourceInfo> GetSources()
    {
        using var lease = new MonitorLease(_loop);
        lock (_loop.Gate)
        {
            return lease.Monitor.Snapshot(_loop.Sources.TrackedLocked());
        }
    }

    /// <summary>
    /// Pauses the source shown by the model's row <paramref name="id"/>, as <see cref="LoopSource{T}.Disable"/> does:
    /// what a monitor's "disable" key does to a source it did not create. Any thread; the row then changes to
    /// <see cref="SourceState.Disabled"/> in the next change set.
    /// </summary>
    /// <param name="id">A <see cref="SourceInfo.Id"/> of this loop's model while it is observed.</param>
    /// <returns>False when no source in the model has that id (it left the model, or nobody observes it).</returns>
    /// <exception cref="InvalidOperationException">The source has ended.</exception>
    public bool Disable(long id) => Control(id, static source => source.Disable());

    /// <summary>
    /// Resumes the source shown by the model's row <paramref name="id"/>, as <see cref="LoopSource{T}.Enable"/> does.
    /// Any thread.
    /// </summary>
    /// <param name="id">A <see cref="SourceInfo.Id"/> of this loop's model while it is observed.</param>
    /// <returns>False when no source in the model has that id (it left the model, or nobody observes it).</returns>
    /// <exception cref="LoopException">The kernel refused the registration.</exception>
    /// <exception cref="InvalidOperationException">The source has ended.</exception>
    public bool Enable(long id) => Control(id, static source => source.Enable());

    /// <summary>
    /// Ends the source shown by the model's row <paramref name="id"/>, as <see cref="LoopSource{T}.Remove"/> does:
    /// its subscribers get <c>OnCompleted</c> on the loop thread and the row leaves the model. Any thread.
    /// </summary>
    /// <param name="id">A <see cref="SourceInfo.Id"/> of this loop's model while it is observed.</param>
    /// <returns>False when no source in the model has that id (it left the model, or nobody observes it).</returns>
    public bool Remove(long id) => Control(id, static source => source.Remove());

    /// <summary>
    /// The loop's and its sources' figures, sampled on the loop thread every <paramref name="interval"/> (a timed
    /// action of the loop, not a source, so it does not show in the model). Recording starts at subscription and the
    /// figures are cumulative from there. Completes when the loop is disposed.
    /// </summary>
    /// <remarks>Subscribed to after the loop's disposal, it completes at once.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is not positive.</exception>
    public IObservable<LoopStatistics> Sample(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        return Observable.Using(
                () => new MonitorLease(_loop),
                lease => Observable.Interval(interval, _loop.Scheduler).Select(_ => _loop.SampleStatistics(lease.Monitor)))
            .TakeUntil(Observable.Create<Unit>(observer => _loop.DisposalToken.Register(() => observer.OnNext(Unit.Default))));
    }

    /// <summary>Applies <paramref name="action"/> to the source of row <paramref name="id"/>, outside the gate (it takes it).</summary>
    private bool Control(long id, Action<ILoopSource> action)
    {
        ILoopSource? source;
        lock (_loop.Gate)
        {
            LoopMonitor? monitor = _loop.Monitor;
            source = monitor is null
                ? null
                : _loop.Sources.TrackedLocked().FirstOrDefault(s => s.Record is { } record && record.Monitor == monitor && record.Id == id);
        }

        if (source is null)
        {
            return false;
        }

        action(source);
        return true;
    }

    /// <summary>
    /// Publishes this loop's figures through the process's <c>Calloop.Rx</c> meter (<see cref="MeterName"/>) until
    /// the returned handle is disposed: counters of events, coalesced pings, iterations and wait/work time, a
    /// histogram of callback durations, gauges of channel queue depth, live timers and sources, tagged by
    /// <c>calloop.source.kind</c>. Counters and gauges are read when a listener collects, on its thread; the
    /// histogram is recorded on the loop thread per callback while a listener enables it.
    /// </summary>
    /// <returns>A handle whose disposal (any thread, idempotent) stops publishing; disposing the loop stops it too.</returns>
    /// <exception cref="ObjectDisposedException">The loop is disposed.</exception>
    public IDisposable PublishMetrics()
    {
        var lease = new MonitorLease(_loop);
        IDisposable publication = LoopMetrics.Publish(_loop, lease.Monitor);
        return new CompositeDisposable(publication, lease);
    }
}
