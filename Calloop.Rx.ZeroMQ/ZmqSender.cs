using System.Threading.Channels;

namespace Calloop.Rx.ZeroMQ;

/// <summary>
/// The outgoing side of a <see cref="ZmqSource"/>: queues multipart messages for the loop to send on the socket
/// (the book's MPSC channel). Thread-safe; <see cref="Clone"/> it for other producers. Messages from one sender
/// go out in the order they were queued.
/// </summary>
/// <remarks>
/// <para>Queuing never touches the socket: the loop sends when libzmq says the socket is writable, and keeps the
/// message while it is not (a PUSH with no peer, a REQ waiting for its reply, a full high-water mark), so the loop
/// never blocks. With <see cref="ZmqSourceOptions.OutboxCapacity"/> set, at most that many messages wait; then
/// <see cref="TrySend(IReadOnlyList{byte[]})"/> reports <see cref="SendResult.Full"/> and
/// <see cref="Send(IReadOnlyList{byte[]}, CancellationToken)"/> blocks, and
/// <see cref="SendAsync(IReadOnlyList{byte[]}, CancellationToken)"/> waits without blocking a thread.</para>
/// <para>The frame arrays are not copied: do not change them after queuing. A message that is still waiting when
/// the source ends (removed, failed, loop disposed) is dropped; see <see cref="ZmqSource"/>.</para>
/// <para>Disposing every sender does not end the source: it goes on receiving.</para>
/// </remarks>
public sealed class ZmqSender : IDisposable
{
    private readonly Sender<byte[][]> _channel;
    private readonly OutboxLimit _limit;

    internal ZmqSender(Sender<byte[][]> channel, OutboxLimit limit)
    {
        _channel = channel;
        _limit = limit;
    }

    /// <summary>The outbox bound (<see cref="ZmqSourceOptions.OutboxCapacity"/>), or null when unbounded.</summary>
    public int? Capacity => _limit.Capacity;

    /// <summary>
    /// Messages queued through any sender of this source that the socket has not accepted yet (still in the channel
    /// or the outbox). Thread-safe. At <see cref="Capacity"/>, <see cref="TrySend(IReadOnlyList{byte[]})"/> reports
    /// <see cref="SendResult.Full"/>. After the source ended, what is counted here was dropped.
    /// </summary>
    public int Pending => _limit.Pending;

    /// <summary>
    /// Waits until <see cref="Pending"/> is 0: everything queued so far, by any sender of this source, was handed to
    /// libzmq (which may still be transmitting it: close the socket with <see cref="ZmqSocket.Close(TimeSpan)"/>
    /// to give it time). Thread-safe; completes at once when nothing is pending. The loop thread completes the task,
    /// but never runs its continuations inline: they run on the thread pool (or the awaiter's synchronization
    /// context). On the loop thread itself, do not block on it: keep dispatching. Use <c>ToObservable()</c> for an
    /// <see cref="IObservable{T}"/>.
    /// </summary>
    /// <remarks>Messages queued while waiting extend the wait: it ends when the count first reaches 0.</remarks>
    /// <param name="cancellationToken">Stops waiting (the messages stay queued).</param>
    /// <returns>
    /// A task that completes when nothing is pending; that fails with <see cref="ChannelClosedException"/> when the
    /// source ends first (the pending messages were dropped); or that is cancelled by <paramref name="cancellationToken"/>.
    /// </returns>
    public Task WhenDrainedAsync(CancellationToken cancellationToken = default) =>
        _limit.WhenDrained().WaitAsync(cancellationToken);

    /// <summary>Queues a multipart message if there is room. Never blocks.</summary>
    /// <returns>
    /// <see cref="SendResult.Sent"/>; <see cref="SendResult.Full"/> when a bounded outbox is at capacity; or
    /// <see cref="SendResult.Closed"/> when this sender is disposed or the source has ended. Only Sent queued anything.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="parts"/> is empty or holds a null frame.</exception>
    public SendResult TrySend(IReadOnlyList<byte[]> parts)
    {
        byte[][] message = ToMessage(parts);
        SendResult result = _limit.TryTake();
        return result == SendResult.Sent ? Enqueue(message) : result;
    }

    /// <summary>Queues a multipart message (one array per frame) if there is room. Never blocks.</summary>
    /// <inheritdoc cref="TrySend(IReadOnlyList{byte[]})"/>
    public SendResult TrySend(params byte[][] parts) => TrySend((IReadOnlyList<byte[]>)parts);

