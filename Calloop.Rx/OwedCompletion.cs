using Calloop.Rx.Scheduling;

namespace Calloop.Rx;

/// <summary>
/// A source's terminal notification owed to its subscribers (a <c>Remove</c> from another thread, a late subscriber of
/// an ended source, loop disposal). Normally it runs on the loop thread in the actions phase; loop disposal delivers
/// the ones still queued, so that every subscriber hears how its source ended.
/// </summary>
internal abstract class OwedCompletion : WorkItem
{
    internal sealed override void Invoke() => Deliver(null);

    /// <summary>Delivers the notification; observer exceptions go to <paramref name="errors"/> (null: recorded as dispatch failures).</summary>
    internal abstract void Deliver(List<Exception>? errors);
}
