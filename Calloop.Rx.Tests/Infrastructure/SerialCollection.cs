namespace Calloop.Rx.Tests.Infrastructure;

/// <summary>
/// Tests that touch process-wide state (signal dispositions, the count of open fds in /proc/self/fd) run in this
/// collection, which xunit runs alone, after the parallel ones.
/// </summary>
[CollectionDefinition("Serial", DisableParallelization = true)]
public sealed class SerialCollection
{
}
