using BenchmarkDotNet.Running;
using Calloop.Rx.Benchmarks.Anchors;

// `Calloop.Rx.Benchmarks [--impl X] <workload> [n]` runs one anchor workload (see anchor.sh);
// anything else goes to BenchmarkDotNet (e.g. `--filter '*'`).
if (args.Length > 0 && (args[0] == "--impl" || AnchorRunner.IsWorkload(args[0])))
{
    return AnchorRunner.Run(args);
}

BenchmarkSwitcher.FromAssembly(typeof(AnchorRunner).Assembly).Run(args);
return 0;
