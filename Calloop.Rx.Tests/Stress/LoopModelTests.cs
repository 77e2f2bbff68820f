using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// Model-based randomized test: thousands of random operation sequences per run, each checked step by step against
/// <see cref="LoopModel"/>. A failure is shrunk to a short sequence and printed one step per line with FsCheck's
/// seed; set <c>CALLOOP_MODEL_REPLAY</c> to the printed <c>(seed,gamma)</c>, or to the failing step's
/// <c>(seed,gamma,size)</c>, to run exactly that case again.
/// </summary>
public class LoopModelTests
{
    [Fact]
    public void RandomOperationSequences_MatchTheModel()
    {
        Config config = Config.QuickThrowOnFailure
            .WithMaxTest(StressSettings.Scaled(5_000))
            .WithEndSize(80)
            .WithQuietOnSuccess(true);
        if (Environment.GetEnvironmentVariable("CALLOOP_MODEL_REPLAY") is { Length: > 0 } replay)
        {
            ulong[] parts = [.. replay.Trim('(', ')', ' ').Split(',').Select(p => ulong.Parse(p.Trim(), System.Globalization.CultureInfo.InvariantCulture))];
            FSharpOption<int>? size = parts.Length > 2 ? FSharpOption<int>.Some((int)parts[2]) : null;
            config = config.WithReplay(new Replay(new Rnd(parts[0], parts[1]), size));
        }

        Check.One(config, Prop.ForAll(ModelScenario.Arbitrary, (Action<ModelScenario>)LoopModel.Run));
    }

    /// <summary>Counterexamples the model found (or found in planted bugs), kept as fixed cases.</summary>
    public static TheoryData<string, ModelOp[]> Counterexamples => new()
    {
        {
            "a source removed from outside and the loop disposed before the next dispatch still completes its subscriber",
            [new(ModelOpKind.InsertTimer, ModelTarget.Timer, 0), new(ModelOpKind.Remove, ModelTarget.Timer, 1)]
        },
        {
            "a late subscriber of a removed channel is completed by loop disposal",
            [new(ModelOpKind.Remove, ModelTarget.Channel), new(ModelOpKind.Subscribe, ModelTarget.Channel)]
        },
        {
            "nothing is delivered while disabled",
            [new(ModelOpKind.Subscribe, ModelTarget.Channel), new(ModelOpKind.Send, ModelTarget.Channel), new(ModelOpKind.Disable, ModelTarget.Channel), new(ModelOpKind.Advance, ModelTarget.Timer, 0)]
        },
        {
            "timers with equal deadlines fire in the order they were armed",
            [new(ModelOpKind.InsertTimer, ModelTarget.Timer, 1), new(ModelOpKind.InsertTimer, ModelTarget.Timer, 1), new(ModelOpKind.Advance, ModelTarget.Timer, 1)]
        },
    };

    [Theory]
    [MemberData(nameof(Counterexamples))]
    public void Counterexample_MatchesTheModel(string what, ModelOp[] ops)
    {
        Assert.NotEmpty(what);
        LoopModel.Run(new ModelScenario(ops));
    }
}
