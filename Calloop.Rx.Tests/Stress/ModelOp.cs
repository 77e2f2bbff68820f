using FsCheck;
using FsCheck.Fluent;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// One step of a model run. <see cref="Arg"/> is an index (taken modulo the live subscriptions or timers, so a
/// shrunk sequence stays meaningful) or a number of virtual milliseconds. <see cref="ToString"/> is what a failing
/// run prints, one line per step.
/// </summary>
public sealed record ModelOp(ModelOpKind Kind, ModelTarget Target = ModelTarget.Channel, int Arg = 0)
{
    public override string ToString() => Kind switch
    {
        ModelOpKind.Subscribe => $"Subscribe({Target})",
        ModelOpKind.Unsubscribe when Target == ModelTarget.Timer => $"CancelTimer(live #{Arg})",
        ModelOpKind.Unsubscribe => $"DisposeSubscription({Target}, live #{Arg})",
        ModelOpKind.Enable or ModelOpKind.Disable or ModelOpKind.Update or ModelOpKind.Remove when Target == ModelTarget.Timer =>
            $"{Kind}(Timer live #{Arg})",
        ModelOpKind.Enable or ModelOpKind.Disable or ModelOpKind.Update or ModelOpKind.Remove => $"{Kind}({Target})",
        ModelOpKind.Send => Target == ModelTarget.Ping ? "Ping.Send()" : $"TrySend({Target})",
        ModelOpKind.DisposeSender => $"DisposeSender({Target})",
        ModelOpKind.InsertTimer => $"InsertTimer(due {Arg} ms)",
        ModelOpKind.Dispatch => "Dispatch(TimeSpan.Zero)",
        ModelOpKind.Advance => $"AdvanceBy({Arg} ms)",
        ModelOpKind.DisposeLoop => "loop.Dispose()",
        _ => Kind.ToString(),
    };

    /// <summary>Random operations, weighted towards sends and dispatches so that queues fill and drain.</summary>
    public static Gen<ModelOp> Generator { get; } = Gen.Frequency(
        (10, Gen.Elements(ModelTarget.Channel, ModelTarget.Bounded, ModelTarget.Ping).Select(t => new ModelOp(ModelOpKind.Send, t))),
        (8, Gen.Constant(new ModelOp(ModelOpKind.Dispatch))),
        (5, Gen.Elements(ModelTarget.Channel, ModelTarget.Bounded, ModelTarget.Ping).Select(t => new ModelOp(ModelOpKind.Subscribe, t))),
        (4, Gen.Elements(ModelTarget.Channel, ModelTarget.Bounded, ModelTarget.Ping, ModelTarget.Timer)
            .SelectMany(t => Gen.Choose(0, 3).Select(i => new ModelOp(ModelOpKind.Unsubscribe, t, i)))),
        (4, Gen.Elements(ModelOpKind.Enable, ModelOpKind.Disable)
            .SelectMany(k => Gen.Elements(ModelTarget.Channel, ModelTarget.Bounded, ModelTarget.Ping, ModelTarget.Timer)
                .SelectMany(t => Gen.Choose(0, 3).Select(i => new ModelOp(k, t, i))))),
        (1, Gen.Elements(ModelTarget.Channel, ModelTarget.Bounded, ModelTarget.Ping, ModelTarget.Timer)
            .SelectMany(t => Gen.Choose(0, 3).Select(i => new ModelOp(ModelOpKind.Update, t, i)))),
        (1, Gen.Elements(ModelTarget.Channel, ModelTarget.Bounded, ModelTarget.Ping, ModelTarget.Timer)
            .SelectMany(t => Gen.Choose(0, 3).Select(i => new ModelOp(ModelOpKind.Remove, t, i)))),
        (1, Gen.Elements(ModelTarget.Channel, ModelTarget.Bounded, ModelTarget.Ping).Select(t => new ModelOp(ModelOpKind.DisposeSender, t))),
        (5, Gen.Choose(0, 4).Select(due => new ModelOp(ModelOpKind.InsertTimer, ModelTarget.Timer, due))),
        (3, Gen.Choose(0, 4).Select(ms => new ModelOp(ModelOpKind.Advance, ModelTarget.Timer, ms))),
        (1, Gen.Constant(new ModelOp(ModelOpKind.DisposeLoop))));
}
