using System.Reactive;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// Runs a <see cref="ModelScenario"/> on a real loop with a virtual clock and, step by step, on a model of what
/// must be delivered; after every step each subscriber's notifications, every send's result and the order timers
/// fired in must match the model. A mismatch fails with the step, the operation and what differs.
/// </summary>
/// <remarks>
/// Encoded promises: a send reported Sent is delivered exactly once, in order, to every subscriber present at the
/// dispatch that delivers it; what is queued with nobody subscribed (or while disabled) waits; Remove from outside
/// completes the subscribers on the next dispatch, a late subscriber gets OnCompleted too; once its sender is
/// disposed a source completes after delivering what was queued (when subscribed and enabled); timers fire on the first
/// dispatch at or after their deadline in (deadline, arming order); loop disposal completes every subscriber not
/// disposed by the test exactly once, after which sends answer Closed and Subscribe, Dispatch, AdvanceBy and new
/// timers throw <see cref="ObjectDisposedException"/>. Control calls on ended sources are not made (pending decision).
/// </remarks>
public sealed class LoopModel : IDisposable
{
    /// <summary>The bounded channel's capacity: small, so that Full is common.</summary>
    public const int BoundedCapacity = 3;

    private readonly EventLoop _loop = new(LoopClock.Virtual(DateTimeOffset.UnixEpoch));
    private readonly IModelStream _channel;
    private readonly IModelStream _bounded;
    private readonly IModelStream _ping;
    private readonly Sender<int> _sender;
    private readonly BoundedSender<int> _syncSender;
    private readonly Ping _pingSender;
    private readonly List<ModelTimer> _timers = [];
    private readonly List<int> _fired = [];
    private readonly List<int> _expectedFired = [];
    private long _nowMs;
    private long _armSequence;
    private int _nextValue;
    private bool _disposed;

    private LoopModel()
    {
        var (sender, channel) = _loop.Channel<int>();
        var (syncSender, bounded) = _loop.BoundedChannel<int>(BoundedCapacity);
        var (ping, pings) = _loop.Ping();
        (_sender, _syncSender, _pingSender) = (sender, syncSender, ping);
        _channel = new ModelStream<int>("Channel", channel, n => (sender.TrySend(n), n), sender, 0, coalesces: false);
        _bounded = new ModelStream<int>("Bounded", bounded, n => (syncSender.TrySend(n), n), syncSender, BoundedCapacity, coalesces: false);
        _ping = new ModelStream<Unit>("Ping", pings, _ => (ping.Send(), Unit.Default), ping, 0, coalesces: true);
    }

    /// <summary>Runs <paramref name="scenario"/> then disposes the loop, checking the model after each step; throws on the first mismatch.</summary>
    public static void Run(ModelScenario scenario)
    {
        using var model = new LoopModel();
        var steps = scenario.Ops.Append(new ModelOp(ModelOpKind.DisposeLoop)).ToList();
        for (int i = 0; i < steps.Count; i++)
        {
            string? mismatch;
            try
            {
                mismatch = model.Step(steps[i]) ?? model.Mismatches().FirstOrDefault();
            }
            catch (Exception e)
            {
                mismatch = $"unexpected {e.GetType().Name}: {e.Message}";
            }

            if (mismatch is not null)
            {
                string where = i == steps.Count - 1 ? "the final loop.Dispose()" : $"step {i}: {steps[i]}";
                throw new InvalidOperationException($"Model mismatch after {where}: {mismatch}");
            }
        }
    }

    public void Dispose()
    {
        _loop.Dispose();
        _sender.Dispose();
        _syncSender.Dispose();
        _pingSender.Dispose();
    }

