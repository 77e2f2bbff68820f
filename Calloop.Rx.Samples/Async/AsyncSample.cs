using System.Reactive.Linq;

namespace Calloop.Rx.Samples.Async;

/// <summary>
/// The calloop book's "Async/await in calloop": two async blocks, "friendly" and "aloof", exchange messages
/// through two loop channels while the loop runs them; each one's result is printed when it ends.
/// </summary>
public static class AsyncSample
{
    public static int Run(string[] args, TextWriter output)
    {
        using var loop = new EventLoop();

        // Two channels for our async blocks below: they exchange messages through them.
        var (senderFriendly, receiverFriendly) = loop.Channel<string>();
        var (senderAloof, receiverAloof) = loop.Channel<string>();

        // Our toy async code, spawned on the loop: every await continues on the loop thread.
        IObservable<string> friendly = loop.Spawn(async () =>
        {
            senderFriendly.Send("Hello,");
            output.WriteLine($"Aloof said: {await receiverAloof.FirstAsync()}");
            senderFriendly.Send("world!");
            output.WriteLine($"Aloof said: {await receiverAloof.FirstAsync()}");
            return "Bye!";
        });
        IObservable<string> aloof = loop.Spawn(async () =>
        {
            output.WriteLine($"Friendly said: {await receiverFriendly.FirstAsync()}");
            senderAloof.Send("Oh,");
            output.WriteLine($"Friendly said: {await receiverFriendly.FirstAsync()}");
            senderAloof.Send("it's you.");
            return "Regards.";
        });

        // Print each block's result (the book's executor callback); stop once both have ended.
        int exitCode = 0;
        friendly.Merge(aloof).Subscribe(
            result => output.WriteLine($"Async block ended with: {result}"),
            error =>
            {
                output.WriteLine($"Async block failed: {error.Message}");
                exitCode = 1;
                loop.Stop();
            },
            loop.Stop);

        output.WriteLine("Starting event loop.");
        loop.Run();
        output.WriteLine("Event loop ended.");
        return exitCode;
    }
}
