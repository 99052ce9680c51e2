using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Distribution;

/// <summary>
/// Ranged blob downloads: a big blob is cut into <see cref="RegistryOptions.RangeChunkSize"/> pieces that up to
/// <see cref="RegistryOptions.ParallelRanges"/> workers (as many as the client's stream budget,
/// <see cref="RegistryOptions.MaxBlobStreams"/>, has room for) GET with <c>Range</c> headers and write at their offsets into one
/// <see cref="RangedBlobIngest"/> (hashed in order as the written prefix grows, verified before it is renamed into the
/// cache). The first piece is the probe: a server that answers it with 200 (Range ignored), or that answers any piece with
/// another range than asked, gets the one-stream download instead; one whose pieces do not add up to the digest is caught
/// by the digest check and gets the one-stream download too. A piece whose connection drops resumes from its last byte.
/// </summary>
public sealed partial class RegistryClient
{
    private const int RangeBufferSize = 1 << 18;

    /// <summary>Pieces a lone range worker takes in one request when no helper can join it (fewer requests, same bytes).</summary>
    private const int LoneClaimChunks = 8;

    /// <summary>A server that does not honour Range requests (or answers other bytes than asked): use one stream.</summary>
    private sealed class RangesNotHonoredException(string message) : Exception(message);

    private bool UseRanges(Descriptor blob, OciLayout layout)
        => Options.ParallelRanges > 1 && blob.Size >= Options.ParallelRangeThreshold && blob.Size > Options.RangeChunkSize
           && !layout.HasPartialIngest(blob.ParsedDigest);

    /// <summary>Ranged downloads that ended in <see cref="FetchBlobFromAsync"/> (one stream) because the server did not honour ranges.</summary>
    public long RangeFallbacks => Interlocked.Read(ref _rangeFallbacks);

    /// <summary>Blobs downloaded with parallel ranges.</summary>
    public long RangedBlobs => Interlocked.Read(ref _rangedBlobs);

    private long _rangeFallbacks;
    private long _rangedBlobs;

    /// <summary>
    /// Blob streams of this client now (<see cref="RegistryOptions.MaxBlobStreams"/>): one-stream downloads, and range
    /// workers, each counted from when it is started until it stops, between its pieces too.
    /// </summary>
    private int _blobStreams;
    private int _peakBlobStreams;

    /// <summary>The most blob streams this client has had at once (tests check the budget with it).</summary>
    internal int PeakBlobStreams => Volatile.Read(ref _peakBlobStreams);

    private void StreamOpened()
    {
        int now = Interlocked.Increment(ref _blobStreams);
        for (int peak = Volatile.Read(ref _peakBlobStreams); now > peak; peak = Volatile.Read(ref _peakBlobStreams))
        {
            if (Interlocked.CompareExchange(ref _peakBlobStreams, now, peak) == peak) break;
        }
    }

    private void StreamClosed() => Interlocked.Decrement(ref _blobStreams);

    /// <summary>Room for one more range worker beside the streams counted now (the caller's own among them).</summary>
    private bool RoomForHelper() => Volatile.Read(ref _blobStreams) < Options.MaxBlobStreams;

