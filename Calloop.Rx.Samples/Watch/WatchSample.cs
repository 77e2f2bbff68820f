using System.Reactive.Concurrency;

namespace Calloop.Rx.Samples;

/// <summary>
/// Watches a directory tree (or a file) and prints each change as the loop delivers it; Ctrl-C ends it. With
/// <c>--self-test</c> it watches a temporary directory of its own, makes a few changes there, and ends once it has
/// seen the last one.
/// </summary>
public static class WatchSample
{
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        bool selfTest = args.Contains("--self-test");
        string[] paths = [.. args.Where(a => a != "--self-test")];
        if (selfTest == (paths.Length == 1))
        {
            output.WriteLine("Usage: watch <path> | watch --self-test");
            return 2;
        }

        string root = selfTest ? Directory.CreateTempSubdirectory("calloop-watch-sample-").FullName : paths[0];
        try
        {
            return Watch(root, selfTest, output);
        }
        finally
        {
            if (selfTest)
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static int Watch(string root, bool selfTest, TextWriter output)
    {
        using var loop = new EventLoop();
        int exitCode = 0;
        FileWatchSource changes = loop.Watch(root, new FileWatchOptions { Recursive = true, CoalesceWindow = TimeSpan.FromMilliseconds(100) });
        using IDisposable subscription = changes.Subscribe(
            change =>
            {
                string count = change.Count > 1 ? $" ({change.Count}x)" : string.Empty;
                string from = change.OldPath is null ? string.Empty : $"{change.OldPath} -> ";
                output.WriteLine($"{change.Kind,-17} {from}{change.Path}{(change.IsDirectory ? "/" : string.Empty)}{count}");
                if (selfTest && change.Kind == FileSystemEventKind.Created && change.IsDirectory)
                {
                    // The new directory is watched by now: what happens inside it is seen.
                    ChangeFilesIn(change.Path);
                }
                else if (selfTest && change.Kind == FileSystemEventKind.Deleted)
                {
                    loop.Stop();
                }
            },
            error =>
            {
                output.WriteLine($"Cannot watch: {error.Message}");
                exitCode = 1;
                loop.Stop();
            },
            loop.Stop);

        output.WriteLine($"Watching {changes.Path} and everything below it; Ctrl-C ends it.");
        if (selfTest)
        {
            // Scheduled work runs in the first dispatch, after the watch is in place.
            loop.Scheduler.Schedule(() => Directory.CreateDirectory(Path.Join(root, "sub")));
        }

        loop.Run();
        return exitCode;
    }

    private static void ChangeFilesIn(string directory)
    {
        string file = Path.Join(directory, "file.txt");
        string renamed = Path.Join(directory, "renamed.txt");
        File.WriteAllText(file, "hello");
        File.AppendAllText(file, ", world");
        File.Move(file, renamed);
        File.Delete(renamed);
    }
}
