using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.Tests.Interop;

namespace Calloop.Rx.Tests.Loop;

/// <summary>
/// A bounded wait also arms the loop's timerfd, so that it ends on time rather than the kernel's timer slack late.
/// This checks what that must not change: an unbounded wait ends only for an event.
/// </summary>
public class WakeTimerTests
{
    [Fact]
    public void Dispatch_UnboundedAfterABoundedOne_IsNotEndedByItsWakeTimer()
    {
        using var loop = new EventLoop { SpinBeforeWait = TimeSpan.Zero };
        using var pipe = FdPair.Pipe();
        int reads = 0;
        using var subscription = loop.Fd(pipe.Second, Interest.Read).Subscribe(_ =>
        {
            TestSys.Drain(pipe.Second);
            reads++;
        });

        // The pipe is readable, so this wait ends at once and leaves its 5 ms wake-up timer behind.
        TestSys.Write(pipe.First, [1]);
        loop.Dispatch(TimeSpan.FromMilliseconds(5));
        Assert.Equal(1, reads);

        // The next event is a write made 30 ms later by another loop's timer; the unbounded dispatch must wait for it.
        using var other = new EventLoop();
        bool written = false;
        using var later = other.Timer(TimeSpan.FromMilliseconds(30)).Subscribe(_ =>
        {
            TestSys.Write(pipe.First, [2]);
            written = true;
        });
        var writer = new Thread(() =>
        {
            while (!written)
            {
                other.Dispatch(LoopExtensions.Patience);
            }
        });
        writer.Start();
        Watchdog.Dispatch(loop, "the write from the other loop");
        writer.Join();

        Assert.Equal(2, reads);
    }
}
