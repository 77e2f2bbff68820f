namespace Calloop.Rx.Diagnostics;

/// <summary>A source that holds a queue of values waiting for delivery (a channel), for the statistics.</summary>
internal interface IQueuedSource
{
    /// <summary>How many values wait now; read on the loop thread, approximate while producers send.</summary>
    int QueueDepth { get; }
}