    private IModelStream StreamOf(ModelTarget target) => target switch
    {
        ModelTarget.Channel => _channel,
        ModelTarget.Bounded => _bounded,
        ModelTarget.Ping => _ping,
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, "timers are not streams"),
    };

    private IEnumerable<string> Mismatches()
    {
        var all = _channel.Mismatches().Concat(_bounded.Mismatches()).Concat(_ping.Mismatches())
            .Concat(_timers.Select(t => t.Subscriber.Mismatch()).OfType<string>());
        if (!_fired.SequenceEqual(_expectedFired))
        {
            all = all.Append($"timers fired in order [{string.Join(", ", _fired)}], expected [{string.Join(", ", _expectedFired)}]");
        }

        return all;
    }

    /// <summary>Runs one operation on the loop and the model; returns a mismatch found by the operation itself (a send's answer, a missing exception).</summary>
    private string? Step(ModelOp op) =>
        _disposed && op.Kind is ModelOpKind.Subscribe or ModelOpKind.InsertTimer or ModelOpKind.Dispatch or ModelOpKind.Advance
            ? ExpectDisposedThrow(op)
            : Act(op);

    private string? Act(ModelOp op)
    {
        switch (op.Kind)
        {
            case ModelOpKind.Subscribe:
                StreamOf(op.Target).Subscribe(_loop);
                return null;
            case ModelOpKind.Unsubscribe:
                if (op.Target == ModelTarget.Timer)
                {
                    if (LiveTimer(op.Arg) is { } cancelled)
                    {
                        cancelled.Subscriber.Dispose();
                        cancelled.Live = false;
                    }
                }
                else
                {
                    StreamOf(op.Target).Unsubscribe(op.Arg);
                }

                return null;
            case ModelOpKind.Enable or ModelOpKind.Disable or ModelOpKind.Update or ModelOpKind.Remove:
                if (op.Target == ModelTarget.Timer)
                {
                    ControlTimer(op);
                }
                else
                {
                    StreamOf(op.Target).Control(op.Kind);
                }

                return null;
            case ModelOpKind.Send:
                return StreamOf(op.Target).Send(++_nextValue);
            case ModelOpKind.DisposeSender:
                StreamOf(op.Target).DisposeSender();
                return null;
            case ModelOpKind.InsertTimer:
                InsertTimer(op.Arg);
                return null;
            case ModelOpKind.Dispatch:
                _loop.Dispatch(TimeSpan.Zero);
                ModelDispatch(_nowMs);
                return null;
            case ModelOpKind.Advance:
                _loop.AdvanceBy(TimeSpan.FromMilliseconds(op.Arg));
                _nowMs += op.Arg;
                ModelDispatch(_nowMs);
                return null;
            case ModelOpKind.DisposeLoop:
                _loop.Dispose();
                if (!_disposed)
                {
                    _disposed = true;
                    _channel.LoopDisposed();
                    _bounded.LoopDisposed();
                    _ping.LoopDisposed();
                    foreach (var timer in _timers)
                    {
                        if (timer.Live || timer.Subscriber.OwedCompletion)
                        {
                            timer.Subscriber.OwedCompletion = false;
                            timer.Subscriber.ExpectCompleted = true;
                            timer.Live = false;
                        }
                    }
                }

                return null;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    /// <summary>After disposal, an operation that must throw <see cref="ObjectDisposedException"/> (and change nothing).</summary>
    private string? ExpectDisposedThrow(ModelOp op)
    {
        try
        {
            Act(op);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }

        return $"{op} did not throw ObjectDisposedException after the loop was disposed";
    }

    private ModelTimer? LiveTimer(int index)
    {
        var live = _timers.Where(t => t.Live).ToList();
        return live.Count == 0 ? null : live[index % live.Count];
    }

    private void InsertTimer(int dueMs)
    {
        TimerSource source = _loop.Timer(TimeSpan.FromMilliseconds(dueMs));
        int id = _timers.Count;
        var subscriber = new ModelSubscriber<DateTimeOffset>($"Timer {id} (due {_nowMs + dueMs} ms)", new ContractObserver<DateTimeOffset>(_loop, _ => _fired.Add(id)));
        var timer = new ModelTimer(id, _nowMs + dueMs, source, subscriber) { ArmSequence = ++_armSequence };
        subscriber.Handle = source.Subscribe(subscriber.Observer);
        _timers.Add(timer);
    }

    private void ControlTimer(ModelOp op)
    {
        if (LiveTimer(op.Arg) is not { } timer)
        {
            return;
        }

        switch (op.Kind)
        {
            case ModelOpKind.Enable:
                timer.Source.Enable();
                if (!timer.Enabled)
                {
                    timer.Enabled = true;
                    timer.ArmSequence = ++_armSequence;
                }

                break;
            case ModelOpKind.Disable:
                timer.Source.Disable();
                timer.Enabled = false;
                break;
            case ModelOpKind.Update:
                // Re-arming takes a new place among equal deadlines.
                timer.Source.Update();
                if (timer.Armed)
                {
                    timer.ArmSequence = ++_armSequence;
                }

                break;
            case ModelOpKind.Remove:
                timer.Source.Remove();
                timer.Live = false;
                timer.Subscriber.OwedCompletion = true;
                break;
        }
    }

    /// <summary>What a dispatch (or an advance to <paramref name="nowMs"/>) delivers: queued values, due timers in (deadline, arming order), owed completions.</summary>
    private void ModelDispatch(long nowMs)
    {
        _channel.Dispatch();
        _bounded.Dispatch();
        _ping.Dispatch();
        foreach (var timer in _timers.Where(t => t.Armed && t.DeadlineMs <= nowMs).OrderBy(t => t.DeadlineMs).ThenBy(t => t.ArmSequence).ToList())
        {
            timer.Live = false;
            timer.Subscriber.Expected.Add(DateTimeOffset.UnixEpoch.AddMilliseconds(timer.DeadlineMs));
            timer.Subscriber.ExpectCompleted = true;
            _expectedFired.Add(timer.Id);
        }

        foreach (var timer in _timers)
        {
            timer.Subscriber.SettleOwedCompletion();
        }
    }
}
