using System.Reactive.Linq;
using System.Runtime.InteropServices;
using Calloop.Rx.Testing;
using Calloop.Rx.Tests.Interop;
using Microsoft.Reactive.Testing;

namespace Calloop.Rx.Tests.Testing;

/// <summary>
/// <see cref="LoopScript.Raise"/>: a real signal sent to this process at a tick is delivered at that tick, although
/// .NET hands it to the loop through its own signal thread. Signal dispositions are process-wide: Serial collection.
/// </summary>
[Collection("Serial")]
public sealed class ScriptedSignalTests : ReactiveTest
{
    private static readonly PosixSignal s_usr1 = (PosixSignal)TestSys.SIGUSR1;
    private static readonly PosixSignal s_usr2 = (PosixSignal)TestSys.SIGUSR2;

    [Fact]
    public void Raise_DeliversTheSignalAtItsTick_EveryTime()
    {
        for (int trial = 0; trial < 20; trial++)
        {
            using var scheduler = new LoopTestScheduler();
            SignalSource signals = scheduler.Loop.Signals(s_usr1, s_usr2);
            scheduler.Script.Raise(300, signals, s_usr1).Raise(301, signals, s_usr2).Raise(700, signals, s_usr1);

            var res = scheduler.Start(() => signals.Select(e => e.Signal));

            res.Messages.AssertEqual(OnNext(300, s_usr1), OnNext(301, s_usr2), OnNext(700, s_usr1));
        }
    }

    [Fact]
    public void Raise_OfASignalTheSourceDoesNotTake_Throws()
    {
        using var scheduler = new LoopTestScheduler();
        SignalSource signals = scheduler.Loop.Signals(s_usr1);
        Assert.Throws<ArgumentException>(() => scheduler.Script.Raise(300, signals, s_usr2));
    }
}
