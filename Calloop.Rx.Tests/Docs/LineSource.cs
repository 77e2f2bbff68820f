using System.IO.Pipes;
using System.Text;

namespace Calloop.Rx.Tests.Docs;

/// <summary>
/// The tutorial's custom source: the lines of text written into a pipe. It keeps its own framing state between
/// events, and ends itself (<see cref="PostAction.Remove"/>) at the end of the stream. The caller owns the pipe.
/// Unlike the tests' shared <see cref="Infrastructure.FdEventSource"/> it frames lines and uses only public API,
/// because docs/02-using-event-sources.md quotes it as the example of a user's source.
/// </summary>
internal sealed class LineSource(PipeStream pipe, int maxLineLength = 1024) : IEventSource<string>
{
    private readonly int _fd = (int)pipe.SafePipeHandle.DangerousGetHandle();
    private readonly List<byte> _line = [];
    private Token _token;

    public void Register(Poller poller, TokenFactory tokens)
    {
        _token = tokens.Next();
        poller.Register(_fd, Interest.Read, TriggerMode.Level, _token);
    }

    public void Reregister(Poller poller, TokenFactory tokens)
    {
        _token = tokens.Next();
        poller.Reregister(_fd, Interest.Read, TriggerMode.Level, _token);
    }

    public void Unregister(Poller poller) => poller.Unregister(_fd);

    public PostAction ProcessEvents(Readiness readiness, Token token, Action<string> emit)
    {
        if (token != _token)
        {
            return PostAction.Continue;
        }

        // One read per readiness cannot block: the pipe has data, or it is at its end.
        Span<byte> buffer = stackalloc byte[4096];
        int n = pipe.Read(buffer);
        if (n == 0)
        {
            if (_line.Count > 0)
            {
                emit(Encoding.UTF8.GetString([.. _line]));
            }

            return PostAction.Remove; // end of stream: unregister, then OnCompleted
        }

        foreach (byte b in buffer[..n])
        {
            if (b == (byte)'\n')
            {
                emit(Encoding.UTF8.GetString([.. _line]));
                _line.Clear();
            }
            else if (_line.Count == maxLineLength)
            {
                // The source cannot frame this stream any more: its subscribers get OnError, the loop goes on.
                throw new InvalidDataException($"A line is longer than {maxLineLength} bytes.");
            }
            else
            {
                _line.Add(b);
            }
        }

        return PostAction.Continue;
    }
}
