using System.Diagnostics;
using System.Globalization;
using System.Reactive.Linq;
using Calloop.Rx.Diagnostics;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;

namespace Calloop.Rx.Samples.Monitor;

/// <summary>
/// The monitor's window: the table of a loop's sources and their figures, a status line (iterations per second, the
/// loop's busy share and the process's CPU) and keys to disable, enable and remove the selected source. Everything
/// here runs on Terminal.Gui's thread: the loop's notifications are posted to it through the UI synchronization context it is given.
/// </summary>
internal sealed class MonitorWindow : Window
{
    /// <summary>How often the loop's figures are sampled.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(500);

    private readonly EventLoop _loop;
    private readonly ObservableSourceCollection _sources;
    private readonly SourceTable _table;
    private readonly TableView _tableView;
    private readonly Label _status;
    private readonly Label _message;
    private readonly IDisposable _sampling;
    private LoopStatistics? _previous;
    private TimeSpan _previousCpu = Environment.CpuUsage.TotalTime;
    private long _previousWall = Stopwatch.GetTimestamp();

    public MonitorWindow(EventLoop loop, SynchronizationContext ui)
    {
        _loop = loop;
        Title = "Calloop.Rx monitor (d disable, e enable, r remove, q quit)";
        _sources = new ObservableSourceCollection(loop.Diagnostics.Changes, ui);
        _table = new SourceTable(_sources);
        _tableView = new TableView(_table) { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(2), FullRowSelect = true };
        _status = new Label { X = 0, Y = Pos.AnchorEnd(2), Width = Dim.Fill(), Text = "waiting for the first sample" };
        _message = new Label { X = 0, Y = Pos.AnchorEnd(1), Width = Dim.Fill(), Text = "" };
        Add(_tableView, _status, _message);

        ((System.Collections.Specialized.INotifyCollectionChanged)_sources).CollectionChanged += (_, _) => _tableView.Update();
        _sampling = loop.Diagnostics.Sample(SampleInterval).ObserveOn(ui).Subscribe(OnSample);

        // The table's own key handling would take letters to jump between rows: the monitor's keys come first.
        _tableView.KeyDown += (_, key) => key.Handled = OnKey(key);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sampling.Dispose();
            _sources.Dispose();
        }

        base.Dispose(disposing);
    }

    private void OnSample(LoopStatistics sample)
    {
        _table.Update(sample, _previous);
        long wall = Stopwatch.GetTimestamp();
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        if (_previous is { } previous && sample.At > previous.At)
        {
            double seconds = (sample.At - previous.At).TotalSeconds;
            TimeSpan busy = sample.WorkTime - previous.WorkTime;
            TimeSpan all = busy + sample.WaitTime - previous.WaitTime;
            double cpuShare = (cpu - _previousCpu) / Stopwatch.GetElapsedTime(_previousWall, wall);
            _status.Text = string.Create(
                CultureInfo.InvariantCulture,
                $"iterations/s {(sample.Iterations - previous.Iterations) / seconds:0.0}  events/iteration {sample.EventsPerIteration:0.00}  loop busy {(all > TimeSpan.Zero ? busy / all : 0):P1}  CPU {cpuShare:P1}  timers {sample.LiveTimers}  sources {_sources.Count}  iterations {sample.Iterations}");
        }

        _previous = sample;
        _previousCpu = cpu;
        _previousWall = wall;
        _tableView.Update();
    }

    private bool OnKey(Key key)
    {
        if (key == Key.Q)
        {
            App?.RequestStop();
            return true;
        }

        (Func<long, bool> Act, string Done)? command = key == Key.D ? (_loop.Diagnostics.Disable, "disabled")
            : key == Key.E ? (_loop.Diagnostics.Enable, "enabled")
            : key == Key.R || key == Key.Delete ? (_loop.Diagnostics.Remove, "removed")
            : null;
        if (command is not { } chosen)
        {
            return false;
        }

        SourceInfo? source = _tableView.Value is { } selection ? _table.SourceAt(selection.SelectedCell.Y) : null;
        _message.Text = source switch
        {
            null => "no source selected",

            // Pausing or ending the model's own feed would freeze this table.
            { Kind: SourceKind.Diagnostics } => "the monitor's own feed cannot be changed from the monitor",
            _ => Run(chosen.Act, chosen.Done, source),
        };
        return true;
    }

    private static string Run(Func<long, bool> act, string done, SourceInfo source)
    {
        try
        {
            return act(source.Id) ? $"{done} {source.Name} (id {source.Id})" : $"{source.Name} (id {source.Id}) has left the loop";
        }
        catch (InvalidOperationException e)
        {
            // The source ended between the last change set and the key press.
            return e.Message;
        }
        catch (LoopException e)
        {
            // Enable re-registers, and the kernel may refuse (the fd was closed meanwhile).
            return e.Message;
        }
    }
}
