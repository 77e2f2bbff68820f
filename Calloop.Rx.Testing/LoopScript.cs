using System.Reactive.Linq;
using System.Runtime.InteropServices;
using Calloop.Rx.Testing.Interop;
using Microsoft.Win32.SafeHandles;

namespace Calloop.Rx.Testing;

/// <summary>
/// Scripted input for real sources on a <see cref="LoopTestScheduler"/>: "at tick 300, write these bytes to this fd /
/// send this message / ping / raise this signal". Each entry is work scheduled on the test scheduler at its tick, so
/// it runs there in (tick, scheduling order) with everything else; the input is real (a write(2), a channel send, a
/// kill(2)), and the loop delivers the event it causes at that same tick, before the clock moves on.
/// </summary>
/// <remarks>
/// Entries may be added from the test thread before or between drives (a tick at or before the clock means clock + 1,
/// as for any work on the scheduler). Each method returns the script, for chaining; an exception the input raises
/// (a full socket, a closed channel) comes out of the drive at that tick.
/// </remarks>
public sealed class LoopScript
{
    private static readonly TimeSpan s_signalPatience = TimeSpan.FromSeconds(5);

    private readonly LoopTestScheduler _scheduler;
    private int _signalsInFlight;

    internal LoopScript(LoopTestScheduler scheduler) => _scheduler = scheduler;

    /// <summary>Runs <paramref name="action"/> on the loop thread at <paramref name="tick"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="action"/> is null.</exception>
    public LoopScript At(long tick, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        _scheduler.ScheduleAbsolute(action, tick, static (_, run) =>
        {
            run();
            return System.Reactive.Disposables.Disposable.Empty;
        });
        return this;
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> (copied now) to file descriptor <paramref name="fd"/> at <paramref name="tick"/>,
    /// all of them or an <see cref="IOException"/> out of the drive (a non-blocking fd that is full). The caller
    /// keeps the fd open and closes it; the readiness it causes is delivered at the same tick.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fd"/> is negative.</exception>
    public LoopScript Write(long tick, int fd, ReadOnlySpan<byte> bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        byte[] copy = bytes.ToArray();
        return At(tick, () =>
        {
            using var handle = new SafeFileHandle(fd, ownsHandle: false);
            using var stream = new FileStream(handle, FileAccess.Write, bufferSize: 0);
            stream.Write(copy);
        });
    }

    /// <summary>Sends <paramref name="message"/> on <paramref name="sender"/> at <paramref name="tick"/>; it is delivered at the same tick.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> is null.</exception>
    public LoopScript Send<T>(long tick, Sender<T> sender, T message)
    {
        ArgumentNullException.ThrowIfNull(sender);
        return At(tick, () => sender.Send(message));
    }

    /// <summary>Pings <paramref name="ping"/> at <paramref name="tick"/>; its source delivers at the same tick.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="ping"/> is null.</exception>
    public LoopScript Ping(long tick, Ping ping)
    {
        ArgumentNullException.ThrowIfNull(ping);
        return At(tick, () => ping.Send());
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to this process at <paramref name="tick"/>, and holds the clock at that tick
    /// until <paramref name="source"/> has delivered it (a real, bounded wait: .NET hands signals to the loop through
    /// its own signal thread, so without the wait the delivery tick would depend on thread timing). The source must
    /// take <paramref name="signal"/>; subscribe the pipeline under test to it beforehand.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> does not take <paramref name="signal"/>.</exception>
    /// <remarks>When the signal has not arrived 5 s after it was sent, the drive throws <see cref="TimeoutException"/>.</remarks>
    public LoopScript Raise(long tick, SignalSource source, PosixSignal signal)
    {
        ArgumentNullException.ThrowIfNull(source);
        int number = NumberOf(source, signal);
        return At(tick, () =>
        {
            _signalsInFlight++;
            source.Where(e => e.Number == number).Take(1).Subscribe(_ => _signalsInFlight--);
            ProcessSignals.RaiseInProcess(number);
        });
    }

    /// <summary>
    /// Called by the scheduler after each step: while a raised signal has not reached the loop, dispatches with real,
    /// bounded waits, so the signal is delivered at the tick it was raised.
    /// </summary>
    /// <exception cref="TimeoutException">A raised signal did not arrive within 5 s.</exception>
    /// <returns>Whether it dispatched (then what the signal's delivery caused may still be pending at this tick).</returns>
    internal bool AwaitSignals(EventLoop loop)
    {
        if (_signalsInFlight == 0)
        {
            return false;
        }

        long deadline = Environment.TickCount64 + (long)s_signalPatience.TotalMilliseconds;
        while (_signalsInFlight > 0)
        {
            long left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                _signalsInFlight = 0;
                throw new TimeoutException($"A signal raised by the script at {loop.Now:O} did not reach the loop within {s_signalPatience.TotalSeconds} s.");
            }

            loop.Dispatch(TimeSpan.FromMilliseconds(left));
        }

        return true;
    }

    /// <summary>The number kill(2) needs for <paramref name="signal"/>, as the source resolved it (a named <see cref="PosixSignal"/> is not its number).</summary>
    private static int NumberOf(SignalSource source, PosixSignal signal)
    {
        foreach (int number in source.SignalNumbers)
        {
            if (new SignalEvent(number, 1, default).Signal == signal)
            {
                return number;
            }
        }

        throw new ArgumentException($"The source does not take {signal}.", nameof(signal));
    }
}
