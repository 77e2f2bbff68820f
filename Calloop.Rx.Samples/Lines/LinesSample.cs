using System.IO.Pipes;
using System.Reactive.Linq;
using System.Text;

namespace Calloop.Rx.Samples.Lines;

/// <summary>
/// A user-written composite source (<see cref="LineReader"/>) in use: a thread writes text into a pipe in pieces
/// that split lines and even a character; the loop prints whole, numbered lines and ends with the stream.
/// </summary>
public static class LinesSample
{
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var loop = new EventLoop();
        var pipe = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.None);
        var writer = new AnonymousPipeClientStream(PipeDirection.Out, pipe.ClientSafePipeHandle);
        var lines = new LineReader(loop, pipe, Encoding.UTF8);

        int status = 0;
        using IDisposable subscription = lines
            .Select((line, index) => $"{index + 1}: {line}")
            .Subscribe(
                output.WriteLine,
                error =>
                {
                    output.WriteLine($"failed: {error.Message}");
                    status = 1;
                    loop.Stop();
                },
                loop.Stop);

        var producer = new Thread(() =>
        {
            using (writer)
            {
                byte[] text = Encoding.UTF8.GetBytes("the first line\nthe sec" + "ond line\r\ncaf\u00e9 au lait\nno newline at the end");
                int[] cuts = [9, 22, 39, text.Length];
                int start = 0;
                foreach (int cut in cuts)
                {
                    writer.Write(text, start, cut - start);
                    writer.Flush();
                    start = cut;
                }
            }
        });
        producer.Start();

        // The source completes at the end of the stream, which stops the loop.
        loop.Run();
        producer.Join();
        return status;
    }
}
