namespace Sealer.Core.Distribution;

/// <summary>
/// Read-only wrapper that fails a read with <see cref="TimeoutException"/> when no byte arrives for <c>stall</c>
/// (a per-read timeout, not a whole-transfer one), and counts bytes read.
/// </summary>
internal sealed class StallTimeoutStream : Sealer.Core.IO.ReadOnlyStream
{
    private readonly Stream _inner;
    private readonly TimeSpan _stall;
    private readonly Action<int>? _onRead;

    public StallTimeoutStream(Stream inner, TimeSpan stall, Action<int>? onRead = null)
    {
        _inner = inner;
        _stall = stall;
        _onRead = onRead;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(_stall);
        int n;
        try
        {
            n = await _inner.ReadAsync(buffer, timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no data received for {_stall.TotalSeconds:0.#} s", ex);
        }
        _onRead?.Invoke(n);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();


    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}
