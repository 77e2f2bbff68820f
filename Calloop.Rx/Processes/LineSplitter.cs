using System.Text;

namespace Calloop.Rx;

/// <summary>
/// <see cref="ProcessOutputSource.Lines"/>: decodes the chunks of one subscription and cuts them into lines. The
/// decoder keeps a character split across chunks, the builder a line split across them.
/// </summary>
internal sealed class LineSplitter(IObservable<ReadOnlyMemory<byte>> source, Encoding encoding) : IObservable<string>
{
    public IDisposable Subscribe(IObserver<string> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        return source.Subscribe(new Splitter(observer, encoding.GetDecoder()));
    }

    private sealed class Splitter(IObserver<string> observer, Decoder decoder) : IObserver<ReadOnlyMemory<byte>>
    {
        private readonly StringBuilder _line = new();
        private char[] _chars = [];

        public void OnNext(ReadOnlyMemory<byte> value) => Split(value.Span, flush: false);

        public void OnCompleted()
        {
            Split(default, flush: true);
            if (_line.Length > 0)
            {
                observer.OnNext(_line.ToString());
            }

            observer.OnCompleted();
        }

        public void OnError(Exception error) => observer.OnError(error);

        private void Split(ReadOnlySpan<byte> bytes, bool flush)
        {
            int most = decoder.GetCharCount(bytes, flush);
            if (_chars.Length < most)
            {
                _chars = new char[Math.Max(most, 2 * _chars.Length)];
            }

            ReadOnlySpan<char> text = _chars.AsSpan(0, decoder.GetChars(bytes, _chars, flush));
            int end;
            while ((end = text.IndexOf('\n')) >= 0)
            {
                ReadOnlySpan<char> piece = text[..end];
                string line;
                if (_line.Length == 0)
                {
                    line = new string(TrimReturn(piece));
                }
                else
                {
                    _line.Append(piece);
                    if (_line[^1] == '\r')
                    {
                        _line.Length--;
                    }

                    line = _line.ToString();
                    _line.Clear();
                }

                observer.OnNext(line);
                text = text[(end + 1)..];
            }

            _line.Append(text);
        }

        private static ReadOnlySpan<char> TrimReturn(ReadOnlySpan<char> piece) =>
            piece.Length > 0 && piece[^1] == '\r' ? piece[..^1] : piece;
    }
}
