using System.Net;
using System.Net.Http.Headers;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.Distribution.Upload;

/// <summary>How a blob reached the registry.</summary>
public enum BlobOutcome
{
    /// <summary>HEAD found it already there.</summary>
    Existed,

    /// <summary>Mounted from another repository of the same registry, no bytes sent.</summary>
    Mounted,

    /// <summary>Uploaded (monolithic or chunked, possibly resumed).</summary>
    Uploaded,
}

/// <summary>
/// The blob upload operations of the distribution spec on one repository: HEAD to skip, cross-repository mount,
/// monolithic PUT for small blobs, chunked PATCH with <c>Content-Range</c> for large ones, and resume of an interrupted
/// upload from the registry's <c>Range</c> (GET on the upload URL). The registry checks the digest at the final PUT.
/// </summary>
public sealed class BlobUploader
{
    private readonly RegistryTransport _transport;
    private readonly string _repository;
    private readonly PushOptions _options;
    private readonly string _scope;

    public BlobUploader(RegistryTransport transport, string repository, PushOptions options)
    {
        _transport = transport;
        _repository = repository;
        _options = options;
        _scope = $"repository:{repository}:pull,push";
    }

    /// <summary>Requests sent, by kind (HEAD, POST, PATCH, PUT, GET), for diagnostics and tests.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> RequestCounts { get; } = new(StringComparer.Ordinal);

