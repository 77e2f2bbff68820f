using System.Runtime.InteropServices;

namespace Calloop.Rx;

/// <summary>
/// Unix signals delivered to the loop (calloop's <c>Signals</c>). While the source is registered, each of its
/// signals is taken over through <see cref="PosixSignalRegistration"/> (so the default action, such as terminating
/// on SIGTERM, does not run) and forwarded into the loop; unregistering restores the previous handling.
/// </summary>
/// <remarks>
/// signalfd is not used: in a .NET process other runtime threads would receive the signal first (see the
/// architecture notes). One <see cref="SignalEvent"/> per signal number and dispatch carries how many deliveries
/// were seen. A signal the process ignored when the runtime first installed its handler (for example SIGHUP
/// under <c>nohup</c>) is never seen.
/// </remarks>
public sealed class SignalSource : LoopSource<SignalEvent>
{
    private readonly List<int> _signals = [];
    private readonly Dictionary<int, PosixSignalRegistration> _registrations = [];
    private readonly int[] _counts = new int[65];
    private readonly Notifier _notifier;

    internal SignalSource(EventLoop loop, IEnumerable<int> signals)
        : base(loop)
    {
        _notifier = new Notifier(loop, this);
        _signals.AddRange(signals.Distinct());
    }

    internal override string Name => "Signals";

    /// <summary>The signal numbers this source takes, in the order they were added.</summary>
    public IReadOnlyList<int> SignalNumbers
    {
        get
        {
            lock (Loop.Gate)
            {
                return [.. _signals];
            }
        }
    }

    /// <summary>Starts taking <paramref name="signal"/> (named or a raw number such as <c>(PosixSignal)10</c>). Callable from any thread.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The signal cannot be handled (SIGKILL, SIGSTOP, a fault signal the runtime owns, or out of range).</exception>
    public void AddSignal(PosixSignal signal)
    {
        int number = EventLoop.ValidateSignal(signal);
        lock (Loop.Gate)
        {
            if (_signals.Contains(number))
            {
                return;
            }

            _signals.Add(number);
            if (IsArmed)
            {
                Register(number);
            }
        }
    }

    /// <summary>Stops taking <paramref name="signal"/> and restores its previous handling. Callable from any thread.</summary>
    public void RemoveSignal(PosixSignal signal)
    {
        int number = SignalNames.ToNumber(signal);
        lock (Loop.Gate)
        {
            if (_signals.Remove(number) && _registrations.Remove(number, out PosixSignalRegistration? registration))
            {
                registration.Dispose();
            }
        }
    }

    private protected override bool UsesToken => false;

    private protected override void Arm()
    {
        _notifier.ArmLocked();
        try
        {
            foreach (int number in _signals)
            {
                Register(number);
            }
        }
        catch
        {
            // A refused registration leaves the source inactive, and an inactive source is not reachable from the
            // loop's disposal: nothing may stay taken over.
            UnregisterAll();
            _notifier.DisarmLocked();
            throw;
        }
    }

    private protected override void Disarm()
    {
        // While disabled the signals stay taken over (their deliveries are counted and come after Enable), like
        // calloop's blocked-but-pending signals; the previous handling returns only when the source is unregistered.
        _notifier.DisarmLocked();
    }

    private protected override void OnDeactivated() => UnregisterAll();

    private protected override void OnEvent(Readiness readiness, Token token)
    {
        DateTimeOffset now = Loop.Now;
        bool more = false;
        foreach (int number in SnapshotSignals())
        {
            if (BatchInterrupted)
            {
                // What is not delivered now stays counted and comes with the next event.
                more |= Volatile.Read(ref _counts[number]) > 0;
                continue;
            }

            int count = Interlocked.Exchange(ref _counts[number], 0);
            if (count > 0)
            {
                Emit(new SignalEvent(number, count, now));
            }
        }

        if (more)
        {
            _notifier.Signal();
        }
    }

    private protected override void ReleaseResources()
    {
        UnregisterAll();
        _notifier.Close();
    }

    private void UnregisterAll()
    {
        foreach (PosixSignalRegistration registration in _registrations.Values)
        {
            registration.Dispose();
        }

        _registrations.Clear();
    }

    private int[] SnapshotSignals()
    {
        lock (Loop.Gate)
        {
            return [.. _signals];
        }
    }

    private void Register(int number)
    {
        if (_registrations.ContainsKey(number))
        {
            return;
        }

        _registrations[number] = PosixSignalRegistration.Create(SignalNames.ToPosixSignal(number), context =>
        {
            context.Cancel = true;
            Interlocked.Increment(ref _counts[number]);
            _notifier.Signal();
        });
    }
}
