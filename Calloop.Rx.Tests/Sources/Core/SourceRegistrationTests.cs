using System.Reactive;
using System.Reactive.Linq;
using Calloop.Rx.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Sources.Core;

/// <summary>
/// <see cref="SourceRegistration"/>: the state machine behind Enable, Disable, Update and Remove, the changes a
/// callback requests on its own source (applied when it returns), and the source's place in the loop's tables.
/// </summary>
public class SourceRegistrationTests
{
    [Fact]
    public void DisabledBeforeItsFirstSubscriber_RegistersUnarmed_AndEnableArmsIt()
    {
        using var loop = new EventLoop();
        var (ping, source) = loop.Ping();
        var heard = 0;
        source.Disable();
        using IDisposable subscription = source.Subscribe(_ => heard++);
        Assert.True(source.IsActive);
        Assert.False(source.IsEnabled);

        ping.Send();
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(0, heard);

        source.Enable();
        loop.DispatchUntil(() => heard == 1, "the ping held back while disabled");
        ping.Dispose();
    }

    [Fact]
    public void ChangesInsideTheCallback_TheLastOneWins()
    {
        using var loop = new EventLoop();
        var (ping, source) = loop.Ping();
        var heard = 0;
        using IDisposable subscription = source.Subscribe(_ =>
        {
            if (++heard == 1)
            {
                source.Disable();
                source.Enable();
            }
            else
            {
                source.Enable();
                source.Disable();
            }
        });

        ping.Send();
        loop.DispatchUntil(() => heard == 1, "the first ping");
        Assert.True(source.IsEnabled);

        ping.Send();
        loop.DispatchUntil(() => heard == 2, "the second ping");
        Assert.False(source.IsEnabled);
        Assert.True(source.IsActive);
        ping.Dispose();
    }

    [Fact]
    public void RemoveInsideTheCallback_IsNotUndoneByALaterEnableOrUpdate()
    {
        using var loop = new EventLoop();
        var (ping, source) = loop.Ping();
        var observer = new ContractObserver<Unit>(loop, _ =>
        {
            source.Remove();
            source.Enable();
            source.Update();
        });
        using IDisposable subscription = source.Subscribe(observer);

        ping.Send();
        loop.DispatchUntil(() => observer.Completed, "OnCompleted after the callback that removed the source");

        Assert.Single(observer.Values);
        Assert.True(source.IsTerminated);
        Assert.False(source.IsActive);
        observer.AssertClean();
        ping.Dispose();
    }

    [Fact]
    public void SubscribingAgainAndAgain_KeepsASourceOnceInTheLoopsTables_AndAnUnsubscribedPingOutOfThem()
    {
        using var loop = new EventLoop();
        var (ping, pings) = loop.Ping();
        var relay = new PingRelay(loop);
        int Rows(SourceKind kind, SourceState state) => loop.Diagnostics.GetSources().Count(row => row.Kind == kind && row.State == state);

        for (int round = 0; round < 3; round++)
        {
            using (pings.Subscribe(_ => { }))
            {
                Assert.Equal(1, Rows(SourceKind.Ping, SourceState.Active));
            }

            Assert.Equal(0, Rows(SourceKind.Ping, SourceState.Active));

            // The relay owns its inner ping from creation until it ends, so the loop keeps it while unsubscribed.
            using (relay.Subscribe(_ => { }))
            {
                Assert.Equal(1, Rows(SourceKind.Composite, SourceState.Active));
                Assert.Equal(1, Rows(SourceKind.Ping, SourceState.Active));
            }

            Assert.Equal(1, Rows(SourceKind.Composite, SourceState.Idle));
            Assert.Equal(0, Rows(SourceKind.Composite, SourceState.Active));
            Assert.Equal(0, Rows(SourceKind.Ping, SourceState.Active));
        }

        relay.Remove();
        Assert.DoesNotContain(loop.Diagnostics.GetSources(), row => row.Kind == SourceKind.Composite);
        ping.Dispose();
    }

    /// <summary>A composite source relaying its own ping.</summary>
    private sealed class PingRelay : CompositeSource<Unit>
    {
        private readonly Ping _ping;
        private readonly PingSource _inner;

        public PingRelay(EventLoop loop)
            : base(loop, "Ping relay")
        {
            (_ping, _inner) = loop.Ping();
        }

        protected override IObservable<Unit> Connect() => _inner.AsObservable();

        protected override void OnEnded()
        {
            _ping.Dispose();
            _inner.Remove();
        }
    }
}