    /// <summary>True when the registry has the blob (HEAD 200 with the right size).</summary>
    public async Task<bool> ExistsAsync(Descriptor blob, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, _transport.Resolve($"v2/{_repository}/blobs/{blob.Digest}")), _scope, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.OK) return response.Content.Headers.ContentLength is null || response.Content.Headers.ContentLength == blob.Size;
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        throw Failed(blob, "checking whether it exists", response);
    }

    /// <summary>
    /// Puts one blob of <paramref name="layout"/> (a layout's file, or a region of an archive read in place) into the
    /// repository. <paramref name="sent"/> gets bytes as they go.
    /// </summary>
    public async Task<BlobOutcome> PushAsync(IBlobSource layout, Descriptor blob, IReadOnlyList<string> mountFrom, Action<long>? sent = null, CancellationToken cancellationToken = default)
    {
        try
        {
            return await PushBlobAsync(layout, blob, mountFrom, sent, cancellationToken).ConfigureAwait(false);
        }
        catch (SealerException ex) when (ex.Code == ErrorCodes.PushDigestMismatch && !layout.BlobsVerified)
        {
            // An archive's blobs are checked by whoever reads them: here the registry did, and refused it.
            throw new SealerException(ErrorCodes.ArchiveBlobCorrupt,
                $"'{layout.Name}': blob {blob.Digest} is corrupt (registry {_transport.Registry} found that its content does not hash to its name). The archive was damaged in transit; copy it again. The image's tag was not pushed.", layout.Name, inner: ex);
        }
    }

    private async Task<BlobOutcome> PushBlobAsync(IBlobSource layout, Descriptor blob, IReadOnlyList<string> mountFrom, Action<long>? sent, CancellationToken cancellationToken)
    {
        if (await ExistsAsync(blob, cancellationToken).ConfigureAwait(false)) return BlobOutcome.Existed;

        string? location = null;
        foreach (var from in mountFrom.Where(f => f != _repository).Distinct(StringComparer.Ordinal))
        {
            HttpResponseMessage response;
            try
            {
                response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post,
                    _transport.Resolve($"v2/{_repository}/blobs/uploads/?mount={Uri.EscapeDataString(blob.Digest)}&from={Uri.EscapeDataString(from)}")) { Content = Empty() },
                $"{_scope} repository:{from}:pull", TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            }
            catch (SealerException)
            {
                continue; // no access to the source repository (or a refused mount): upload instead
            }
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Created) return BlobOutcome.Mounted;
                if (response.StatusCode == HttpStatusCode.Accepted && response.Headers.Location is not null)
                {
                    location = response.Headers.Location.OriginalString;
                    break; // the registry opened an ordinary upload instead; use it
                }
            }
            // Anything else (e.g. 404 for the source): fall back to an upload.
        }

        var at = layout.Locate(blob.ParsedDigest); // its size was checked by the graph walk (ImageGraph.Load)
        var session = new UploadSession { Location = location };
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                session.Location ??= await StartAsync(blob, cancellationToken).ConfigureAwait(false);
                if ((blob.Size <= _options.MonolithicThreshold || _chunkedRefused) && attempt == 0)
                {
                    await PutMonolithicAsync(at, blob, session.Location, sent, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    long offset = attempt == 0 ? 0 : await UploadedSoFarAsync(session.Location, blob, cancellationToken).ConfigureAwait(false);
                    if (offset < 0)
                    {
                        // The session is gone, or the registry cannot continue it (distribution refuses a session whose
                        // stored size differs from its signed state, as after a cut in the middle of a chunk): start over.
                        session.Location = await StartAsync(blob, cancellationToken).ConfigureAwait(false);
                        offset = 0;
                        Interlocked.Increment(ref _restarts);
                    }
                    else if (attempt > 0)
                    {
                        Interlocked.Increment(ref _resumes);
                    }
                    try
                    {
                        await PatchFromAsync(at, blob, session, offset, sent, cancellationToken).ConfigureAwait(false);
                    }
                    catch (SealerException ex) when (ex.Code == ErrorCodes.BlobUploadFailed && offset == 0 && !_chunkedRefused)
                    {
                        // Some registries (older Artifactory, some proxies) refuse PATCH with Content-Range: send it whole instead.
                        _chunkedRefused = true;
                        session.Location = await StartAsync(blob, cancellationToken).ConfigureAwait(false);
                        await PutMonolithicAsync(at, blob, session.Location, sent, cancellationToken).ConfigureAwait(false);
                        return BlobOutcome.Uploaded;
                    }
                    await FinishAsync(blob, session.Location, cancellationToken).ConfigureAwait(false);
                }
                return BlobOutcome.Uploaded;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken) && attempt < _options.MaxRetries)
            {
                // Resume: the next attempt asks the registry how much it has (GET upload URL → Range) and continues there.
                // A monolithic PUT that failed is retried as a chunked upload of the same session.
                await Task.Delay(TimeSpan.FromMilliseconds(200 * (1 << Math.Min(attempt, 5))), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                throw new SealerException(ErrorCodes.UploadRetriesExhausted,
                    $"Uploading blob {blob.Digest} to {_transport.Registry}/{_repository} failed {attempt + 1} times ({ex.Message}). Check the network and run the push again; finished blobs are skipped.", inner: ex);
            }
        }
    }

    private int _resumes, _restarts;
    private volatile bool _chunkedRefused;

    /// <summary>Uploads continued from the registry's Range after an interruption.</summary>
    public int Resumes => Volatile.Read(ref _resumes);

    /// <summary>Uploads started over because the registry could not continue them.</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    private sealed class UploadSession
    {
        public string? Location;
    }

    private static bool IsTransient(Exception ex, CancellationToken cancellationToken)
        => !cancellationToken.IsCancellationRequested && (ex is HttpRequestException or IOException or TransientStatusException or OperationCanceledException
            || ex is SealerException { Code: ErrorCodes.RegistryUnreachable or ErrorCodes.RegistryTimeout });

    private async Task<string> StartAsync(Descriptor blob, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, _transport.Resolve($"v2/{_repository}/blobs/uploads/")) { Content = Empty() },
            _scope, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) throw RepositoryMissing((await SafeBodyAsync(response).ConfigureAwait(false)).Trim());
        if (response.StatusCode != HttpStatusCode.Accepted) throw Failed(blob, "starting its upload", response);
        return LocationOf(response, blob);
    }

    private async Task PutMonolithicAsync(BlobLocation at, Descriptor blob, string location, Action<long>? sent, CancellationToken cancellationToken)
    {
        long reported = 0;
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob))
        {
            Content = new FileSliceContent(at.Path, at.Offset, blob.Size, n => { reported += n; sent?.Invoke(n); }),
        }, _scope, OperationTimeout(blob.Size), cancellationToken, onFailure: () => { sent?.Invoke(-reported); reported = 0; }).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            sent?.Invoke(-reported);
            throw Failed(blob, "uploading it", response);
        }
    }

    /// <summary>GET on the upload URL: the registry's <c>Range: 0-N</c> says N+1 bytes arrived. -1 when the session is gone.</summary>
    private async Task<long> UploadedSoFarAsync(string location, Descriptor blob, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, _transport.Resolve(location)), _scope, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest) return -1;
        if (response.StatusCode != HttpStatusCode.NoContent) throw Failed(blob, "asking how much of it arrived", response);
        return ParseRangeEnd(response) + 1;
    }

    private static long ParseRangeEnd(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Range", out var values)) return -1;
        string v = values.First().Trim();
        if (v.StartsWith("bytes=", StringComparison.Ordinal)) v = v[6..];
        int dash = v.IndexOf('-');
        return dash > 0 && long.TryParse(v[(dash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var end) ? end : -1;
    }

    private async Task PatchFromAsync(BlobLocation at, Descriptor blob, UploadSession session, long offset, Action<long>? sent, CancellationToken cancellationToken)
    {
        string location = session.Location!;
        while (offset < blob.Size)
        {
            long length = Math.Min(_options.ChunkSize, blob.Size - offset);
            long start = offset;
            long reported = 0;
            string current = location;
            using var response = await SendAsync(() =>
            {
                var content = new FileSliceContent(at.Path, at.Offset + start, length, n => { reported += n; sent?.Invoke(n); });
                content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + length - 1}");
                return new HttpRequestMessage(HttpMethod.Patch, _transport.Resolve(current)) { Content = content };
            }, _scope, OperationTimeout(length), cancellationToken, onFailure: () => { sent?.Invoke(-reported); reported = 0; }).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                sent?.Invoke(-reported);
                throw new TransientStatusException($"the registry did not accept the range starting at {start}");
            }
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                sent?.Invoke(-reported);
                throw Failed(blob, $"sending bytes {start}-{start + length - 1}", response);
            }
            location = LocationOf(response, blob);
            session.Location = location; // the newest signed state: what a resume must continue from
            long end = ParseRangeEnd(response);
            offset = end >= 0 ? end + 1 : start + length;
        }
    }

    private async Task FinishAsync(Descriptor blob, string location, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob)) { Content = Empty() },
            _scope, TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created) return;
        throw Failed(blob, "finishing its upload", response);
    }

    private Uri WithDigest(string location, Descriptor blob)
        => _transport.Resolve(location + (location.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(blob.Digest));

    private string LocationOf(HttpResponseMessage response, Descriptor blob)
        => response.Headers.Location?.OriginalString ?? throw Failed(blob, "starting its upload (no Location header)", response);

    private static TimeSpan OperationTimeout(long bytes) => TimeSpan.FromSeconds(120 + bytes / (1024 * 1024)); // at least 1 MiB/s

    internal async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, string scope, TimeSpan timeout, CancellationToken cancellationToken, Action? onFailure = null, bool retry = true)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            response = await _transport.SendAsync(() =>
            {
                var r = create();
                RequestCounts.AddOrUpdate(r.Method.Method, 1, (_, n) => n + 1);
                return r;
            }, scope, retry && onFailure is null, cts.Token).ConfigureAwait(false);
        }
        catch (Exception) when (onFailure is not null)
        {
            onFailure();
            throw;
        }
        if ((int)response.StatusCode is >= 500 or 429 || response.StatusCode == HttpStatusCode.RequestTimeout)
        {
            string body = await SafeBodyAsync(response).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            response.Dispose();
            onFailure?.Invoke();
            throw new TransientStatusException($"HTTP {status} {body}");
        }
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            int status = (int)response.StatusCode;
            response.Dispose();
            onFailure?.Invoke();
            throw new SealerException(ErrorCodes.PushUnauthorized,
                $"Registry {_transport.Registry} refused to let us push to '{_repository}' (HTTP {status}). Log in with an account that may push there (docker login {_transport.Registry}, or SEALER_REGISTRY_USER/SEALER_REGISTRY_PASSWORD).");
        }
        return response;
    }

    internal static async Task<string> SafeBodyAsync(HttpResponseMessage response)
    {
        try
        {
            string body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            return body.Length > 500 ? body[..500] : body;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return "";
        }
    }

    private SealerException Failed(Descriptor blob, string doing, HttpResponseMessage response, string? body = null)
    {
        body ??= SafeBodyAsync(response).GetAwaiter().GetResult();
        if (response.StatusCode == HttpStatusCode.BadRequest && body.Contains("DIGEST_INVALID", StringComparison.Ordinal))
        {
            // The registry hashed what arrived (a monolithic PUT, or the chunks at the final PUT) and refused it.
            return new SealerException(ErrorCodes.PushDigestMismatch,
                $"Registry {_transport.Registry} computed another digest than {blob.Digest} for the uploaded blob. The local blob may be corrupt: run 'sealer prune' and rebuild or re-pull the image.");
        }
        return new SealerException(ErrorCodes.BlobUploadFailed,
            $"Registry {_transport.Registry} refused blob {blob.Digest} of '{_repository}' while {doing}: HTTP {(int)response.StatusCode} {body.Trim()}. Check that the registry accepts pushes of this size and media type.");
    }

    /// <summary>404 to the start of an upload: distribution creates a repository on its first push, Harbor, Artifactory,
    /// Nexus and GitLab do not (a Harbor project is the path's first component and must exist).</summary>
    private SealerException RepositoryMissing(string body)
    {
        int slash = _repository.IndexOf('/');
        string project = slash > 0 ? _repository[..slash] : _repository;
        string where = slash > 0
            ? $"On Harbor '{project}' is the project: create it (Projects > New Project, or POST /api/v2.0/projects with {{\"project_name\":\"{project}\"}}) or push under a project that exists"
            : $"On Harbor a repository must be under a project ('PROJECT/{_repository}'): push under a project that exists";
        return new SealerException(ErrorCodes.PushRepositoryMissing,
            $"Registry {_transport.Registry} has no repository '{_repository}' to push into and does not create one (HTTP 404 starting an upload{(body.Length > 0 ? ": " + body : "")}). " +
            $"{where}; on Artifactory, Nexus or GitLab set the repository up first. Check the destination's host and path too.");
    }

    private static ByteArrayContent Empty()
    {
        var c = new ByteArrayContent([]);
        c.Headers.ContentLength = 0;
        return c;
    }
}

/// <summary>A status that is worth retrying (5xx, 429, 408, 416 on resume).</summary>
internal sealed class TransientStatusException(string message) : Exception(message);

/// <summary>Streams a slice of a file as a request body with a known Content-Length, reporting bytes as they go.</summary>
internal sealed class FileSliceContent : HttpContent
{
    private readonly string _path;
    private readonly long _offset;
    private readonly long _length;
    private readonly Action<long>? _progress;

    public FileSliceContent(string path, long offset, long length, Action<long>? progress)
    {
        _path = path;
        _offset = offset;
        _length = length;
        _progress = progress;
        Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        Headers.ContentLength = length;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        file.Position = _offset;
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long left = _length;
            while (left > 0)
            {
                int n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new IOException($"'{_path}' is shorter than expected");
                await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                left -= n;
                _progress?.Invoke(n);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
