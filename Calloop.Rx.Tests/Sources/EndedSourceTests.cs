using System.Reactive;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Sources;

/// <summary>
/// Control calls on a source that has ended are errors, as calloop's <c>Err(InvalidToken)</c>: Enable, Disable and
/// Update throw <see cref="InvalidOperationException"/> naming the source; Remove (like Dispose) stays idempotent.
/// </summary>
public class EndedSourceTests
{
    public static TheoryData<string> Ends => new() { "Remove", "Completion", "LoopThreadRemove" };

    [Theory]
    [MemberData(nameof(Ends))]
    public void SourceControl_OnAnEndedSource_ThrowsNamingIt(string end)
    {
        using var loop = new EventLoop(LoopClock.Virtual(DateTimeOffset.UnixEpoch));
        using var pipe = FdPair.Pipe();
        LoopSource<Unit> source;
        switch (end)
        {
            case "Remove":
                FdSource fds = loop.Fd(pipe.Second);
                fds.Subscribe(_ => { });
                fds.Remove();
                source = PingOf(loop, out _);
                source.Subscribe(_ => { });
                source.Remove();
                AssertThrowsNaming(fds, $"Fd {pipe.Second}");
                break;
            case "Completion":
                source = PingOf(loop, out Ping ping);
                source.Subscribe(_ => { });
                ping.Dispose();
                loop.Dispatch(TimeSpan.Zero);
                break;
            default:
                source = PingOf(loop, out Ping sender);
                source.Subscribe(_ => source.Remove());
                sender.Send();
                loop.Dispatch(TimeSpan.Zero);
                break;
        }

        Assert.True(source.IsTerminated);
        AssertThrowsNaming(source, "Ping");
        source.Remove();
    }

    [Fact]
    public void Enable_InsideTheCallbackThatEndedTheSource_Throws()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        Exception? thrown = null;
        pings.Subscribe(_ => { }, () =>
        {
            thrown = Record.Exception(pings.Enable);
        });
        ping.Dispose();

        loop.Dispatch(TimeSpan.Zero);

        Assert.IsType<InvalidOperationException>(thrown);
    }

    private static PingSource PingOf(EventLoop loop, out Ping ping)
    {
        (ping, PingSource source) = loop.Ping();
        return source;
    }

    private static void AssertThrowsNaming<T>(LoopSource<T> source, string name)
    {
        foreach (Action call in new Action[] { source.Enable, source.Disable, source.Update })
        {
            var error = Assert.Throws<InvalidOperationException>(call);
            Assert.Contains(name, error.Message);
        }
    }
}
