namespace Calloop.Rx.Tests.Stress;

/// <summary>Which source of the model loop an operation acts on.</summary>
public enum ModelTarget
{
    /// <summary>The unbounded channel.</summary>
    Channel,

    /// <summary>The bounded channel (capacity <see cref="LoopModel.BoundedCapacity"/>).</summary>
    Bounded,

    /// <summary>The ping.</summary>
    Ping,

    /// <summary>One of the timers inserted so far, picked by index among the live ones.</summary>
    Timer,
}
