using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Auth;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Distribution;

/// <summary>A manifest or index as served, with its verified digest and the endpoint that served it (null when read from a local cache).</summary>
public sealed record ManifestResponse(byte[] Content, string MediaType, Digest Digest, RegistryEndpoint? Endpoint)
{
    public Descriptor Descriptor => new() { MediaType = MediaType, Digest = Digest.ToString(), Size = Content.Length };

    public bool IsIndex => MediaTypes.IsIndex(MediaType);
}

/// <summary>
/// A client for the OCI distribution API (pulls; pushes are <c>Upload/RegistryPusher</c> over <c>Upload/RegistryTransport</c>, on this client's auth): anonymous, Basic and Bearer-token auth from the
/// registry's challenge, mirrors with fallback, retries with exponential backoff (honouring Retry-After) on 429/5xx and
/// connection failures, resumable verified blob downloads into an <see cref="OciLayout"/>, a stall timeout on reads,
/// redirects followed without sending credentials to another host. Thread-safe; share one per build.
/// </summary>
public sealed partial class RegistryClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Lazy<HttpClient> _insecureHttp;
    private readonly bool _ownsHandler;
    private readonly ILogger? _logger;
    private readonly RegistryAuthenticator _auth;
    private readonly ConcurrentDictionary<string, string> _preferred = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RegistryEndpoint> _schemes = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, (RateLimit Limit, string Endpoint)> _limits = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, HostHold> _held = new(StringComparer.OrdinalIgnoreCase);
    private long _requests;
    private long _bytes;

    /// <param name="options">Mirrors, insecure registries, credentials, timeouts; default: credentials from the environment and Docker config.</param>
    /// <param name="logger">Debug logging of retries and endpoint choices (never secrets).</param>
    /// <param name="handler">For tests that need faults a real registry cannot produce; normally null.</param>
    public RegistryClient(RegistryOptions? options = null, ILogger? logger = null, HttpMessageHandler? handler = null)
    {
        Options = options ?? new RegistryOptions();
        _logger = logger;
        _ownsHandler = handler is null;
        _http = new HttpClient(handler ?? CreateHandler(verifyTls: true), disposeHandler: handler is null) { Timeout = Timeout.InfiniteTimeSpan };
        _insecureHttp = new Lazy<HttpClient>(() => handler is null
            ? new HttpClient(CreateHandler(verifyTls: false)) { Timeout = Timeout.InfiniteTimeSpan }
            : _http);
        _auth = new RegistryAuthenticator(this, Options.Credentials, logger);
    }

    public RegistryOptions Options { get; }

    /// <summary>HTTP requests sent so far (including token requests and redirects).</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    /// <summary>Blob bytes received so far.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytes);

    private static SocketsHttpHandler CreateHandler(bool verifyTls)
    {
        var h = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            MaxConnectionsPerServer = 64,
            UseCookies = false,
        };
        if (!verifyTls) h.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = static (_, _, _, _) => true };
        return h;
    }

    private static string Scope(ImageReference image) => $"repository:{image.Repository}:pull";

    // ---------------------------------------------------------------- manifests

    /// <summary>
    /// GETs a manifest or index (Accept: every manifest type) by tag or digest (default: the reference's digest, else tag),
    /// trying mirrors first. The content is verified against the digest asked for, or the one the registry announces.
    /// </summary>
    public Task<ManifestResponse> GetManifestAsync(ImageReference image, string? reference = null, CancellationToken cancellationToken = default)
    {
        string target = reference ?? image.ManifestReference;
        return OnEndpointsAsync(image, (ep, attempts) => GetManifestFromAsync(ep, image, target, attempts, cancellationToken), cancellationToken);
    }

    /// <summary>HEADs a manifest: its descriptor (media type, digest, size) without the body. Falls back to GET when the registry omits the digest.</summary>
    public Task<Descriptor> HeadManifestAsync(ImageReference image, string? reference = null, CancellationToken cancellationToken = default)
    {
        string target = reference ?? image.ManifestReference;
        return OnEndpointsAsync(image, async (ep, attempts) =>
        {
            using var resp = await SendAsync(() => ManifestRequest(HttpMethod.Head, ep, image, target), ep, Scope(image), image.ToString(), attempts, cancellationToken).ConfigureAwait(false);
            if (!resp.IsSuccessStatusCode) throw await ErrorAsync(resp, image, ep, isBlob: false, cancellationToken).ConfigureAwait(false);
            string? mt = resp.Content.Headers.ContentType?.MediaType;
            if (resp.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var d)
                && resp.Content.Headers.ContentLength is long len && MediaTypes.AllManifests.Contains(mt))
            {
                return new Descriptor { MediaType = mt!, Digest = d.ToString(), Size = len };
            }
            var full = await GetManifestFromAsync(ep, image, target, attempts, cancellationToken).ConfigureAwait(false);
            return full.Descriptor;
        }, cancellationToken);
    }

    private static HttpRequestMessage ManifestRequest(HttpMethod method, RegistryEndpoint ep, ImageReference image, string reference)
    {
        var req = new HttpRequestMessage(method, ep.Url(image.Repository, "manifests", reference));
        foreach (var mt in MediaTypes.AllManifests) req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mt));
        return req;
    }

    private async Task<ManifestResponse> GetManifestFromAsync(RegistryEndpoint ep, ImageReference image, string reference, int attempts, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            using var resp = await SendAsync(() => ManifestRequest(HttpMethod.Get, ep, image, reference), ep, Scope(image), image.ToString(), attempts, cancellationToken).ConfigureAwait(false);
            if (!resp.IsSuccessStatusCode) throw await ErrorAsync(resp, image, ep, isBlob: false, cancellationToken).ConfigureAwait(false);
            byte[] body;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(Options.RequestTimeout);
                body = await ReadLimitedAsync(resp, OciLimits.MaxManifestBytes, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken) && attempt < attempts)
            {
                await DelayAsync(attempt, null, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                throw new SealerException(ErrorCodes.RegistryUnreachable, $"{image}: reading the manifest from {ep} failed {attempts} times ({ex.Message}). Check the network and run again.", inner: ex);
            }
            string mediaType = NormalizeMediaType(resp.Content.Headers.ContentType?.MediaType, body, image, ep);
            Digest digest;
            if (Digest.TryParse(reference, out var asked))
            {
                digest = asked;
                VerifyManifest(body, asked, image, ep, "asked for");
            }
            else
            {
                digest = Digest.Sha256(body);
                if (resp.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var announced))
                {
                    if (announced.Algorithm == "sha256" && announced != digest || announced.Algorithm != "sha256" && !Matches(body, announced))
                    {
                        throw new SealerException(ErrorCodes.ManifestDigestMismatch, $"{image}: {ep} announced manifest digest {announced} but sent content with digest {digest}. The registry or a proxy alters content; refusing it.");
                    }
                }
            }
            return new ManifestResponse(body, mediaType, digest, ep);
        }
    }

    private static bool Matches(byte[] body, Digest d)
    {
        using var h = d.CreateHash();
        h.AppendData(body);
        return Digest.FromHash(d.Algorithm, h.GetHashAndReset()) == d;
    }

    private static void VerifyManifest(byte[] body, Digest expected, ImageReference image, RegistryEndpoint ep, string what)
    {
        if (!Matches(body, expected))
        {
            throw new SealerException(ErrorCodes.ManifestDigestMismatch, $"{image}: {ep} sent a manifest whose content does not match the digest {expected} {what}. Refusing it.");
        }
    }

    private static string NormalizeMediaType(string? header, byte[] body, ImageReference image, RegistryEndpoint ep)
    {
        if (MediaTypes.AllManifests.Contains(header)) return header!;
        ManifestProbe probe;
        try { probe = System.Text.Json.JsonSerializer.Deserialize(body, OciJsonContext.Default.ManifestProbe) ?? new ManifestProbe(); }
        catch (System.Text.Json.JsonException ex) { throw new SealerException(ErrorCodes.UnsupportedManifest, $"{image}: {ep} served a manifest that is not JSON ({ex.Message}).", inner: ex); }
        if (probe.SchemaVersion == 1 || (header?.Contains("v1+", StringComparison.Ordinal) ?? false))
        {
            throw new SealerException(ErrorCodes.UnsupportedManifest, $"{image}: {ep} serves a Docker schema 1 manifest, which is deprecated and unsupported. Rebuild or re-push the image with a current tool.");
        }
        if (MediaTypes.AllManifests.Contains(probe.MediaType)) return probe.MediaType!;
        if (probe.Manifests is not null) return MediaTypes.OciIndex;
        if (probe.Config is not null) return MediaTypes.OciManifest;
        throw new SealerException(ErrorCodes.UnsupportedManifest, $"{image}: {ep} served content of type '{header}' that is neither an image manifest nor an index.");
    }

    /// <summary>
    /// Every tag of the image's repository (tags list API, following <c>Link: rel="next"</c> pages), mirrors first.
    /// A repository the registry does not know is an empty list.
    /// </summary>
    public Task<IReadOnlyList<string>> ListTagsAsync(ImageReference image, CancellationToken cancellationToken = default)
        => OnEndpointsAsync<IReadOnlyList<string>>(image, async (ep, attempts) =>
        {
            var tags = new List<string>();
            var url = ep.Url(image.Repository, "tags", "list");
            for (int page = 0; page < 1000; page++)
            {
                var current = url;
                using var resp = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, current), ep, Scope(image), image.ToString(), attempts, cancellationToken).ConfigureAwait(false);
                if (resp.StatusCode == HttpStatusCode.NotFound) return tags;
                if (!resp.IsSuccessStatusCode) throw await ErrorAsync(resp, image, ep, isBlob: false, cancellationToken).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(Options.RequestTimeout);
                byte[] body = await ReadLimitedAsync(resp, OciLimits.MaxManifestBytes, timeout.Token).ConfigureAwait(false);
                TagListResponse? list;
                try { list = System.Text.Json.JsonSerializer.Deserialize(body, DistributionJsonContext.Default.TagListResponse); }
                catch (System.Text.Json.JsonException ex) { throw new SealerException(ErrorCodes.RegistryError, $"{image}: {ep} answered the tags list with something that is not JSON ({ex.Message}).", inner: ex); }
                tags.AddRange(list?.Tags ?? []);
                string? next = resp.Headers.TryGetValues("Link", out var links) ? links.Select(NextLink).FirstOrDefault(l => l is not null) : null;
                if (next is null) return tags;
                url = new Uri(url, next);
            }
            return tags;
        }, cancellationToken);

    private static string? NextLink(string link)
    {
        // <url>; rel="next"
        int lt = link.IndexOf('<'), gt = link.IndexOf('>');
        return lt >= 0 && gt > lt && link.Contains("rel=\"next\"", StringComparison.Ordinal) ? link[(lt + 1)..gt] : null;
    }

    // ---------------------------------------------------------------- blobs

    /// <summary>
    /// Downloads a blob into <paramref name="layout"/> unless it is there: resumes an earlier partial download with an HTTP
    /// Range, verifies size and digest while streaming, tries mirrors first. Returns false when it was already present.
    /// Blobs of <see cref="RegistryOptions.ParallelRangeThreshold"/> and more come in ranges (RegistryClient.Ranged.cs), in
    /// parallel while the client has room for more streams (<see cref="RegistryOptions.MaxBlobStreams"/>).
    /// <paramref name="progress"/> gets the blob's bytes so far (including bytes an earlier attempt left).
    /// </summary>
    public Task<bool> FetchBlobAsync(ImageReference image, Descriptor blob, OciLayout layout, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        if (layout.HasBlob(blob)) return Task.FromResult(false);
        return OnEndpointsAsync(image, async (ep, attempts) =>
        {
            // Big blobs come in parallel ranges when the server honours them; otherwise (and to resume a partial) in one stream.
            if (UseRanges(blob, layout) && await TryFetchRangedAsync(ep, image, blob, layout, progress, attempts, cancellationToken).ConfigureAwait(false)) return true;
            StreamOpened();
            try
            {
                await FetchBlobFromAsync(ep, image, blob, layout, progress, attempts, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                StreamClosed();
            }
            return true;
        }, cancellationToken);
    }

    private async Task FetchBlobFromAsync(RegistryEndpoint ep, ImageReference image, Descriptor blob, OciLayout layout, IProgress<long>? progress, int attempts, CancellationToken cancellationToken)
    {
        var digest = blob.ParsedDigest;
        await using var ingest = layout.BeginIngest(digest, blob.Size);
        if (layout.HasBlob(blob)) return; // another writer finished it meanwhile
        int failures = 0;
        bool refetchedCorrupt = false;
        while (true)
        {
            if (ingest.Offset == blob.Size)
            {
                try
                {
                    await ingest.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (SealerException ex) when (ex.Code is ErrorCodes.DigestMismatch or ErrorCodes.SizeMismatch && !refetchedCorrupt)
                {
                    // Corrupt in transit, or a bad partial from an earlier run: the ingest was emptied; fetch it whole once more.
                    refetchedCorrupt = true;
                    _logger?.LogWarning("Blob {Digest} of {Image} arrived corrupt; fetching it again", digest, image);
                    continue;
                }
            }
            long offset = ingest.Offset;
            var resp = await SendAsync(() =>
            {
                var req = new HttpRequestMessage(HttpMethod.Get, ep.Url(image.Repository, "blobs", digest.ToString()));
                if (offset > 0) req.Headers.Range = new RangeHeaderValue(offset, null);
                return req;
            }, ep, Scope(image), image.ToString(), attempts, cancellationToken, streaming: true).ConfigureAwait(false);
            using (resp)
            {
                if (resp.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                {
                    await ingest.ResetAsync(cancellationToken).ConfigureAwait(false);
                    if (++failures >= attempts) throw new SealerException(ErrorCodes.RegistryError, $"{image}: {ep} refused to resume blob {digest} (416) {failures} times.");
                    continue;
                }
                if (!resp.IsSuccessStatusCode) throw await ErrorAsync(resp, image, ep, isBlob: true, cancellationToken, digest).ConfigureAwait(false);
                if (resp.StatusCode == HttpStatusCode.PartialContent)
                {
                    var range = resp.Content.Headers.ContentRange;
                    if (offset == 0 || range?.From != offset)
                    {
                        await ingest.ResetAsync(cancellationToken).ConfigureAwait(false);
                        if (++failures >= attempts) throw new SealerException(ErrorCodes.RegistryError, $"{image}: {ep} answered a range other than the one asked for blob {digest}.");
                        continue;
                    }
                }
                else if (offset > 0)
                {
                    _logger?.LogDebug("{Endpoint} ignored the Range request for {Digest}; downloading it whole", ep, digest);
                    await ingest.ResetAsync(cancellationToken).ConfigureAwait(false);
                }
                else if (resp.Content.Headers.ContentLength is long cl && cl != blob.Size)
                {
                    throw new SealerException(ErrorCodes.SizeMismatch, $"{image}: {ep} serves blob {digest} with {cl} bytes, but the manifest says {blob.Size}. Refusing it.");
                }
                try
                {
                    var body = await resp.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    await using var stalling = new StallTimeoutStream(body, Options.StallTimeout, n => Interlocked.Add(ref _bytes, n));
                    await ingest.AppendAsync(stalling, progress, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsTransient(ex, cancellationToken))
                {
                    if (++failures >= attempts)
                    {
                        throw new SealerException(ex is TimeoutException ? ErrorCodes.RegistryTimeout : ErrorCodes.RegistryUnreachable,
                            $"{image}: the download of blob {digest} from {ep} was interrupted {failures} times ({ex.Message}); {ingest.Offset} of {blob.Size} bytes are kept. Run again to resume.", inner: ex);
                    }
                    _logger?.LogDebug("Download of {Digest} interrupted at {Offset}/{Size} ({Error}); resuming", digest, ingest.Offset, blob.Size, ex.Message);
                    await DelayAsync(failures, null, cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }
            if (ingest.Offset < blob.Size)
            {
                if (++failures >= attempts)
                {
                    throw new SealerException(ErrorCodes.RegistryUnreachable, $"{image}: {ep} ended blob {digest} early {failures} times ({ingest.Offset} of {blob.Size} bytes). Run again to resume.");
                }
                await DelayAsync(failures, null, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // ---------------------------------------------------------------- endpoints, retries, auth

    /// <summary>Runs <paramref name="op"/> on each endpoint of the image's domain (the one that worked last for this repository first) until one succeeds.</summary>
    private async Task<T> OnEndpointsAsync<T>(ImageReference image, Func<RegistryEndpoint, int, Task<T>> op, CancellationToken cancellationToken)
    {
        var endpoints = Options.EndpointsFor(image.Domain);
        string key = image.Name;
        if (_preferred.TryGetValue(key, out var pref))
        {
            endpoints = endpoints.OrderBy(e => e.BaseUri.ToString() == pref ? 0 : 1).ToList();
        }
        SealerException? first = null;
        for (int i = 0; i < endpoints.Count; i++)
        {
            var ep = endpoints[i];
            bool last = i == endpoints.Count - 1;
            // A mirror gets fewer attempts when something else can still be tried.
            int attempts = last ? Options.MaxAttempts : Math.Min(Options.MaxAttempts, 2);
            try
            {
                var result = await WithSchemeAsync(ep, attempts, op).ConfigureAwait(false);
                if (endpoints.Count > 1) _preferred[key] = ep.BaseUri.ToString();
                return result;
            }
            catch (SealerException ex) when (!last && ex.Code is not (ErrorCodes.DiskWriteFailed or ErrorCodes.InsecureRegistryNotAllowed))
            {
                _logger?.LogDebug("{Endpoint} failed for {Image} ({Code}: {Message}); trying the next endpoint", ep, image, ex.Code, ex.Message);
                first ??= ex;
            }
            catch (SealerException ex) when (first is not null && endpoints.All(e => e.IsMirror))
            {
                throw new SealerException(ex.Code, $"{ex.Message} (all mirrors of {image.Domain} failed; fallback to the source is off)", inner: ex);
            }
        }
        throw (Exception?)first ?? new InvalidOperationException("no endpoints");
    }

    /// <summary>
    /// Runs <paramref name="op"/> on the endpoint, over the scheme that worked before for its host; when the scheme was
    /// guessed and meets the other protocol (TLS against plain HTTP, or plain HTTP against TLS), tries the other scheme once
    /// and remembers the one that works.
    /// </summary>
    internal async Task<T> WithSchemeAsync<T>(RegistryEndpoint ep, int attempts, Func<RegistryEndpoint, int, Task<T>> op)
    {
        if (!ep.SchemeGuessed) return await op(ep, attempts).ConfigureAwait(false);
        if (_schemes.TryGetValue(ep.Authority, out var known)) return await op(ep with { BaseUri = known.BaseUri, SkipTlsVerify = known.SkipTlsVerify }, attempts).ConfigureAwait(false);
        try
        {
            var result = await op(ep, attempts).ConfigureAwait(false);
            _schemes.TryAdd(ep.Authority, ep);
            return result;
        }
        catch (SealerException ex) when (ex.Code == ErrorCodes.TlsFailure && !ep.IsPlainHttp || ex is WrongProtocolException)
        {
            var other = ep.WithOtherScheme();
            _logger?.LogDebug("{Endpoint} does not speak {Scheme}; trying {Other}", ep, ep.BaseUri.Scheme, other.BaseUri.Scheme);
            var result = await op(other, attempts).ConfigureAwait(false);
            _schemes[ep.Authority] = other;
            return result;
        }
    }

    /// <summary>A request not sent because its host is held (<see cref="RegistryOptions.UnreachableHold"/>): unreachable,
    /// unavailable (502/503/504) through every attempt, rate-limited until a reset no retry could wait for, refusing our
    /// credentials, or serving a certificate we do not trust. It names what found the host so, so that a pull can report the
    /// many images it stopped as one error.</summary>
    public sealed class HostHeldException(string endpoint, string image, string foundBy, string code, string detail, string message)
        : SealerException(code, message)
    {
        /// <summary>The endpoint as the messages name it (<c>http://127.0.0.1:5780 (mirror of docker.io)</c>).</summary>
        public string Endpoint { get; } = endpoint;

        /// <summary>The image whose request was not sent.</summary>
        public string Image { get; } = image;

        /// <summary>The image whose request found the host down.</summary>
        public string FoundBy { get; } = foundBy;

        public string Detail { get; } = detail;

        /// <summary>What the host did to <see cref="FoundBy"/>'s request, for messages: "could not be reached for", "did not
        /// answer in time for", "answered unavailable to", "refused the credentials sent for", "failed the TLS handshake for" or
        /// "rate-limited".</summary>
        public string Failed => FailedFor(Code);

        /// <summary>What the user can do about it, for messages.</summary>
        public string Hint => HintFor(Code);

        internal static string FailedFor(string code) => code switch
        {
            ErrorCodes.RegistryTimeout => "did not answer in time for",
            ErrorCodes.RateLimited => "rate-limited",
            ErrorCodes.RegistryError => "answered unavailable to",
            ErrorCodes.AuthenticationRefused => "refused the credentials sent for",
            ErrorCodes.TlsFailure => "failed the TLS handshake for",
            _ => "could not be reached for",
        };

        internal static string HintFor(string code) => code switch
        {
            ErrorCodes.RateLimited => "Log in to the registry (authenticated pulls get a higher limit), configure a mirror, or run again after the limit resets: what was pulled stays in the cache.",
            ErrorCodes.RegistryError => "The registry, or a proxy in front of it, is unavailable: check it or configure a mirror, then run again.",
            ErrorCodes.TlsFailure => "Install the registry's CA certificate in the system trust store, or, for a test registry only, list the host in SEALER_INSECURE_REGISTRIES / SealerInsecureRegistries.",
            ErrorCodes.AuthenticationRefused => "Fix the credentials (`docker login`, or the host's SEALER_REGISTRY_<HOST>_USER and _PASSWORD), then run again: they were not sent again for these images, as each refused login can count towards locking the account.",
            _ => "Check the network, DNS and proxy settings, or configure a reachable mirror, then run again.",
        };

        /// <summary>The held error behind <paramref name="ex"/> (itself or an inner one), if any.</summary>
        public static HostHeldException? In(Exception? ex)
        {
            for (; ex is not null; ex = ex.InnerException)
            {
                if (ex is HostHeldException h) return h;
            }
            return null;
        }
    }

    /// <summary>Plain HTTP sent to a TLS port (Go servers answer 400 "Client sent an HTTP request to an HTTPS server").</summary>
    private sealed class WrongProtocolException(string message) : SealerException(ErrorCodes.RegistryError, message);

    /// <summary>
    /// Sends a request to a registry endpoint with auth, redirects and retries: connection failures, timeouts, 429 and
    /// 5xx are retried up to <paramref name="attempts"/> times with exponential backoff (Retry-After honoured). A 401 is
    /// answered from the challenge once. The response is returned for the caller to interpret (it may be 4xx or, after the
    /// last attempt, 429/5xx). With <paramref name="streaming"/>, only the headers are under the request timeout.
    /// </summary>
    internal async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> make, RegistryEndpoint endpoint, string scope, string image, int attempts, CancellationToken cancellationToken, bool streaming = false)
    {
        int authRounds = 0;
        for (int attempt = 1; ; attempt++)
        {
            if (Held(endpoint, image) is { } held) throw held; // also ends the retries of requests already under way
            HttpResponseMessage resp;
            AuthenticationHeaderValue? sent;
            try
            {
                var req = make();
                sent = await _auth.GetAuthorizationAsync(endpoint, scope, cancellationToken).ConfigureAwait(false);
                req.Headers.Authorization = sent;
                resp = await SendFollowingRedirectsAsync(req, endpoint.SkipTlsVerify, image, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                if (attempt >= attempts)
                {
                    var error = NetworkError(ex, image, endpoint.ToString(), attempt);
                    if (IsHostDown(ex)) Hold(endpoint, image, attempt, error.Code, Detail(ex), Options.UnreachableHold);
                    throw error;
                }
                _logger?.LogDebug("{Endpoint}: {Error}; retry {Attempt}/{Attempts}", endpoint, ex.Message, attempt, attempts);
                await DelayAsync(attempt, null, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (HttpRequestException ex) when (IsTls(ex))
            {
                // A certificate we do not trust stays untrusted for the rest of the run: the host is held, so its other
                // images are one error. (Not while the scheme is still being guessed: WithSchemeAsync tries the other one.)
                if (!endpoint.SchemeGuessed) Hold(endpoint, image, attempt, ErrorCodes.TlsFailure, ex.InnerException?.Message ?? ex.Message, ForTheRun);
                throw TlsError(ex, image, endpoint);
            }
            if (resp.Headers.Contains("RateLimit-Remaining")) _limits[endpoint.SourceDomain] = (ReadRateLimit(resp), endpoint.ToString());
            if (resp.StatusCode == HttpStatusCode.BadRequest && endpoint.IsPlainHttp && endpoint.SchemeGuessed)
            {
                string text = await ErrorTextAsync(resp, cancellationToken, raw: true).ConfigureAwait(false);
                if (text.Contains("HTTPS server", StringComparison.OrdinalIgnoreCase))
                {
                    resp.Dispose();
                    throw new WrongProtocolException($"{image}: {endpoint} speaks TLS, not plain HTTP.");
                }
                // The body was read to tell; the caller reads it again (a push's DIGEST_INVALID): hand it over buffered.
                var mediaType = resp.Content.Headers.ContentType;
                resp.Content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(text));
                resp.Content.Headers.ContentType = mediaType;
            }
            if (resp.StatusCode == HttpStatusCode.Unauthorized && authRounds < 2)
            {
                authRounds++;
                bool again;
                try
                {
                    again = await _auth.HandleChallengeAsync(endpoint, scope, resp, sent, image, cancellationToken).ConfigureAwait(false);
                }
                catch (SealerException ex) when (ex.Code == ErrorCodes.AuthenticationRefused)
                {
                    // The token service refused the credentials themselves (not one repository's access).
                    await HoldRefusedAsync(endpoint, image, attempt, cancellationToken).ConfigureAwait(false);
                    resp.Dispose();
                    throw;
                }
                if (again)
                {
                    resp.Dispose();
                    attempt--;
                    continue;
                }
                if (sent?.Scheme == "Basic") await HoldRefusedAsync(endpoint, image, attempt, cancellationToken).ConfigureAwait(false);
            }
            if (resp.StatusCode == HttpStatusCode.TooManyRequests && LongRateLimit(resp) is { } limit)
            {
                // A limit that no retry can wait out (Docker Hub's pull limit: RateLimit-Remaining 0 in a window of hours,
                // or a Retry-After beyond what the attempts can wait): not retried, and the host is held until it resets (at least
                // UnreachableHold), so the other images of a big pull fail at once as one error instead of each waiting
                // through its own attempts. The caller turns the 429 into SEA1004.
                Hold(endpoint, image, attempt, ErrorCodes.RateLimited, "HTTP 429, " + limit.Describe(), limit.ResetIn is { } r && r > Options.UnreachableHold ? r : Options.UnreachableHold);
                return resp;
            }
            if ((resp.StatusCode == HttpStatusCode.TooManyRequests || (int)resp.StatusCode is 500 or 502 or 503 or 504) && attempt < attempts)
            {
                var retryAfter = RetryAfter(resp);
                _logger?.LogDebug("{Endpoint} answered {Status}; retry {Attempt}/{Attempts}", endpoint, (int)resp.StatusCode, attempt, attempts);
                resp.Dispose();
                await DelayAsync(attempt, retryAfter, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if ((int)resp.StatusCode is 502 or 503 or 504)
            {
                // "Unavailable" through every attempt (a proxy whose registry is down, a registry in maintenance) is a host
                // that is down as much as one that refuses connections: held, so its other images fail at once. (A 500 can
                // be one request's fault, and is not.)
                Hold(endpoint, image, attempt, ErrorCodes.RegistryError, $"HTTP {(int)resp.StatusCode} {resp.ReasonPhrase}", Options.UnreachableHold);
            }
            _ = streaming;
            return resp;
        }
    }

    /// <summary>Sends a request that is not to a registry endpoint (token service): retries transient failures, follows redirects.</summary>
    internal async Task<HttpResponseMessage> SendRawAsync(Func<HttpRequestMessage> make, string what, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            HttpResponseMessage resp;
            try
            {
                resp = await SendFollowingRedirectsAsync(make(), skipTlsVerify: false, what, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                if (attempt >= Options.MaxAttempts) throw NetworkError(ex, what, "the token service", attempt);
                await DelayAsync(attempt, null, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (HttpRequestException ex) when (IsTls(ex))
            {
                throw new SealerException(ErrorCodes.TlsFailure, $"{what}: TLS failed ({ex.InnerException?.Message ?? ex.Message}).", inner: ex);
            }
            if ((resp.StatusCode == HttpStatusCode.TooManyRequests || (int)resp.StatusCode >= 500) && attempt < Options.MaxAttempts)
            {
                var ra = RetryAfter(resp);
                resp.Dispose();
                await DelayAsync(attempt, ra, cancellationToken).ConfigureAwait(false);
                continue;
            }
            return resp;
        }
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpRequestMessage request, bool skipTlsVerify, string what, CancellationToken cancellationToken)
    {
        var req = request;
        for (int hop = 0; ; hop++)
        {
            req.Headers.UserAgent.ParseAdd(Options.UserAgent);
            Interlocked.Increment(ref _requests);
            var client = skipTlsVerify ? _insecureHttp.Value : _http;
            HttpResponseMessage resp;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(Options.RequestTimeout);
                try
                {
                    resp = await client.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new NoResponseException($"no response within {Options.RequestTimeout.TotalSeconds:0.#} s", ex);
                }
            }
            int status = (int)resp.StatusCode;
            if (status is not (301 or 302 or 303 or 307 or 308) || resp.Headers.Location is null) return resp;
            var next = new Uri(req.RequestUri!, resp.Headers.Location);
            resp.Dispose();
            if (hop >= 10) throw new SealerException(ErrorCodes.TooManyRedirects, $"{what}: more than 10 redirects (last to {next.GetLeftPart(UriPartial.Path)}).");
            if (next.Scheme != Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttp)
            {
                throw new SealerException(ErrorCodes.TooManyRedirects, $"{what}: redirected to an unsupported scheme '{next.Scheme}'.");
            }
            if (req.RequestUri!.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp && !RegistryEndpoint.IsLoopback(next.Host) && !Options.IsInsecure(next.Authority))
            {
                throw new SealerException(ErrorCodes.InsecureRegistryNotAllowed, $"{what}: the registry redirected from https to plain http ({next.GetLeftPart(UriPartial.Authority)}); refusing.");
            }
            var method = status == 303 && req.Method != HttpMethod.Head ? HttpMethod.Get : req.Method;
            var nreq = new HttpRequestMessage(method, next);
            foreach (var h in req.Headers)
            {
                if (h.Key is "Authorization" or "User-Agent" or "Host") continue;
                nreq.Headers.TryAddWithoutValidation(h.Key, h.Value);
            }
            // Credentials only go back to the very same origin; blob storage (S3, CDN) gets signed URLs instead.
            if (req.Headers.Authorization is not null && SameOrigin(req.RequestUri!, next)) nreq.Headers.Authorization = req.Headers.Authorization;
            if (method == req.Method && req.Content is not null && status is 307 or 308) nreq.Content = req.Content;
            skipTlsVerify = skipTlsVerify && SameOrigin(req.RequestUri!, next) || Options.IsInsecure(next.Authority) || Options.IsInsecure(next.Host);
            req = nreq;
        }
    }

    private static bool SameOrigin(Uri a, Uri b) => a.Scheme == b.Scheme && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static bool IsTls(HttpRequestException ex)
        => ex.HttpRequestError == HttpRequestError.SecureConnectionError || ex.InnerException is AuthenticationException;

    private static bool IsTransient(Exception ex, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return false;
        return ex switch
        {
            HttpRequestException h => !IsTls(h),
            TimeoutException => true,
            IOException io => !(io.InnerException is AuthenticationException) && !AtomicFile.IsDiskFull(io),
            OperationCanceledException => true, // a timeout of HttpClient internals, not ours (ours is checked above)
            _ => false,
        };
    }

    private SealerException NetworkError(Exception ex, string image, string where, int attempts)
    {
        if (ex is TimeoutException) return new SealerException(ErrorCodes.RegistryTimeout, $"{image}: {where} did not answer in time after {attempts} attempts ({ex.Message}). Check the network or the registry, then run again.", inner: ex);
        return new SealerException(ErrorCodes.RegistryUnreachable, $"{image}: cannot reach {where} after {attempts} attempts ({Detail(ex)}). Check the network, DNS and proxy settings, or configure a reachable mirror.", inner: ex);
    }

    private static string Detail(Exception ex)
        => ex is HttpRequestException h && h.HttpRequestError != HttpRequestError.Unknown ? $"{h.HttpRequestError}: {ex.Message}" : ex.Message;

    /// <summary>The host, not this request: no connection could be made at all (refused, no route, unknown name, connect
    /// timeout), or the host accepted it and did not answer (no response headers within <see cref="RegistryOptions.RequestTimeout"/>:
    /// a hung registry cost every image its own attempts of a minute each, hours at 600 images, not one series).</summary>
    private static bool IsHostDown(Exception ex)
        => ex is NoResponseException or HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };

    /// <summary>No response headers within the request timeout (not a body that stalls: that resumes).</summary>
    private sealed class NoResponseException(string message, Exception inner) : TimeoutException(message, inner);

    /// <summary>A host that failed a request for <see cref="Image"/> after <see cref="Attempts"/> attempts (<see cref="Code"/>: unreachable,
    /// timed out, unavailable, rate-limited for long, refusing our credentials, or untrusted), held so until <see cref="Until"/>.</summary>
    private sealed record HostHold(string Image, int Attempts, string Code, string Detail, DateTime Since, DateTime Until);

    /// <summary>
    /// Holds a host whose credentials were refused (its token service answered 401/403 to them, or it answered 401 to them
    /// sent as Basic) for the rest of this client's life: every repository of the host would be refused the same way, and
    /// each refused login can count towards locking the account (LDAP, Harbor), so 600 images must not try 600 times.
    /// Access refused to one repository with valid credentials (403, insufficient_scope) is not held.
    /// </summary>
    private async Task HoldRefusedAsync(RegistryEndpoint endpoint, string image, int attempt, CancellationToken cancellationToken)
    {
        var cred = await _auth.CredentialsFor(endpoint.CredentialHost, cancellationToken).ConfigureAwait(false);
        string origin = cred is null ? "" : $" (from {cred.Origin})";
        Hold(endpoint, image, attempt, ErrorCodes.AuthenticationRefused, $"the credentials for {endpoint.CredentialHost}{origin} were refused", ForTheRun);
    }

    /// <summary>A hold's length meaning as long as holds go (<see cref="RegistryOptions.LongestHold"/>, by default the rest of
    /// this client's life): what will not change within a run, trust and credentials.</summary>
    private static readonly TimeSpan ForTheRun = TimeSpan.MaxValue;

    /// <summary>Holds <paramref name="endpoint"/>'s host for <paramref name="duration"/> (at most <see cref="RegistryOptions.LongestHold"/>)
    /// after <paramref name="image"/>'s request met <paramref name="code"/>; nothing when holds are off (a zero
    /// <see cref="RegistryOptions.UnreachableHold"/>).</summary>
    private void Hold(RegistryEndpoint endpoint, string image, int attempts, string code, string detail, TimeSpan duration)
    {
        if (Options.UnreachableHold <= TimeSpan.Zero) return;
        if (duration > Options.LongestHold) duration = Options.LongestHold;
        var now = DateTime.UtcNow;
        _held[endpoint.Authority] = new HostHold(image, attempts, code, detail, now, duration >= DateTime.MaxValue - now ? DateTime.MaxValue : now + duration);
    }

    /// <summary>The error for a request to a held host (<see cref="RegistryOptions.UnreachableHold"/>, <see cref="HostHold"/>), or null.</summary>
    private HostHeldException? Held(RegistryEndpoint endpoint, string image)
    {
        if (_held.IsEmpty || !_held.TryGetValue(endpoint.Authority, out var u)) return null;
        var now = DateTime.UtcNow;
        if (now >= u.Until)
        {
            _held.TryRemove(new KeyValuePair<string, HostHold>(endpoint.Authority, u));
            return null;
        }
        _logger?.LogDebug("{Endpoint} is held ({Code}) until {Until:HH:mm:ss}; not trying it for {Image}", endpoint, u.Code, u.Until, image);
        return new HostHeldException(endpoint.ToString(), image, u.Image, u.Code, u.Detail,
            $"{image}: not tried at {endpoint}: it {HostHeldException.FailedFor(u.Code)} {u.Image} after {u.Attempts} attempt{(u.Attempts == 1 ? "" : "s")} {(now - u.Since).TotalSeconds:0.#} s ago ({u.Detail}). {HostHeldException.HintFor(u.Code)}");
    }

    private static SealerException TlsError(HttpRequestException ex, string image, RegistryEndpoint ep)
        => new(ErrorCodes.TlsFailure, $"{image}: the TLS connection to {ep} failed ({ex.InnerException?.Message ?? ex.Message}). Install the registry's CA certificate in the system trust store, or, for a test registry only, list {ep.Authority} in SEALER_INSECURE_REGISTRIES / SealerInsecureRegistries.", inner: ex);

    /// <summary>What a 429 said about its limit: <c>Retry-After</c> (uncapped), and the <c>RateLimit-Limit</c> /
    /// <c>RateLimit-Remaining</c> headers Docker Hub sends (<c>100;w=21600</c>: 100 pulls a window of 21600 s).</summary>
    internal sealed record RateLimit(TimeSpan? RetryAfter, string? Limit, string? Remaining)
    {
        /// <summary>When the limit resets, as far as the answer tells: Retry-After, else the window of a used-up limit.</summary>
        public TimeSpan? ResetIn => RetryAfter ?? (IsUsedUp ? Window(Remaining ?? Limit) : null);

        /// <summary>
        /// Whether no retry can wait this limit out: its Retry-After is beyond <paramref name="reach"/> (what one request's
        /// attempts can wait in all), or none came and the limit is used up with a window beyond that, or with none given.
        /// A limit with pulls left (a burst limiter) or a short wait is retried as any 429.
        /// </summary>
        public bool OutlastsRetries(TimeSpan reach) => RetryAfter is { } wait ? wait > reach : IsUsedUp && (Window(Remaining ?? Limit) is not { } w || w > reach);

        /// <summary>RateLimit-Remaining is 0.</summary>
        public bool IsUsedUp => Remaining is { } r && Count(r) == 0;

        /// <summary>RateLimit-Remaining's count, if it has one.</summary>
        public int? RemainingCount => Remaining is null ? null : Count(Remaining);

        public string Describe()
        {
            var parts = new List<string>();
            if (Remaining is not null) parts.Add($"{Count(Remaining)?.ToString(CultureInfo.InvariantCulture) ?? Remaining} of {(Limit is null ? "?" : Count(Limit)?.ToString(CultureInfo.InvariantCulture) ?? Limit)} pulls left" + (Window(Remaining ?? Limit) is { } w ? $" in a window of {Span(w)}" : ""));
            if (ResetIn is { } reset) parts.Add($"resets in {(RetryAfter is null ? "at most " : "")}{Span(reset)}");
            return parts.Count == 0 ? "no Retry-After" : string.Join(", ", parts);
        }

        private static int? Count(string header)
        {
            string n = header.Split(';')[0].Trim();
            return int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : null;
        }

        private static TimeSpan? Window(string? header)
        {
            if (header is null) return null;
            foreach (var p in header.Split(';').Skip(1))
            {
                var kv = p.Trim();
                if (kv.StartsWith("w=", StringComparison.Ordinal) && int.TryParse(kv.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int s) && s > 0) return TimeSpan.FromSeconds(s);
            }
            return null;
        }

        private static string Span(TimeSpan t) => t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h" : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0} min" : $"{t.TotalSeconds:0} s";
    }

    /// <summary>The last rate limit an endpoint of <paramref name="domain"/> stated (RateLimit-Remaining, on any answer), and
    /// which endpoint; null when none did.</summary>
    public (int Remaining, string Described, string Endpoint)? LastRateLimit(string domain)
        => _limits.TryGetValue(domain, out var l) && l.Limit.RemainingCount is { } r ? (r, l.Limit.Describe(), l.Endpoint) : null;

    internal static RateLimit ReadRateLimit(HttpResponseMessage resp)
    {
        TimeSpan? retryAfter = null;
        if (resp.Headers.RetryAfter is { } ra)
        {
            retryAfter = ra.Delta ?? (ra.Date is { } date ? date - DateTimeOffset.UtcNow : null);
            if (retryAfter < TimeSpan.Zero) retryAfter = TimeSpan.Zero;
        }
        return new RateLimit(retryAfter, Header(resp, "RateLimit-Limit"), Header(resp, "RateLimit-Remaining"));

        static string? Header(HttpResponseMessage r, string name) => r.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault() : null;
    }

    /// <summary>The limit of a 429 when no retry can wait it out (<see cref="RateLimit.OutlastsRetries"/>), else null.</summary>
    private RateLimit? LongRateLimit(HttpResponseMessage resp)
    {
        var limit = ReadRateLimit(resp);
        return limit.OutlastsRetries(RetryReach) ? limit : null;
    }

    /// <summary>What one request's retries can wait in all: <see cref="RegistryOptions.MaxRetryDelay"/> before each attempt
    /// after the first (2 min by default). A rate limit that resets later than that is not waited for.</summary>
    private TimeSpan RetryReach => Options.MaxRetryDelay * (Options.MaxAttempts - 1);

    /// <summary>The answer's Retry-After, at most <see cref="RegistryOptions.MaxRetryDelay"/>.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage resp)
    {
        var d = ReadRateLimit(resp).RetryAfter;
        return d > Options.MaxRetryDelay ? Options.MaxRetryDelay : d;
    }

    private Task DelayAsync(int attempt, TimeSpan? retryAfter, CancellationToken cancellationToken)
    {
        var delay = retryAfter ?? TimeSpan.FromMilliseconds(Math.Min(Options.MaxRetryDelay.TotalMilliseconds,
            Options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1) * (0.8 + Random.Shared.NextDouble() * 0.4)));
        return delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, cancellationToken);
    }

    // ---------------------------------------------------------------- errors

    private async Task<SealerException> ErrorAsync(HttpResponseMessage resp, ImageReference image, RegistryEndpoint ep, bool isBlob, CancellationToken cancellationToken, Digest? blob = null)
    {
        string detail = await ErrorTextAsync(resp, cancellationToken).ConfigureAwait(false);
        int status = (int)resp.StatusCode;
        switch (resp.StatusCode)
        {
            case HttpStatusCode.NotFound:
                return isBlob
                    ? new SealerException(ErrorCodes.BlobNotFoundInRegistry, $"{image}: {ep} has no blob {blob} although the image's manifest names it ({detail}).")
                    : new SealerException(ErrorCodes.ImageNotFound, $"{image}: not found on {ep} ({detail}). Check the repository name and tag.");
            case HttpStatusCode.Unauthorized:
            case HttpStatusCode.Forbidden:
                {
                    var cred = await _auth.CredentialsFor(ep.CredentialHost, cancellationToken).ConfigureAwait(false);
                    return AuthRefused(image.ToString(), ep, cred, $"{status} {detail}");
                }
            case HttpStatusCode.TooManyRequests:
                {
                    var limit = ReadRateLimit(resp);
                    bool longLimit = limit.OutlastsRetries(RetryReach);
                    var cred = await _auth.CredentialsFor(ep.CredentialHost, cancellationToken).ConfigureAwait(false);
                    string how = cred is null
                        ? $"Log in (`docker login {ep.CredentialHost}`, or set {EnvironmentCredentialProvider.VariablePrefix(ep.CredentialHost)}_USER and {EnvironmentCredentialProvider.VariablePrefix(ep.CredentialHost)}_PASSWORD: authenticated pulls get a higher limit), configure a mirror, or run again later: what was pulled stays in the cache."
                        : $"The limit is that of the credentials for {ep.CredentialHost} (from {cred.Origin}): configure a mirror, or run again later: what was pulled stays in the cache.";
                    return new SealerException(ErrorCodes.RateLimited, longLimit
                        ? $"{image}: {ep} rate-limits us and the limit does not reset soon (HTTP 429, {detail}; {limit.Describe()}). {how}"
                        : $"{image}: {ep} keeps rate-limiting us (HTTP 429, {detail}; {limit.Describe()}). {how}");
                }
            default:
                return new SealerException(ErrorCodes.RegistryError, $"{image}: {ep} answered {status} {resp.ReasonPhrase} ({detail}).");
        }
    }

    internal static SealerException AuthRefused(string image, RegistryEndpoint ep, RegistryCredential? cred, string detail)
    {
        string host = ep.CredentialHost;
        string prefix = EnvironmentCredentialProvider.VariablePrefix(host);
        string how = cred is null
            ? $"No credentials were found for {host}. Log in with `docker login {host}` (Sealer reads ~/.docker/config.json, credsStore and credHelpers), or set {prefix}_USER and {prefix}_PASSWORD (or SEALER_REGISTRY_USER and SEALER_REGISTRY_PASSWORD)."
            : $"The credentials for {host} (from {cred.Origin}) were refused or lack pull access. Check them, or log in again with `docker login {host}`.";
        return new SealerException(ErrorCodes.AuthenticationRefused, $"{image}: {ep} refused access ({detail}). {how}");
    }

    private static async Task<string> ErrorTextAsync(HttpResponseMessage resp, CancellationToken cancellationToken, bool raw = false)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            byte[] body = await ReadLimitedAsync(resp, 64 * 1024, timeout.Token).ConfigureAwait(false);
            if (raw) return System.Text.Encoding.UTF8.GetString(body);
            if (body.Length == 0) return $"HTTP {(int)resp.StatusCode}";
            var parsed = System.Text.Json.JsonSerializer.Deserialize(body, DistributionJsonContext.Default.RegistryErrorBody);
            if (parsed?.Errors is { Count: > 0 } errs)
            {
                return string.Join("; ", errs.Select(e =>
                {
                    string d = e.Detail is { ValueKind: not System.Text.Json.JsonValueKind.Null and not System.Text.Json.JsonValueKind.Undefined } de ? " " + Shorten(de.ToString()) : "";
                    return $"{e.Code}: {e.Message}{d}";
                }));
            }
            return $"HTTP {(int)resp.StatusCode}";
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or IOException or HttpRequestException or OperationCanceledException or SealerException)
        {
            return $"HTTP {(int)resp.StatusCode}";
        }
    }

    private static string Shorten(string s) => s.Length > 200 ? s[..200] + "…" : s;

    /// <summary>Reads a whole small body, refusing more than <paramref name="max"/> bytes.</summary>
    internal static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage resp, long max, CancellationToken cancellationToken)
    {
        if (resp.Content.Headers.ContentLength is long len && len > max)
        {
            throw new SealerException(ErrorCodes.UnsupportedManifest, $"{resp.RequestMessage?.RequestUri?.GetLeftPart(UriPartial.Path)} is {len} bytes, more than the {max} allowed.");
        }
        await using var s = await resp.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var ms = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        int n;
        while ((n = await s.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (ms.Length + n > max) throw new SealerException(ErrorCodes.UnsupportedManifest, $"{resp.RequestMessage?.RequestUri?.GetLeftPart(UriPartial.Path)} is larger than the {max} bytes allowed.");
            ms.Write(buffer, 0, n);
        }
        return ms.ToArray();
    }

    public void Dispose()
    {
        _http.Dispose();
        if (_insecureHttp.IsValueCreated && _ownsHandler) _insecureHttp.Value.Dispose();
    }
}
