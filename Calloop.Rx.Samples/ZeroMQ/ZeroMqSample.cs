using System.Reactive.Linq;
using System.Text;
using Calloop.Rx.ZeroMQ;

namespace Calloop.Rx.Samples.ZeroMQ;

/// <summary>
/// The calloop book's ZeroMQ chapter, the Rx way: a REQ/REP exchange and a PUB/SUB feed, four sockets on one loop,
/// each a <see cref="ZmqSource"/> (its ZMQ_FD, an outbox channel and a wake-up ping merged with Rx operators).
/// </summary>
public static class ZeroMqSample
{
    private const int Requests = 3;
    private const int Bulletins = 3;

    public static int Run(string[] args, TextWriter output)
    {
        using var context = new ZmqContext();
        using var loop = new EventLoop();
        using var subscriptions = new System.Reactive.Disposables.CompositeDisposable();
        int replies = 0;
        int bulletins = 0;

        // REQ/REP over inproc: the server answers each request in upper case.
        var server = new ZmqSocket(context, ZmqSocketType.Rep);
        server.Bind("inproc://shout");
        var client = new ZmqSocket(context, ZmqSocketType.Req);
        client.Connect("inproc://shout");
        var (answer, requestsIn) = ZmqSource.Create(loop, server);
        var (ask, repliesIn) = ZmqSource.Create(loop, client);

        subscriptions.Add(requestsIn
            .Select(Text)
            .Subscribe(request =>
            {
                output.WriteLine($"server: got \"{request}\"");
                answer.Send(Frames(request.ToUpperInvariant()));
            }));

        // Queued before the client source is even subscribed: it goes out once it is.
        ask.Send(Frames("hello 1"));
        subscriptions.Add(repliesIn
            .Select(Text)
            .Subscribe(reply =>
            {
                replies++;
                output.WriteLine($"client: reply \"{reply}\"");
                if (replies < Requests)
                {
                    // A REQ socket must not send before the reply came; the source keeps this in its outbox until
                    // ZMQ_EVENTS says the socket may send, so it is safe to queue at any time.
                    ask.Send(Frames($"hello {replies + 1}"));
                }
            }));

        // PUB/SUB: an XPUB publisher also receives subscriptions ("\x01" + topic), so it can start publishing once
        // its subscriber is listening instead of losing the first bulletins (ZeroMQ's "slow joiner").
        var publisher = new ZmqSocket(context, ZmqSocketType.XPub);
        publisher.Bind("inproc://news");
        var subscriber = new ZmqSocket(context, ZmqSocketType.Sub);
        subscriber.Subscribe("weather");
        subscriber.Connect("inproc://news");
        var (publish, joins) = ZmqSource.Create(loop, publisher);
        var (_, news) = ZmqSource.Create(loop, subscriber);

        subscriptions.Add(joins
            .Where(frames => frames[0].Length > 0 && frames[0][0] == 1)
            .Select(frames => Encoding.UTF8.GetString(frames[0], 1, frames[0].Length - 1))
            .Subscribe(topic =>
            {
                output.WriteLine($"publisher: someone subscribed to \"{topic}\"");
                for (int i = 1; i <= Bulletins; i++)
                {
                    publish.Send(Frames("sports", $"match {i}"));
                    publish.Send(Frames("weather", $"bulletin {i}"));
                }
            }));

        subscriptions.Add(news
            .Select(frames => (Topic: Encoding.UTF8.GetString(frames[0]), Body: Encoding.UTF8.GetString(frames[1])))
            .Subscribe(message =>
            {
                bulletins++;
                output.WriteLine($"subscriber: [{message.Topic}] {message.Body}");
            }));

        // Stop when both conversations are over, or give up after five seconds.
        bool timedOut = false;
        subscriptions.Add(loop.Timer(TimeSpan.FromSeconds(5)).Subscribe(_ =>
        {
            timedOut = true;
            loop.Stop();
        }));
        loop.Run(afterDispatch: l =>
        {
            if (replies == Requests && bulletins == Bulletins)
            {
                l.Stop();
            }
        });

        output.WriteLine(timedOut
            ? $"timed out after {replies} replies and {bulletins} bulletins"
            : $"done: {replies} replies, {bulletins} bulletins, no sports");
        return timedOut ? 1 : 0;
    }

    private static byte[][] Frames(params string[] parts) => [.. parts.Select(Encoding.UTF8.GetBytes)];

    private static string Text(byte[][] frames) => Encoding.UTF8.GetString(frames[0]);
}
