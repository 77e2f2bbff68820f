using FsCheck;
using FsCheck.Fluent;

namespace Calloop.Rx.Tests.Stress;

/// <summary>
/// Model-based randomized test: thousands of random operation sequences per run, each checked step by step against
/// <see cref="LoopModel"/>. A failure is shrunk to a short sequence and printed one step per line with FsCheck's
/// seed; set <c>CALLOOP_MODEL_REPLAY</c> to that seed (<c>seed,gamma</c>) to run exactly that case again.
/// </summary>
public class LoopModelTests
{
    [Fact]
    public void RandomOperationSequences_MatchTheModel()
    {
        Config config = Config.QuickThrowOnFailure
            .WithMaxTest(StressSettings.Scaled(3000))
            .WithEndSize(80)
            .WithQuietOnSuccess(true);
        if (Environment.GetEnvironmentVariable("CALLOOP_MODEL_REPLAY") is { Length: > 0 } replay)
        {
            ulong[] parts = [.. replay.Trim('(', ')', ' ').Split(',').Select(p => ulong.Parse(p.Trim(), System.Globalization.CultureInfo.InvariantCulture))];
            config = config.WithReplay(new Replay(new Rnd(parts[0], parts[1]), null));
        }

        Check.One(config, Prop.ForAll(ModelScenario.Arbitrary, (Action<ModelScenario>)LoopModel.Run));
    }
}
