using System.Collections.Concurrent;
using System.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;

namespace Calloop.Rx.Tests.Async;

/// <summary>
/// Work handed to the loop from other threads (<c>Post</c>, <c>Send</c>, <see cref="EventLoop.TimeProvider"/>
/// timers) while this thread disposes the loop, which runs on a thread of its own: the workers keep handing work over
/// until they see the disposal, so every round has work that ran and work that met the disposal. Nothing throws into
/// a worker but what is documented, nothing hangs, and what runs, runs once, on the loop thread.
/// </summary>
public class LoopDisposalRaceTests
{
    private const int MaxRounds = 200;
    private const int MaxTimers = 5000;
    private static readonly TimeSpan s_raceBudget = TimeSpan.FromSeconds(1);
    private static readonly AsyncLocal<int> s_local = new();

    [Fact]
    public void Post_RacingLoopDispose_NeverThrowsAndRunsAtMostOnceOnTheLoopThread()
    {
        Race((loop, index, progressed) =>
        {
            var runs = new ConcurrentDictionary<int, int>();
            var wrong = new ConcurrentQueue<string>();
            return (
                () =>
                {
                    s_local.Value = index + 1;

                    // Posts go on a little after the disposal is visible (those must be dropped silently), within a
                    // bound that keeps a slow disposal from flooding the queue.
                    int after = 0;
                    for (int i = 0; after < 10 && i < 10_000; i++)
                    {
                        after += loop.IsDisposed ? 1 : 0;
                        loop.SynchronizationContext.Post(
                            s =>
                            {
                                runs.AddOrUpdate((int)s!, 1, (_, count) => count + 1);
                                if (!loop.IsOnLoopThread || s_local.Value != index + 1)
                                {
                                    wrong.Enqueue($"a callback of poster {index} ran on another thread or with AsyncLocal {s_local.Value}");
                                }

                                progressed.Set();
                            },
                            i);
                    }
                },
                () =>
                {
                    Assert.Empty(wrong);
                    Assert.All(runs.Values, count => Assert.Equal(1, count));
                });
        });
    }

    [Fact]
    public void Send_RacingLoopDispose_RunsOrThrowsObjectDisposedAndNeverHangs()
    {
        Race((loop, _, progressed) =>
        {
            int runs = 0;
            int returned = 0;
            Exception? error = null;
            bool wrongThread = false;
            return (
                () =>
                {
                    try
                    {
                        while (true)
                        {
                            loop.SynchronizationContext.Send(
                                _ =>
                                {
                                    runs++;
                                    wrongThread |= !loop.IsOnLoopThread;
                                    progressed.Set();
                                },
                                null);
                            returned++;
                        }
                    }
                    catch (Exception e)
                    {
                        error = e;
                    }
                },
                () =>
                {
                    Assert.False(wrongThread);
                    Assert.IsType<ObjectDisposedException>(error);

                    // A send either ran and returned, or did not run and threw.
                    Assert.Equal(returned, runs);
                });
        });
    }

    [Fact]
    public void CreateTimer_RacingLoopDispose_RefusedOrFiresOnlyOnTheLoopThread()
    {
        Race((loop, _, progressed) =>
        {
            var timers = new List<ITimer>();
            Exception? refused = null;
            bool wrongThread = false;
            return (
                () =>
                {
                    try
                    {
                        for (int i = 0; i < MaxTimers; i++)
                        {
                            ITimer timer = loop.TimeProvider.CreateTimer(
                                _ =>
                                {
                                    wrongThread |= !loop.IsOnLoopThread;
                                    progressed.Set();
                                },
                                null,
                                TimeSpan.Zero,
                                TimeSpan.FromMilliseconds(1));
                            timers.Add(timer);

                            // Re-arming and disposing race the disposal too: neither may throw.
                            if (i % 2 == 0)
                            {
                                timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
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
                    if (refused is not null || timers.Count < MaxTimers)
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
    /// Rounds of: a loop running on its own thread and two workers doing what <paramref name="makeWorker"/> returns;
    /// once the loop has run something of theirs (the workers' callbacks set the event they are given), this thread
    /// disposes the loop. When the workers and the loop thread have ended (each within the test's patience), each
    /// worker's check runs.
    /// </summary>
    private static void Race(Func<EventLoop, int, ManualResetEventSlim, (Action Work, Action Check)> makeWorker)
    {
        const int Workers = 2;
        var elapsed = Stopwatch.StartNew();
        for (int round = 0; round < MaxRounds && elapsed.Elapsed < s_raceBudget; round++)
        {
            var loop = new EventLoop();
            using var progressed = new ManualResetEventSlim();
            var runner = new Thread(() => loop.Run());
            runner.Start();
            var checks = new List<Action>();
            var threads = new List<Thread>();
            for (int i = 0; i < Workers; i++)
            {
                (Action work, Action check) = makeWorker(loop, i, progressed);
                checks.Add(check);
                threads.Add(new Thread(() => work()));
            }

            threads.ForEach(thread => thread.Start());
            Assert.True(progressed.Wait(LoopExtensions.Patience), $"the loop ran nothing of the Workers in round {round}");
            loop.Dispose();

            Assert.All(threads, thread => Assert.True(thread.Join(LoopExtensions.Patience), $"a worker hung in round {round}"));
            Assert.True(runner.Join(LoopExtensions.Patience), $"the loop thread did not end in round {round}");
            checks.ForEach(check => check());
        }
    }
}
