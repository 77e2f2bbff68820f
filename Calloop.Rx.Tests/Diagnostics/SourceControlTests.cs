using Calloop.Rx.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Diagnostics;

/// <summary>
/// Control by the live model's id: what a monitor does to a source it did not create. Disable, Enable and Remove
/// act as the source's own methods do, from any thread, and an id the model does not hold is refused.
/// </summary>
public class SourceControlTests
{
    [Fact]
    public void DisableById_ThenEnableById_StopsEventsAndDeliversWhatArrivedMeanwhile()
    {
        using var loop = new EventLoop();
        var (ping, source) = loop.Ping();
        using var _ = ping;
        int pings = 0;
        using var subscription = source.Subscribe(_ => pings++);
        var changes = new List<SourceChange>();
        using var model = loop.Diagnostics.Changes.Subscribe(set => changes.AddRange(set));
        loop.DispatchUntil(() => changes.Any(c => c.Source.Kind == SourceKind.Ping), "the snapshot");
        long id = changes.Single(c => c.Source.Kind == SourceKind.Ping).Source.Id;
        changes.Clear();

        bool disabled = false;
        var other = new Thread(() => disabled = loop.Diagnostics.Disable(id));
        other.Start();
        Assert.True(other.Join(LoopExtensions.Patience));
        Assert.True(disabled);
        Assert.False(source.IsEnabled);
        ping.Send();
        loop.DispatchUntil(() => changes.Any(c => c.Reason == SourceChangeReason.Disabled), "the Disabled change");
        loop.Dispatch(TimeSpan.Zero);
        Assert.Equal(0, pings);
        Assert.Equal(SourceState.Disabled, changes.Single(c => c.Reason == SourceChangeReason.Disabled).Source.State);

        Assert.True(loop.Diagnostics.Enable(id));
        loop.DispatchUntil(() => pings == 1, "the ping sent while disabled");
        Assert.True(source.IsEnabled);
    }

    [Fact]
    public void RemoveById_CompletesTheSubscribers_AndTheRowLeavesTheModel()
    {
        using var loop = new EventLoop();
        bool completed = false;
        using var timer = loop.Timer(TimeSpan.FromMinutes(1)).Subscribe(_ => { }, () => completed = true);
        using var model = loop.Diagnostics.Changes.Subscribe(_ => { });
        long id = Assert.Single(loop.Diagnostics.GetSources(), row => row.Kind == SourceKind.Timer).Id;

        Assert.True(loop.Diagnostics.Remove(id));
        loop.Dispatch(TimeSpan.Zero);

        Assert.True(completed, "OnCompleted after Remove");

        Assert.DoesNotContain(loop.Diagnostics.GetSources(), row => row.Id == id);
        Assert.False(loop.Diagnostics.Disable(id));
    }

    [Fact]
    public void ControlById_IdNotInTheModel_ReturnsFalseAndChangesNothing()
    {
        using var loop = new EventLoop();
        var (ping, source) = loop.Ping();
        using var _ = ping;
        using var subscription = source.Subscribe(_ => { });

        // Nobody observes the model: there are no ids to act on.
        Assert.False(loop.Diagnostics.Disable(1));
        using var model = loop.Diagnostics.Changes.Subscribe(_ => { });
        long unknown = loop.Diagnostics.GetSources().Max(row => row.Id) + 1;

        Assert.False(loop.Diagnostics.Disable(unknown));
        Assert.False(loop.Diagnostics.Enable(unknown));
        Assert.False(loop.Diagnostics.Remove(unknown));
        Assert.True(source.IsEnabled);
        Assert.True(source.IsActive);
    }
}
