using System.Diagnostics;
using Calloop.Rx.Tests.Infrastructure;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// A peer in another process: the samples program's <c>zeromq-peer</c> mode (a REP echo on its own loop), run
/// with <c>dotnet Calloop.Rx.Samples.dll</c>. The test project references the samples project so the dll is built
/// and copied next to the test assembly.
/// </summary>
public class ZmqCrossProcessTests
{
    private const int Requests = 100;

    [Theory]
    [InlineData(ZmqTestBed.Ipc)]
    [InlineData(ZmqTestBed.Tcp)]
    public void PeerProcess_LoopSendsRequests_EchoesThem(string transport)
    {
        using var bed = new ZmqTestBed();
        var req = bed.Socket(ZmqSocketType.Req);
        string endpoint = bed.Bind(req, transport);
        ZmqSender? ask = null;
        var (sender, _, replies) = bed.Start(req, reply =>
        {
            if (reply.Length == 1)
            {
                return;
            }

            int n = reply.Int(0);
            if (n + 1 < Requests)
            {
                ask!.Send(Frames.Int(n + 1), Frames.Of("payload")[0]);
            }
            else
            {
                ask!.Send(Frames.Of("quit"));
            }
        });
        ask = sender;

        // Queued before the peer exists: a REQ with no peer is not writable, the outbox waits for it.
        ask.Send(Frames.Int(0), Frames.Of("payload")[0]);
        using var peer = StartPeer(endpoint);
        try
        {
            bed.Loop.DispatchUntil(() => replies.Values.Count == Requests + 1 || peer.HasExited, "the peer's echoes and goodbye");
            Assert.True(peer.WaitForExit(LoopExtensions.Patience), "the peer process did not exit");
            string output = peer.StandardOutput.ReadToEnd();
            Assert.True(peer.ExitCode == 0, $"peer exit code {peer.ExitCode}: {output} {peer.StandardError.ReadToEnd()}");
            Assert.Equal(Enumerable.Range(0, Requests), replies.Values.Take(Requests).Select(m => m.Int(0)));
            Assert.All(replies.Values.Take(Requests), m => Assert.Equal("payload", m.Text(1)));
            Assert.Equal("bye", replies.Values[Requests].Text());
            Assert.Contains($"peer: served {Requests + 1}", output);
        }
        finally
        {
            if (!peer.HasExited)
            {
                peer.Kill(entireProcessTree: true);
            }
        }

        replies.AssertClean();
    }

    private static Process StartPeer(string endpoint)
    {
        var start = new ProcessStartInfo(SamplesHost.DotnetHost(), [SamplesHost.SamplesDll, "zeromq-peer", endpoint])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the peer process");
    }
}
