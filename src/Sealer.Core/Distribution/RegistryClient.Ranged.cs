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
/// Parallel ranged blob downloads: a big blob is cut into <see cref="RegistryOptions.RangeChunkSize"/> pieces that
/// <see cref="RegistryOptions.ParallelRanges"/> workers GET with <c>Range</c> headers and write at their offsets into one
/// <see cref="RangedBlobIngest"/> (hashed in order as the written prefix grows, verified before it is renamed into the
/// cache). The first piece is the probe: a server that answers it with 200 (Range ignored), or that answers any piece with
/// another range than asked, gets the one-stream download instead; one whose pieces do not add up to the digest is caught
/// by the digest check and gets the one-stream download too. A piece whose connection drops resumes from its last byte.
/// </summary>
public sealed partial class RegistryClient
{
    private const int RangeBufferSize = 1 << 18;

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

    /// <summary>Downloads the blob with parallel ranges; false when the server does not honour them (the caller streams it instead).</summary>
    private async Task<bool> TryFetchRangedAsync(RegistryEndpoint ep, ImageReference image, Descriptor blob, OciLayout layout, IProgress<long>? progress, int attempts, CancellationToken cancellationToken)
    {
        var digest = blob.ParsedDigest;
        long size = blob.Size, chunk = Options.RangeChunkSize;
        int chunks = (int)((size + chunk - 1) / chunk);
        await using var ingest = layout.BeginRangedIngest(digest, size, Options.HashRangesWhileDownloading);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var probe = await OpenRangeAsync(ep, image, digest, size, 0, Math.Min(chunk, size) - 1, attempts, cts.Token).ConfigureAwait(false);
        if (probe is null)
        {
            _logger?.LogDebug("{Endpoint} does not honour Range requests for {Digest}; downloading it in one stream", ep, digest);
            Interlocked.Increment(ref _rangeFallbacks);
            return false;
        }
        long received = 0;
        int next = 1;
        void Received(int n) => progress?.Report(Interlocked.Add(ref received, n));

        async Task WorkerAsync(HttpResponseMessage? first)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(RangeBufferSize);
            try
            {
                if (first is not null) await FetchRangeAsync(ep, image, digest, ingest, 0, Math.Min(chunk, size) - 1, first, buffer, Received, attempts, cts.Token).ConfigureAwait(false);
                int i;
                while ((i = Interlocked.Increment(ref next) - 1) < chunks)
                {
                    long start = i * chunk;
                    await FetchRangeAsync(ep, image, digest, ingest, start, Math.Min(start + chunk, size) - 1, null, buffer, Received, attempts, cts.Token).ConfigureAwait(false);
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
            }
        }

        var workers = new List<Task> { WorkerAsync(probe) };
        for (int w = 1; w < Math.Min(Options.ParallelRanges, chunks); w++) workers.Add(Task.Run(() => WorkerAsync(null), cts.Token));
        try
        {
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        catch when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch
        {
            // Report the cause, not the cancellations it caused in the other workers.
            var cause = workers.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (cause is RangesNotHonoredException rn)
            {
                _logger?.LogDebug("{Endpoint}: {Reason}; downloading {Digest} in one stream", ep, rn.Message, digest);
                Interlocked.Increment(ref _rangeFallbacks);
                return false;
            }
            if (cause is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
            throw;
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