    /// <summary>Queues a multipart message, waiting while a bounded outbox is full. An unbounded one never waits.</summary>
    /// <exception cref="ArgumentException"><paramref name="parts"/> is empty or holds a null frame.</exception>
    /// <exception cref="ChannelClosedException">This sender is disposed or the source has ended (also while waiting).</exception>
    /// <exception cref="InvalidOperationException">Called on the loop thread while the outbox is full (it could never drain).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    public void Send(IReadOnlyList<byte[]> parts, CancellationToken cancellationToken = default)
    {
        byte[][] message = ToMessage(parts);
        SendResult result = _limit.Take(cancellationToken);
        if (result == SendResult.Sent)
        {
            result = Enqueue(message);
        }

        if (result != SendResult.Sent)
        {
            throw Closed();
        }
    }

    /// <summary>
    /// Queues a multipart message, waiting without blocking a thread while a bounded outbox is full (an unbounded
    /// one never waits). With room, it queues at once and returns a completed task; the waiters are pooled, so a
    /// send that waits allocates no more than one that does not. Waiting senders get the room in the order they
    /// started waiting, before senders blocked in <see cref="Send(IReadOnlyList{byte[]}, CancellationToken)"/>.
    /// </summary>
    /// <remarks>
    /// <para>Completed means queued, as for <see cref="Send(IReadOnlyList{byte[]}, CancellationToken)"/>: messages
    /// from one sender go out in order if each send is awaited before the next. A failed or cancelled send queued nothing.</para>
    /// <para>The loop thread completes a waiting send (when libzmq accepts an earlier message), but its continuation
    /// never runs inline there: it runs on the thread pool, or on the awaiter's synchronization context. Awaiting on
    /// the loop thread is allowed (it cannot deadlock): the send completes once the loop, dispatching on, makes room.</para>
    /// <para>Await the returned task exactly once, as any <see cref="ValueTask"/>; the waiter behind it is reused afterwards.</para>
    /// </remarks>
    /// <param name="parts">The frames; the list is copied, the frames are not.</param>
    /// <param name="cancellationToken">Stops waiting for room; ignored when there is room at once.</param>
    /// <returns>A task that completes when the message is queued.</returns>
    /// <exception cref="ArgumentException"><paramref name="parts"/> is empty or holds a null frame (thrown, not returned in the task).</exception>
    /// <exception cref="ChannelClosedException">This sender is disposed, the source has ended or the loop is disposed, before or while waiting (the task fails with it).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting (the task fails with it; nothing was queued).</exception>
    public ValueTask SendAsync(IReadOnlyList<byte[]> parts, CancellationToken cancellationToken = default)
    {
        byte[][] message = ToMessage(parts);
        SendResult result = _limit.TryTakeOrWait(_channel, message, cancellationToken, out ValueTask waiting);
        if (result == SendResult.Full)
        {
            return waiting;
        }

        if (result == SendResult.Sent)
        {
            result = Enqueue(message);
        }

        return result == SendResult.Sent ? ValueTask.CompletedTask : ValueTask.FromException(Closed());
    }

    /// <summary>Queues a multipart message (one array per frame), waiting while a bounded outbox is full.</summary>
    /// <inheritdoc cref="Send(IReadOnlyList{byte[]}, CancellationToken)"/>
    public void Send(params byte[][] parts) => Send((IReadOnlyList<byte[]>)parts);

    /// <summary>Another sender for the same source (and the same outbox bound).</summary>
    /// <exception cref="ObjectDisposedException">This sender is disposed.</exception>
    public ZmqSender Clone() => new(_channel.Clone(), _limit);

    /// <summary>Releases this sender. Messages it queued are still sent.</summary>
    public void Dispose() => _channel.Dispose();

    /// <summary>What a send that found the source closed throws.</summary>
    internal static ChannelClosedException Closed() =>
        new("The ZeroMQ source is closed: the sender was disposed or the source has ended.");

    private static byte[][] ToMessage(IReadOnlyList<byte[]> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new ArgumentException("A message has at least one frame.", nameof(parts));
        }

        // Copy the list (not the frames): the caller may reuse its list, and the loop reads it later.
        var message = new byte[parts.Count][];
        for (int i = 0; i < message.Length; i++)
        {
            message[i] = parts[i] ?? throw new ArgumentException($"Frame {i} is null.", nameof(parts));
        }

        return message;
    }

    private SendResult Enqueue(byte[][] message)
    {
        SendResult result = _channel.TrySend(message);
        if (result != SendResult.Sent)
        {
            _limit.Give();
        }

        return result;
    }
}
