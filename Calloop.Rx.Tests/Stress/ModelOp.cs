using FsCheck;
using FsCheck.Fluent;

namespace Calloop.Rx.Tests.Stress;

/// <summary>Which source of the model loop an operation acts on.</summary>
public enum ModelTarget
{
    /// <summary>The unbounded channel.</summary>
    Channel,

    /// <summary>The bounded channel (capacity <see cref="LoopModel.BoundedCapacity"/>).</summary>
    Bounded,

    /// <summary>The ping.</summary>
    Ping,

    /// <summary>One of the timers inserted so far, picked by index among the live ones.</summary>
    Timer,
}

/// <summary>What an operation does.</summary>
public enum ModelOpKind
{
    Subscribe,
    Unsubscribe,
    Enable,
    Disable,
    Update,
    Remove,
    Send,
    DisposeSender,
    InsertTimer,
    Dispatch,
    Advance,
    DisposeLoop,
}

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

/// <summary>A sequence of operations, printed one numbered step per line.</summary>
public sealed class ModelScenario(IReadOnlyList<ModelOp> ops)
{
    public IReadOnlyList<ModelOp> Ops { get; } = ops;

    /// <summary>Random scenarios that shrink by dropping steps (halves first, then single steps).</summary>
    public static Arbitrary<ModelScenario> Arbitrary { get; } = Arb.From(
        ModelOp.Generator.ArrayOf().Select(ops => new ModelScenario(ops)),
        Shrink);

    public override string ToString() =>
        Environment.NewLine + string.Join(Environment.NewLine, Ops.Select((op, i) => $"  {i,3}: {op}")) + Environment.NewLine;

    private static IEnumerable<ModelScenario> Shrink(ModelScenario scenario)
    {
        var ops = scenario.Ops;
        for (int chunk = ops.Count / 2; chunk >= 1; chunk /= 2)
        {
            for (int start = 0; start + chunk <= ops.Count; start += chunk)
            {
                yield return new ModelScenario([.. ops.Take(start), .. ops.Skip(start + chunk)]);
            }
        }

        for (int i = 0; i < ops.Count; i++)
        {
            if (ops[i].Kind is ModelOpKind.Advance or ModelOpKind.InsertTimer && ops[i].Arg > 0)
            {
                yield return new ModelScenario([.. ops.Take(i), ops[i] with { Arg = ops[i].Arg - 1 }, .. ops.Skip(i + 1)]);
            }
        }
    }
}
