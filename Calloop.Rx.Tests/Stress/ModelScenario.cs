using FsCheck;
using FsCheck.Fluent;

namespace Calloop.Rx.Tests.Stress;

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
