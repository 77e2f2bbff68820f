using System.Diagnostics;
using Calloop.Rx.Benchmarks.Interop;

namespace Calloop.Rx.Benchmarks.Anchors;

/// <summary>
/// The fd workloads with no loop at all: epoll, write and read called straight through Tmds.LibC's P/Invokes, as the
/// C anchor calls them. It shows what a .NET program pays for those system calls before any event loop, so that the
/// loop's own share of <c>fds-K</c> can be told apart from the runtime's (GC transitions, errno marshalling).
/// </summary>
internal static class RawEpollWorkloads
{
    public const string Impl = "dotnet-epoll";

    public static void Fds(string workload, int pipes, long n)
    {
        int epoll = BenchSys.EpollCreate();
        var fds = new (int Read, int Write)[pipes];
        for (int p = 0; p < pipes; p++)
        {
            fds[p] = BenchSys.Pipe();
            BenchSys.EpollAddRead(epoll, fds[p].Read, (ulong)p);
        }

        using var events = new BenchSys.EpollEvents(64);
        long reads = 0;
        int write0 = fds[0].Write;
        long start = Stopwatch.GetTimestamp();
        for (long k = 0; k < n; k++)
        {
            BenchSys.WriteByte(write0);
            int count = events.Poll(epoll);
            for (int i = 0; i < count; i++)
            {
                reads += BenchSys.ReadByte(fds[events.Data(i)].Read);
            }
        }

        long end = Stopwatch.GetTimestamp();
        LoopWorkloads.Check(reads == n, "fd reads");
        foreach (var (read, write) in fds)
        {
            BenchSys.Close(read);
            BenchSys.Close(write);
        }

        BenchSys.Close(epoll);
        Result.Print(Impl, workload, n, LoopWorkloads.Seconds(start, end), ("ns_iter", Stopwatch.GetElapsedTime(start, end).TotalNanoseconds / n));
    }
}