    /// <summary>
    /// Downloads the blob in ranges; false when the server does not honour them (the caller streams it instead). One worker
    /// always runs; helpers join (up to <see cref="RegistryOptions.ParallelRanges"/> in all) while the client has room for
    /// another stream (<see cref="RegistryOptions.MaxBlobStreams"/>) and leave between pieces when it has none. A worker
    /// alone that no helper can join claims <see cref="LoneClaimChunks"/> pieces in one request.
    /// </summary>
    private async Task<bool> TryFetchRangedAsync(RegistryEndpoint ep, ImageReference image, Descriptor blob, OciLayout layout, IProgress<long>? progress, int attempts, CancellationToken cancellationToken)
    {
        var digest = blob.ParsedDigest;
        long size = blob.Size, chunk = Options.RangeChunkSize;
        int chunks = (int)((size + chunk - 1) / chunk);
        await using var ingest = layout.BeginRangedIngest(digest, size, Options.HashRangesWhileDownloading);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var gate = new object();
        var tasks = new List<Task>();
        int workers = 1, next;
        long probeTo;
        HttpResponseMessage? probe;
        StreamOpened(); // the first worker's stream, from the probe on
        try
        {
            next = RoomForHelper() ? 1 : Math.Min(LoneClaimChunks, chunks);
            probeTo = Math.Min(next * chunk, size) - 1;
            probe = await OpenRangeAsync(ep, image, digest, size, 0, probeTo, attempts, cts.Token).ConfigureAwait(false);
        }
        catch
        {
            StreamClosed();
            throw;
        }
        if (probe is null)
        {
            StreamClosed();
            _logger?.LogDebug("{Endpoint} does not honour Range requests for {Digest}; downloading it in one stream", ep, digest);
            Interlocked.Increment(ref _rangeFallbacks);
            return false;
        }
        long received = 0;
        void Received(int n) => progress?.Report(Interlocked.Add(ref received, n));

        // The next pieces for a worker, [from, to]; null when none are left, or when a helper has no room to stay. A claim
        // with room for one more stream starts a helper, counted from here so that no other claim counts on its room.
        (long From, long To)? Claim(bool helper)
        {
            lock (gate)
            {
                if (next >= chunks || (helper && Volatile.Read(ref _blobStreams) > Options.MaxBlobStreams))
                {
                    workers--;
                    return null;
                }
                bool room = RoomForHelper();
                int take = workers == 1 && !room ? Math.Min(LoneClaimChunks, chunks - next) : 1;
                long from = next * chunk;
                next += take;
                if (room && next < chunks && workers < Options.ParallelRanges)
                {
                    workers++;
                    StreamOpened();
                    tasks.Add(Task.Run(() => WorkerAsync(null, helper: true))); // no token: a cancelled run still ends in its finally
                }
                return (from, Math.Min(next * chunk, size) - 1);
            }
        }

        // Runs with its stream counted; gives it back when it stops.
        async Task WorkerAsync(HttpResponseMessage? first, bool helper)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(RangeBufferSize);
            try
            {
                if (first is not null) await FetchRangeAsync(ep, image, digest, ingest, 0, probeTo, first, buffer, Received, attempts, cts.Token).ConfigureAwait(false);
                while (Claim(helper) is var (from, to))
                {
                    await FetchRangeAsync(ep, image, digest, ingest, from, to, null, buffer, Received, attempts, cts.Token).ConfigureAwait(false);
                }
            }
            catch
            {
                cts.Cancel(); // one piece failed for good: stop the others
                throw;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                StreamClosed();
            }
        }

        var owner = WorkerAsync(probe, helper: false); // runs until its first wait, and may start helpers meanwhile
        lock (gate) tasks.Add(owner);
        // Helpers are added while workers run: wait until a snapshot of the workers is all there is, each of them stopped.
        Task[] all;
        while (true)
        {
            lock (gate) all = tasks.ToArray();
            try
            {
                await Task.WhenAll(all).ConfigureAwait(false);
            }
            catch
            {
                // Inspected below, once every worker has stopped.
            }
            lock (gate)
            {
                if (tasks.Count == all.Length) break;
            }
        }
        if (all.Any(t => !t.IsCompletedSuccessfully))
        {
            if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException(cancellationToken);
            // Report the cause, not the cancellations it caused in the other workers.
            var cause = all.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (cause is RangesNotHonoredException rn)
            {
                _logger?.LogDebug("{Endpoint}: {Reason}; downloading {Digest} in one stream", ep, rn.Message, digest);
                Interlocked.Increment(ref _rangeFallbacks);
                return false;
            }
            if (cause is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
            await all.First(t => !t.IsCompletedSuccessfully).ConfigureAwait(false);
        }
        try
        {
            await ingest.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SealerException ex) when (ex.Code == ErrorCodes.DigestMismatch)
        {
            // Every piece came back as the range asked for, yet the whole does not match: a server that serves ranges wrong.
            // One stream is what every registry gets right; it is verified again.
            _logger?.LogWarning("Blob {Digest} of {Image} put together from ranges of {Endpoint} does not match its digest; downloading it in one stream", digest, image, ep);
            Interlocked.Increment(ref _rangeFallbacks);
            return false;
        }
        Interlocked.Increment(ref _rangedBlobs);
        return true;
    }

