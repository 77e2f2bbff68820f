namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>Tests that touch process-wide state, or whose timing must not compete with the rest of the suite, run alone.</summary>
[CollectionDefinition("Serial", DisableParallelization = true)]
public sealed class SerialCollection
{
}
