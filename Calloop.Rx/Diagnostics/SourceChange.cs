namespace Calloop.Rx.Diagnostics;

/// <summary>One change to the live model: why, and the source's row after it (its last row for <see cref="SourceChangeReason.Removed"/>).</summary>
/// <param name="Reason">Why the row changed.</param>
/// <param name="Source">The row after the change.</param>
public readonly record struct SourceChange(SourceChangeReason Reason, SourceInfo Source);
