using Calloop.Rx.Samples.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>The <c>zeromq</c> sample runs to its end by itself and tells what happened.</summary>
public class ZeroMqSampleTests
{
    [Fact]
    public void Sample_ReqRepAndPubSubOnOneLoop_RunsAndEnds()
    {
        var output = new StringWriter();

        int exitCode = ZeroMqSample.Run([], output);

        string text = output.ToString();
        Assert.True(exitCode == 0, text);
        Assert.Contains("client: reply \"HELLO 1\"", text);
        Assert.Contains("client: reply \"HELLO 3\"", text);
        Assert.Contains("subscriber: [weather] bulletin 3", text);
        Assert.DoesNotContain("[sports]", text);
        Assert.EndsWith("done: 3 replies, 3 bulletins, no sports" + Environment.NewLine, text);
    }

    [Fact]
    public void Peer_BadArguments_AreRejected()
    {
        var output = new StringWriter();

        Assert.Equal(2, ZeroMqPeer.Run([], output));
        Assert.Contains("usage", output.ToString());
    }
}
