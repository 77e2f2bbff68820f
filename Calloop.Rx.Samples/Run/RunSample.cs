using System.Reactive.Linq;

namespace Calloop.Rx.Samples;

/// <summary>
/// Starts a command as a child of the loop and prints its output lines and then its exit status, composed with Rx
/// operators: stdout and stderr lines merged as they come, the exit concatenated after both have ended.
/// </summary>
public static class RunSample
{
    /// <summary>Runs <c>run &lt;program&gt; [arguments]</c>.</summary>
    /// <returns>The child's exit code, 128 + the signal that ended it, 1 if it could not be started, 2 for no command.</returns>
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        if (args.Length == 0)
        {
            output.WriteLine("Usage: run <program> [arguments]   (for example: run sh -c 'echo hi; echo oops >&2; exit 3')");
            return 2;
        }

        using var loop = new EventLoop();
        ChildProcess child;
        try
        {
            child = loop.StartProcess(args[0], args[1..]);
        }
        catch (LoopException e)
        {
            output.WriteLine($"Cannot start: {e.Message}");
            return 1;
        }

        using (child)
        {
            int exitCode = 0;
            IObservable<string> lines = Observable.Merge(
                child.StandardOutput.Lines().Select((line, number) => $"out {number + 1,4} | {line}"),
                child.StandardError.Lines().Select((line, number) => $"err {number + 1,4} | {line}"));

            // The exit is held by the kernel until someone subscribes, so subscribing after the output has ended loses nothing.
            IObservable<string> status = child.Exited.Select(exit =>
            {
                exitCode = exit.ExitCode ?? 128 + exit.Signal ?? 1;
                return exit.Signal is { } signal ? $"[{exit.Pid}] killed by signal {signal}" : $"[{exit.Pid}] exited with code {exit.ExitCode}";
            });

            output.WriteLine($"[{child.Pid}] started {string.Join(' ', args)}");
            using IDisposable subscription = lines.Concat(status).Subscribe(output.WriteLine, loop.Stop);
            loop.Run();
            return exitCode;
        }
    }
}
