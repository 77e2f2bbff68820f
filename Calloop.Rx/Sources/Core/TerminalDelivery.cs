namespace Calloop.Rx;

/// <summary>A source's terminal notification owed to some of its subscribers: delivered on the loop thread, or by loop disposal.</summary>
/// <typeparam name="T">The event type.</typeparam>
internal sealed class TerminalDelivery<T>(LoopSource<T> source, SubscriberList<T> subscribers, Exception? error) : OwedCompletion
{
    internal override void Deliver(List<Exception>? errors) => subscribers.DeliverEnd(source, error, errors);
}
