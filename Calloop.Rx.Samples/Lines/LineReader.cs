using System.IO.Pipes;
using System.Reactive.Linq;
using System.Text;

namespace Calloop.Rx.Samples.Lines;

/// <summary>
/// A composite source written outside the library: the lines of text that arrive on a pipe, made of a loop
/// <see cref="FdSource"/> and Rx operators. Partial lines wait for their end across reads; a final line without a
/// newline is delivered at the end of the stream, and then the source completes.
/// </summary>
/// <remarks>
/// It owns the pipe: the pipe is closed when the source ends (at the end of the stream, on <see cref="LoopSource{T}.Remove"/>,
/// or when the loop is disposed). While nobody subscribes, or while disabled, nothing is read: what the writer sends
/// waits in the pipe, whose capacity then holds the writer back.
/// </remarks>
public sealed class LineReader : CompositeSource<string>
{
    private readonly PipeStream _pipe;
    private readonly FdSource _readable;
    private readonly Decoder _decoder;
    private readonly byte[] _bytes = new byte[4096];
    private readonly char[] _chars;
    private readonly StringBuilder _partial = new();

    /// <summary>Makes the source; subscribe to start reading.</summary>
    /// <param name="loop">The loop that delivers the lines.</param>
    /// <param name="pipe">The read end of a pipe; the source owns it.</param>
    /// <param name="encoding">How the bytes are decoded (multi-byte characters may be split across reads).</param>
    public LineReader(EventLoop loop, PipeStream pipe, Encoding encoding)
        : base(loop, $"Line reader on pipe {pipe.SafePipeHandle.DangerousGetHandle()}")
    {
        _pipe = pipe;
        _decoder = encoding.GetDecoder();
        _chars = new char[encoding.GetMaxCharCount(_bytes.Length)];
        _readable = loop.Fd(pipe.SafePipeHandle, Interest.Read);
    }

    /// <summary>Each readiness of the pipe reads once (a read that cannot block: the pipe has data or is at its end) and yields the lines it completed.</summary>
    protected override IObservable<string> Connect() => _readable.SelectMany(_ => ReadLines());

    /// <summary>The source owns the pipe and its fd source.</summary>
    protected override void OnEnded()
    {
        _readable.Remove();
        _pipe.Dispose();
    }

    private IEnumerable<string> ReadLines()
    {
        int read = _pipe.Read(_bytes);
        int count = _decoder.GetChars(_bytes, 0, read, _chars, 0, flush: read == 0);
        for (int i = 0; i < count; i++)
        {
            if (_chars[i] == '\n')
            {
                string line = _partial.ToString().TrimEnd('\r');
                _partial.Clear();
                yield return line;
            }
            else
            {
                _partial.Append(_chars[i]);
            }
        }

        if (read == 0)
        {
            // The end of the stream: the last line, if it had no newline, then the end of the source. Lazily, so that
            // Remove comes after the lines were delivered (it stops the pipeline at once).
            if (_partial.Length > 0)
            {
                string last = _partial.ToString();
                _partial.Clear();
                yield return last;
            }

            Remove();
        }
    }
}