    /// <summary>GETs bytes [<paramref name="from"/>, <paramref name="to"/>]; null when the server answers anything but exactly that range.</summary>
    private async Task<HttpResponseMessage?> OpenRangeAsync(RegistryEndpoint ep, ImageReference image, Digest digest, long size, long from, long to, int attempts, CancellationToken cancellationToken)
    {
        var resp = await SendAsync(() =>
        {
            var req = new HttpRequestMessage(HttpMethod.Get, ep.Url(image.Repository, "blobs", digest.ToString()));
            req.Headers.Range = new RangeHeaderValue(from, to);
            return req;
        }, ep, Scope(image), image.ToString(), attempts, cancellationToken, streaming: true).ConfigureAwait(false);
        if (resp.StatusCode == HttpStatusCode.PartialContent)
        {
            var range = resp.Content.Headers.ContentRange;
            if (range is { From: long f, To: long t } && f == from && t == to && (range.Length is null || range.Length == size)) return resp;
        }
        else if (resp.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.RequestedRangeNotSatisfiable) && !resp.IsSuccessStatusCode)
        {
            using (resp) throw await ErrorAsync(resp, image, ep, isBlob: true, cancellationToken, digest).ConfigureAwait(false);
        }
        resp.Dispose();
        return null;
    }

    /// <summary>Fetches one piece into the ingest; a dropped connection resumes from the last byte received (up to <paramref name="attempts"/> failures).</summary>
    private async Task FetchRangeAsync(RegistryEndpoint ep, ImageReference image, Digest digest, RangedBlobIngest ingest, long from, long to,
        HttpResponseMessage? opened, byte[] buffer, Action<int> received, int attempts, CancellationToken cancellationToken)
    {
        long pos = from;
        int failures = 0;
        while (pos <= to)
        {
            var resp = opened ?? await OpenRangeAsync(ep, image, digest, ingest.Size, pos, to, attempts, cancellationToken).ConfigureAwait(false)
                ?? throw new RangesNotHonoredException($"bytes {pos}-{to} were not answered as that range");
            opened = null;
            using (resp)
            {
                try
                {
                    var body = await resp.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    await using var stalling = new StallTimeoutStream(body, Options.StallTimeout, n => Interlocked.Add(ref _bytes, n));
                    int n;
                    while ((n = await stalling.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, to + 1 - pos)), cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        await ingest.WriteAsync(pos, buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                        ingest.MarkWritten(pos, n);
                        pos += n;
                        received(n);
                        if (pos > to) break;
                    }
                }
                catch (Exception ex) when (IsTransient(ex, cancellationToken))
                {
                    if (++failures >= attempts)
                    {
                        throw new SealerException(ex is TimeoutException ? ErrorCodes.RegistryTimeout : ErrorCodes.RegistryUnreachable,
                            $"{image}: bytes {pos}-{to} of blob {digest} from {ep} were interrupted {failures} times ({ex.Message}). Check the network and run again.", inner: ex);
                    }
                    _logger?.LogDebug("Range {From}-{To} of {Digest} interrupted at {Pos} ({Error}); resuming", from, to, digest, pos, ex.Message);
                    await DelayAsync(failures, null, cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }
            if (pos <= to)
            {
                if (++failures >= attempts)
                {
                    throw new SealerException(ErrorCodes.RegistryUnreachable, $"{image}: {ep} ended bytes {from}-{to} of blob {digest} early {failures} times (at {pos}). Run again.");
                }
                await DelayAsync(failures, null, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
