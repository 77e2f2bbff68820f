using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Samples;

/// <summary>
/// The monitor sample as a user sees it: the built samples program in a detached tmux session of a fixed size, driven
/// with <c>send-keys</c> and read with <c>capture-pane</c>. A wait reads the pane again each time the sample writes to
/// it (tmux's <c>pipe-pane</c> copies the output into a pipe of this process), until a condition or a deadline.
/// </summary>
public sealed class MonitorSampleTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(8);

    // A server of its own (tmux -L), so that the test neither sees nor disturbs anyone else's sessions.
    private readonly string _socket = $"calloop-monitor-{Environment.ProcessId}-{Guid.NewGuid():N}";

    // What the sample writes to its pane arrives here; each read sets _paneWritten.
    private readonly AnonymousPipeServerStream _paneOutput = new(PipeDirection.In, HandleInheritability.None);
    private readonly AutoResetEvent _paneWritten = new(false);
    private Thread? _paneReader;

    [Fact]
    public void Monitor_DrivenThroughTmux_ListsUpdatesDisablesAndQuitsRestoringTheTerminal()
    {
        // A shell reports the sample's exit status in the pane: tmux's own #{pane_dead_status} is sometimes still
        // empty seconds after the pane died (the child left unreaped). The pane stays after the exit to be read.
        Tmux("-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "48", "-s", "monitor",
            "sh", "-c", "\"$@\"; echo \"monitor exited with status $?\"", "sh", SamplesHost.DotnetHost(), SamplesHost.SamplesDll, "monitor",
            ";", "set-option", "-t", "monitor", "remain-on-exit", "on");
        FollowPaneOutput();

        // The echo server's three fds (listener, client, accepted connection), both timers, the producer's channel.
        // The status line appears with the second sample, which gives the first rates.
        Table table = WaitForTable(
            t => t.Rows("Fd").Count == 3 && t.Rows("Timer").Count == 2 && t.Rows("Channel").Count == 1 && t.Screen.Contains("iterations/s", StringComparison.Ordinal),
            "every source in the table, and the status line");
        Assert.Single(table.Rows("Diagnostics"));
        Assert.All(table.Rows(null), row => Assert.Equal("Active", row["State"]));
        Assert.Matches(@"iterations/s \d+\.\d .* CPU \d+\.\d %", table.Screen);

        // The figures move: the channel receives a message every 50 ms.
        long events = table.Channel.Number("Events");
        WaitForTable(t => t.Channel.Number("Events") > events, "the channel's events to grow");

        // Select the channel's row (the first row is selected at start) and disable it.
        int index = table.Rows(null).FindIndex(row => row["Kind"] == "Channel");
        Tmux([.. new[] { "send-keys", "-t", "monitor" }, .. Enumerable.Repeat("Down", index), "d"]);

        // Disabled: the row says so, and its messages queue up while its event count stays put.
        Table disabled = WaitForTable(t => t.Channel["State"] == "Disabled" && t.Channel.Number("Queue") >= 2, "the channel disabled, messages queuing");
        Assert.Contains("disabled Channel", disabled.Screen);
        long frozen = disabled.Channel.Number("Events");
        long queued = disabled.Channel.Number("Queue");
        Table later = WaitForTable(t => t.Channel.Number("Queue") >= queued + 4, "more messages queued");
        Assert.Equal(frozen, later.Channel.Number("Events"));

        // Enabled again, it delivers what queued up.
        Tmux("send-keys", "-t", "monitor", "e");
        WaitForTable(t => t.Channel["State"] == "Active" && t.Channel.Number("Events") >= frozen + queued + 4, "the queued messages delivered");

        Tmux("send-keys", "-t", "monitor", "q");
        string screen = WaitFor(
            () => Tmux("capture-pane", "-p", "-S", "-", "-t", "monitor"),
            text => text.Contains("monitor exited with status", StringComparison.Ordinal),
            "the sample to exit");
        Assert.Contains("monitor exited with status 0", screen);

        // Terminal.Gui left the alternate screen: the normal screen is back (with its history: -S -), holding what the
        // sample printed on exit and none of the table.
        Assert.Equal("0", Tmux("display-message", "-p", "-t", "monitor", "#{alternate_on}").Trim());
        Assert.Contains("monitor stopped", screen);
        Assert.DoesNotContain("Calloop.Rx monitor", screen);
    }

    public void Dispose()
    {
        try
        {
            // kill-server leaves the server's socket file behind: remove it too.
            string socketPath = Tmux("display-message", "-p", "#{socket_path}").Trim();
            Tmux("kill-server");
            File.Delete(socketPath);
        }
        catch (Xunit.Sdk.XunitException)
        {
            // The server had already gone (the test failed before starting it, or tmux ended it).
        }

        // With tmux's writer gone and ours closed, the reader sees the end of the pipe and stops.
        _paneOutput.DisposeLocalCopyOfClientHandle();
        _paneReader?.Join(LoopExtensions.Patience);
        _paneOutput.Dispose();
        _paneWritten.Dispose();
    }

    /// <summary>Has tmux copy the pane's output into this process's pipe (through /proc), and wakes the waits on each write.</summary>
    private void FollowPaneOutput()
    {
        int writeEnd = (int)_paneOutput.ClientSafePipeHandle.DangerousGetHandle();
        _paneReader = new Thread(() =>
        {
            byte[] buffer = new byte[4096];
            while (_paneOutput.Read(buffer) > 0)
            {
                _paneWritten.Set();
            }
        })
        { IsBackground = true, Name = "monitor pane output" };
        _paneReader.Start();
        Tmux("pipe-pane", "-O", "-t", "monitor", $"cat >> /proc/{Environment.ProcessId}/fd/{writeEnd}");
    }

    private Table WaitForTable(Func<Table, bool> condition, string what) =>
        WaitFor(() => new Table(Tmux("capture-pane", "-p", "-t", "monitor")), table => table.IsComplete && condition(table), what);

    private T WaitFor<T>(Func<T> read, Func<T, bool> condition, string what)
    {
        var started = Stopwatch.StartNew();
        T value = read();
        while (!condition(value))
        {
            // The pane changes only when the sample writes to it: read it again after the next write.
            TimeSpan left = s_deadline - started.Elapsed;
            Assert.True(left > TimeSpan.Zero && _paneWritten.WaitOne(left), $"timed out waiting for {what}; last seen:{Environment.NewLine}{value}");
            value = read();
        }

        return value;
    }

    private string Tmux(params string[] arguments)
    {
        var start = new ProcessStartInfo("tmux", ["-L", _socket, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using Process tmux = Process.Start(start) ?? throw new InvalidOperationException("could not start tmux");
        Task<string> output = tmux.StandardOutput.ReadToEndAsync();
        Task<string> errors = tmux.StandardError.ReadToEndAsync();
        Assert.True(tmux.WaitForExit(LoopExtensions.Patience), $"tmux {string.Join(' ', arguments)} did not return");
        Assert.True(tmux.ExitCode == 0, $"tmux {string.Join(' ', arguments)} exited {tmux.ExitCode}: {errors.Result}");
        return output.Result;
    }

    /// <summary>The monitor's table as captured: the header's columns and one dictionary per row, keyed by column.</summary>
    private sealed class Table
    {
        private readonly List<Dictionary<string, string>> _rows = [];

        public Table(string screen)
        {
            Screen = screen;
            string[] lines = screen.Split('\n');
            int header = Array.FindIndex(lines, line => line.Contains("│Id│Kind", StringComparison.Ordinal));
            if (header < 0)
            {
                return;
            }

            string[] columns = Cells(lines[header]);
            foreach (string line in lines.Skip(header + 1))
            {
                string[] cells = Cells(line);
                if (cells.Length == columns.Length && long.TryParse(cells[0], NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    _rows.Add(columns.Zip(cells).ToDictionary(pair => pair.First, pair => pair.Second));
                }
            }

            IsComplete = _rows.Count > 0;
        }

        public string Screen { get; }

        public bool IsComplete { get; }

        public Row Channel => Rows("Channel").Single();

        public List<Row> Rows(string? kind) => [.. _rows.Where(row => kind is null || row["Kind"] == kind).Select(row => new Row(row))];

        public override string ToString() => Screen;

        // A row is drawn as ││cell│cell│...│cell││ inside the window's border.
        private static string[] Cells(string line) => [.. line.Trim().Trim('│').Split('│').Select(cell => cell.Trim())];
    }

    private sealed record Row(Dictionary<string, string> Cells)
    {
        public string this[string column] => Cells[column];

        public long Number(string column) => long.Parse(Cells[column], NumberStyles.None, CultureInfo.InvariantCulture);
    }
}
