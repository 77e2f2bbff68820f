using System.Reactive.Linq;

namespace Calloop.Rx.Samples;

/// <summary>
/// Producer threads feeding the loop through channels: three threads share an unbounded <c>Channel</c> (one cloned
/// sender each) and one thread fills a bounded <c>BoundedChannel</c>, blocking whenever the loop is behind. The loop
/// prints what arrives through Rx operators and stops once every sender is disposed and both channels have completed.
/// </summary>
public static class ChannelSample
{
    private const int Producers = 3;
    private const int ReadingsPerProducer = 10;
    private const int Jobs = 12;

    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var loop = new EventLoop();
        var (sender, readings) = loop.Channel<Reading>();
        var (jobSender, jobs) = loop.BoundedChannel<int>(capacity: 4);

        // Operators run where the notifications arrive: on the loop thread, so the state in Scan needs no lock.
        IObservable<string> readingLines = readings
            .Scan(Tally.Empty, (tally, reading) => tally.Add(reading))
            .Select(tally => $"{tally.Last}: {tally.Count} received, running total {tally.Total}");
        IObservable<string> jobLines = jobs
            .Buffer(4)
            .Select(batch => $"jobs [{string.Join(", ", batch)}]");

        // Merge completes when both channels have completed, that is when every sender of each is disposed. The
        // Timeout on the loop's scheduler is a watchdog: 10 s without a message makes the sample fail, not hang.
        bool completed = false;
        using IDisposable subscription = readingLines
            .Merge(jobLines)
            .Timeout(TimeSpan.FromSeconds(10), loop.Scheduler)
            .Subscribe(
                output.WriteLine,
                error =>
                {
                    output.WriteLine($"channel sample failed: {error.Message}");
                    loop.Stop();
                },
                () =>
                {
                    output.WriteLine("every sender is disposed: both channels completed");
                    completed = true;
                    loop.Stop();
                });

        var threads = new List<Thread>();
        for (int p = 1; p <= Producers; p++)
        {
            // Each thread owns its clone; the channel completes when the last clone and the original are disposed.
            threads.Add(StartThread(Produce(p, sender.Clone())));
        }

        sender.Dispose();
        threads.Add(StartThread(() => ProduceJobs(jobSender)));

        loop.Run();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        return completed ? 0 : 1;
    }

    private static Action Produce(int producer, Sender<Reading> sender) => () =>
    {
        using (sender)
        {
            for (int value = 1; value <= ReadingsPerProducer; value++)
            {
                sender.Send(new Reading(producer, value));
            }
        }
    };

    private static void ProduceJobs(BoundedSender<int> sender)
    {
        using (sender)
        {
            for (int job = 1; job <= Jobs; job++)
            {
                // Blocks while 4 jobs wait in the channel: the loop's pace limits this producer (backpressure).
                sender.Send(job);
            }
        }
    }

    private static Thread StartThread(Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true };
        thread.Start();
        return thread;
    }

    private readonly record struct Reading(int Producer, int Value)
    {
        public override string ToString() => $"producer {Producer} sent {Value}";
    }

    private readonly record struct Tally(int Count, long Total, Reading Last)
    {
        public static Tally Empty => default;

        public Tally Add(Reading reading) => new(Count + 1, Total + reading.Value, reading);
    }
}
