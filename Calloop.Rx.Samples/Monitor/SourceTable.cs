using System.Globalization;
using Calloop.Rx.Diagnostics;
using Terminal.Gui.Views;

namespace Calloop.Rx.Samples.Monitor;

/// <summary>
/// The monitor's table: one row per source of the live model (in the order they joined), joined by id with the
/// latest statistics sample, the events per second computed from the two latest samples. Used on the UI thread only.
/// </summary>
internal sealed class SourceTable(IReadOnlyList<SourceInfo> sources) : ITableSource
{
    private static readonly string[] s_columns =
        ["Id", "Kind", "Name", "State", "Subs", "Events", "Events/s", "Callbacks", "Mean µs", "Max µs", "Queue", "Coalesced", "Last event"];

    private Dictionary<long, SourceStatistics> _statistics = [];
    private Dictionary<long, double> _rates = [];

    /// <inheritdoc/>
    public string[] ColumnNames => s_columns;

    /// <inheritdoc/>
    public int Columns => s_columns.Length;

    /// <inheritdoc/>
    public int Rows => sources.Count;

    /// <inheritdoc/>
    public object this[int row, int col] => Cell(sources[row], col);

    /// <summary>The source shown in <paramref name="row"/>, or null when there is no such row.</summary>
    public SourceInfo? SourceAt(int row) => row >= 0 && row < sources.Count ? sources[row] : null;

    /// <summary>Takes a new sample; <paramref name="previous"/> (the one before) gives the rates.</summary>
    public void Update(LoopStatistics sample, LoopStatistics? previous)
    {
        var statistics = sample.Sources.ToDictionary(row => row.Id);
        var rates = new Dictionary<long, double>();
        double seconds = previous is null ? 0 : (sample.At - previous.At).TotalSeconds;
        if (seconds > 0)
        {
            foreach (SourceStatistics before in previous!.Sources)
            {
                if (statistics.TryGetValue(before.Id, out SourceStatistics? now))
                {
                    rates[before.Id] = (now.EventsDelivered - before.EventsDelivered) / seconds;
                }
            }
        }

        _statistics = statistics;
        _rates = rates;
    }

    private string Cell(SourceInfo source, int column)
    {
        SourceStatistics? figures = _statistics.GetValueOrDefault(source.Id);
        return column switch
        {
            0 => Format(source.Id),
            1 => source.Kind.ToString(),
            2 => source.Name,
            3 => source.State.ToString(),
            4 => Format(source.SubscriberCount),
            5 => figures is null ? "" : Format(figures.EventsDelivered),
            6 => _rates.TryGetValue(source.Id, out double rate) ? rate.ToString("0.0", CultureInfo.InvariantCulture) : "",
            7 => figures is null ? "" : Format(figures.CallbackCount),
            8 => figures is null ? "" : Format((long)figures.CallbackMean.TotalMicroseconds),
            9 => figures is null ? "" : Format((long)figures.CallbackMax.TotalMicroseconds),
            10 => figures is null ? "" : Format(figures.QueueDepth),
            11 => figures is null ? "" : Format(figures.PingsCoalesced),
            _ => figures?.LastEventAt?.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) ?? "",
        };
    }

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
