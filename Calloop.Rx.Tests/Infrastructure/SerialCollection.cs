namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>Tests that touch process-wide state (signals, /proc/self/fd counts) run alone, never beside other tests.</summary>
[CollectionDefinition("Serial", DisableParallelization = true)]
public sealed class SerialCollection
{
}
