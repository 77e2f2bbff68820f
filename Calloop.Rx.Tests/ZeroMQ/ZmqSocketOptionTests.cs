using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Tests.ZeroMQ;

/// <summary>
/// The named <see cref="ZmqSocketOption"/> members carry zmq.h's numbers: libzmq accepts each on a socket of a type
/// that supports it, and gives back what was set for the readable ones. A wrong number is refused (EINVAL) or reads
/// back something else.
/// </summary>
public class ZmqSocketOptionTests
{
    private const int EINVAL = 22;

    public static TheoryData<ZmqSocketOption, ZmqSocketType, int> Readable => new()
    {
        { ZmqSocketOption.SendBuffer, ZmqSocketType.Dealer, 65536 },
        { ZmqSocketOption.ReceiveBuffer, ZmqSocketType.Dealer, 65536 },
        { ZmqSocketOption.Backlog, ZmqSocketType.Dealer, 17 },
        { ZmqSocketOption.ReconnectInterval, ZmqSocketType.Dealer, 123 },
        { ZmqSocketOption.ReconnectIntervalMax, ZmqSocketType.Dealer, 4567 },
        { ZmqSocketOption.TcpKeepalive, ZmqSocketType.Dealer, 1 },
        { ZmqSocketOption.TcpKeepaliveCount, ZmqSocketType.Dealer, 5 },
        { ZmqSocketOption.TcpKeepaliveIdle, ZmqSocketType.Dealer, 60 },
        { ZmqSocketOption.TcpKeepaliveInterval, ZmqSocketType.Dealer, 7 },
        { ZmqSocketOption.Immediate, ZmqSocketType.Dealer, 1 },
        { ZmqSocketOption.IPv6, ZmqSocketType.Dealer, 1 },
        { ZmqSocketOption.HandshakeInterval, ZmqSocketType.Dealer, 2500 },
        { ZmqSocketOption.InvertMatching, ZmqSocketType.Sub, 1 },
        { ZmqSocketOption.HeartbeatInterval, ZmqSocketType.Dealer, 1000 },
        { ZmqSocketOption.HeartbeatTtl, ZmqSocketType.Dealer, 3000 },
        { ZmqSocketOption.HeartbeatTimeout, ZmqSocketType.Dealer, 2000 },
        { ZmqSocketOption.ConnectTimeout, ZmqSocketType.Dealer, 1500 },
        { ZmqSocketOption.TcpMaxRetransmitTimeout, ZmqSocketType.Dealer, 9000 },
        { ZmqSocketOption.Conflate, ZmqSocketType.Pull, 1 },
        { ZmqSocketOption.Rate, ZmqSocketType.Pub, 200 },
        { ZmqSocketOption.RecoveryInterval, ZmqSocketType.Pub, 5000 },
    };

    public static TheoryData<ZmqSocketOption, ZmqSocketType> WriteOnly => new()
    {
        { ZmqSocketOption.XPubNoDrop, ZmqSocketType.XPub },
        { ZmqSocketOption.XPubManual, ZmqSocketType.XPub },
        { ZmqSocketOption.XPubVerbose, ZmqSocketType.XPub },
        { ZmqSocketOption.XPubVerboser, ZmqSocketType.XPub },
        { ZmqSocketOption.RouterMandatory, ZmqSocketType.Router },
        { ZmqSocketOption.RouterHandover, ZmqSocketType.Router },
        { ZmqSocketOption.ProbeRouter, ZmqSocketType.Dealer },
        { ZmqSocketOption.ReqCorrelate, ZmqSocketType.Req },
        { ZmqSocketOption.ReqRelaxed, ZmqSocketType.Req },
    };

    [Theory]
    [MemberData(nameof(Readable))]
    public void NamedOption_Readable_ReadsBackWhatWasSet(ZmqSocketOption option, ZmqSocketType type, int value)
    {
        using var context = new ZmqContext();
        using var socket = new ZmqSocket(context, type);
        Assert.NotEqual(value, socket.GetInt32(option));
        socket.SetOption(option, value);
        Assert.Equal(value, socket.GetInt32(option));
    }

    [Theory]
    [MemberData(nameof(WriteOnly))]
    public void NamedOption_WriteOnly_AcceptedWhereItAppliesAndRefusedElsewhere(ZmqSocketOption option, ZmqSocketType type)
    {
        using var context = new ZmqContext();
        using var socket = new ZmqSocket(context, type);
        socket.SetOption(option, 1);
        Assert.Equal(EINVAL, Assert.Throws<ZmqException>(() => socket.GetInt32(option)).Errno);

        // A socket-specific option: a PAIR does not know it, so a wrong number could not pass both checks.
        using var pair = new ZmqSocket(context, ZmqSocketType.Pair);
        Assert.Throws<ZmqException>(() => pair.SetOption(option, 1));
    }

    [Fact]
    public void NamedOption_Binary_AcceptedWhereItApplies()
    {
        using var context = new ZmqContext();
        using var xpub = new ZmqSocket(context, ZmqSocketType.XPub);
        xpub.SetOption(ZmqSocketOption.XPubWelcomeMessage, "welcome"u8);
        Assert.Equal(EINVAL, Assert.Throws<ZmqException>(() => xpub.GetBytes(ZmqSocketOption.XPubWelcomeMessage)).Errno);
        using var router = new ZmqSocket(context, ZmqSocketType.Router);
        router.SetOption(ZmqSocketOption.ConnectRoutingId, "peer"u8);
        Assert.Equal(EINVAL, Assert.Throws<ZmqException>(() => router.GetBytes(ZmqSocketOption.ConnectRoutingId)).Errno);
        using var pair = new ZmqSocket(context, ZmqSocketType.Pair);
        Assert.Throws<ZmqException>(() => pair.SetOption(ZmqSocketOption.ConnectRoutingId, "peer"u8));
    }
}
