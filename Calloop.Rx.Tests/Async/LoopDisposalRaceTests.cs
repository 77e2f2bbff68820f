using System.Collections.Concurrent;
using System.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Async;

/// <summary>
/// Work handed to the loop from other threads (<c>Post</c>, <c>Send</c>, <see cref="EventLoop.TimeProvider"/>
/// timers) while a third thread disposes the loop that runs on its own thread: nothing throws into the handing
/// thread but what is documented, nothing hangs, and what runs, runs once, on the loop thread.
/// </summary>
public class LoopDisposalRaceTests
{
    private const int MaxRounds = 300;
    private static readonly TimeSpan RaceBudget = TimeSpan.FromSeconds(1);
    private static readonly AsyncLocal<int> Local = new();

    [Fact]
    public void Post_racing_loop_Dispose_never_throws_and_runs_each_callback_at_most_once_on_the_loop_thread_in_the_posters_context()
    {
        const int posters = 2;
        const int posts = 100;
        Race(posters, (loop, index) =>
        {
            var runs = new int[posts];
            var wrong = new ConcurrentQueue<string>();
            return (
                () =>
                {
                    Local.Value = index + 1;
                    for (int i = 0; i < posts; i++)
                    {
                        loop.SynchronizationContext.Post(
                            s =>
                            {
                                int n = (int)s!;
                                Interlocked.Increment(ref runs[n]);
                                if (!loop.OnLoopThread || Local.Value != index + 1)
                                {
                                    wrong.Enqueue($"callback {n} of poster {index} ran on the wrong thread or with AsyncLocal {Local.Value}");
                                }
                            },
                            i);
                    }
                },
                () =>
                {
                    Assert.Empty(wrong);
                    Assert.All(runs, count => Assert.InRange(count, 0, 1));
                });
        });
    }

    [Fact]
    public void Send_racing_loop_Dispose_either_runs_the_callback_or_throws_ObjectDisposedException_and_never_hangs()
    {
        Race(2, (loop, _) =>
        {
            int runs = 0;
            Exception? error = null;
            bool wrongThread = false;
            return (
                () =>
                {
                    try
                    {
                        loop.SynchronizationContext.Send(
                            _ =>
                            {
                                runs++;
                                wrongThread = !loop.OnLoopThread;
                            },
                            null);
                    }
                    catch (Exception e)
                    {
                        error = e;
                    }
                },
                () =>
                {
                    Assert.False(wrongThread);
                    if (runs == 0)
                    {
                        Assert.IsType<ObjectDisposedException>(error);
                    }
                    else
                    {
                        Assert.Equal(1, runs);
                        Assert.Null(error);
                    }
                });
        });
    }

    [Fact]
    public void Timers_racing_loop_Dispose_are_refused_with_ObjectDisposedException_or_armed_and_fire_only_on_the_loop_thread()
    {
        Race(2, (loop, _) =>
        {
            var timers = new List<ITimer>();
            Exception? refused = null;
            bool wrongThread = false;
            return (
                () =>
                {
                    try
                    {
                        for (int i = 0; i < 50; i++)
                        {
                            ITimer timer = loop.TimeProvider.CreateTimer(_ => wrongThread |= !loop.OnLoopThread, null, TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
                            timers.Add(timer);
                            if (i % 2 == 0)
                            {
                                timer.Change(TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
                            }
                            else
                            {
                                timer.Dispose();
                            }
                        }
                    }
                    catch (Exception e)
                    {
                        refused = e;
                    }
                },
                () =>
                {
                    Assert.False(wrongThread);
                    if (refused is not null)
                    {
                        Assert.IsType<ObjectDisposedException>(refused);
                    }

                    // The loop is gone: no timer can be re-armed, and disposing one is still fine.
                    Assert.All(timers, timer => Assert.False(timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan)));
                    Assert.All(timers, timer => timer.Dispose());
                });
        });
    }

    /// <summary>
    /// Rounds of: a loop running on its own thread, <paramref name="workers"/> threads doing what
    /// <paramref name="makeWorker"/> returns while this thread disposes the loop; once the workers and the loop
    /// thread have ended (each within the test's patience), each worker's check runs.
    /// </summary>
    private static void Race(int workers, Func<EventLoop, int, (Action Work, Action Check)> makeWorker)
    {
        var elapsed = Stopwatch.StartNew();
        for (int round = 0; round < MaxRounds && elapsed.Elapsed < RaceBudget; round++)
        {
            var loop = new EventLoop();
            var runner = new Thread(() => RunUntilDisposed(loop));
            runner.Start();
            using var start = new Barrier(workers + 1);
            var checks = new List<Action>();
            var threads = new List<Thread>();
            for (int i = 0; i < workers; i++)
            {
                (Action work, Action check) = makeWorker(loop, i);
                checks.Add(check);
                var thread = new Thread(() =>
                {
                    start.SignalAndWait();
                    work();
                });
                thread.Start();
                threads.Add(thread);
            }

            start.SignalAndWait();
            loop.Dispose();

            Assert.All(threads, thread => Assert.True(thread.Join(LoopExtensions.Patience), $"a worker hung in round {round}"));
            Assert.True(runner.Join(LoopExtensions.Patience), $"the loop thread did not end in round {round}");
            Assert.True(loop.IsDisposed);
            checks.ForEach(check => check());
        }
    }

    private static void RunUntilDisposed(EventLoop loop)
    {
        try
        {
            loop.Run();
        }
        catch (ObjectDisposedException)
        {
            // Disposed before Run started: nothing to run.
        }
    }
}
