using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Auth;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.RegistryServer;

/// <summary>An upstream for pull-through: which domain it serves (or "*" for a proxy that honours ?ns=), its URL, credentials.</summary>
public sealed record UpstreamRegistry(string Domain, Uri BaseUrl, string? Username = null, string? Password = null)
{
    /// <summary>
    /// Parses <c>docker.io=https://mirror.example:5000</c> (that domain only) or <c>https://proxy.example:5000</c> (every domain,
    /// with <c>?ns=&lt;domain&gt;</c>, e.g. another sealer registry or a Harbor proxy cache).
    /// </summary>
    public static UpstreamRegistry Parse(string value, string? username = null, string? password = null)
    {
        string domain = "*", url = value.Trim();
        int eq = url.IndexOf('=');
        if (eq > 0)
        {
            domain = NameResolver.NormalizeDomain(url[..eq].Trim());
            url = url[(eq + 1)..].Trim();
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || (uri.AbsolutePath is not ("/" or "")) || uri.Query.Length > 0)
        {
            throw new SealerException(ErrorCodes.RegistryUpstreamInvalid, $"'{value}' is not an upstream: write https://host[:port] or <domain>=https://host[:port].");
        }
        return new UpstreamRegistry(domain, uri, username, password);
    }
}

/// <summary>
/// Pull-through for sites with a proxy or an inner mirror: what the served layouts lack is fetched from the upstream of its
/// domain, verified (digest and size), stored in the writable layout (so the next pull is local) and then served. Tags found
/// in the read-only layouts never go upstream. Concurrent misses for one blob share one download. Requests go through
/// Core's registry client (<see cref="RegistryTransport"/>: anonymous, Basic and bearer-token auth from the challenge,
/// tokens cached per scope, redirects); credentials are never logged. An upstream that fails or refuses is a miss.
/// </summary>
public sealed class PullThrough : IDisposable
{
    private static readonly TimeSpan ManifestTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan BlobIdleTimeout = TimeSpan.FromMinutes(2);
    private readonly IReadOnlyList<UpstreamRegistry> _upstreams;
    private readonly OciLayout _cache;
    private readonly RegistryStore _store;
    private readonly ILogger _logger;
    private readonly RegistryClient _client;
    private readonly Dictionary<UpstreamRegistry, RegistryTransport> _transports = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> _inflight = new(StringComparer.Ordinal);

    public PullThrough(IReadOnlyList<UpstreamRegistry> upstreams, OciLayout cache, RegistryStore store, ILogger logger, HttpMessageHandler? handler = null)
    {
        _upstreams = upstreams;
        _cache = cache;
        _store = store;
        _logger = logger;
        var credentials = new Dictionary<string, RegistryCredential>(StringComparer.OrdinalIgnoreCase);
        // A long-lived client: an upstream that refused the credentials, served an untrusted certificate or was rate-limited
        // is tried again after 5 minutes, not never (a build's client holds such a host for its whole run).
        var options = new RegistryOptions { UserAgent = "sealer-registry/1.0", LongestHold = TimeSpan.FromMinutes(5) };
        foreach (var u in upstreams)
        {
            if (u.Username is not null) credentials.TryAdd(u.BaseUrl.Authority, new RegistryCredential(u.Username, u.Password) { Origin = "--upstream-user" });
            if (u.BaseUrl.Scheme == Uri.UriSchemeHttp) options.AddInsecureRegistry(u.BaseUrl.Authority);
        }
        options.Credentials = new StaticCredentialProvider(credentials);
        _client = new RegistryClient(options, logger, handler);
        foreach (var u in upstreams) _transports[u] = new RegistryTransport(_client, u.BaseUrl);
    }

    public UpstreamRegistry? For(string fullName)
    {
        string domain = fullName[..fullName.IndexOf('/')];
        return _upstreams.FirstOrDefault(u => u.Domain == domain) ?? _upstreams.FirstOrDefault(u => u.Domain == "*");
    }

    /// <summary>Fetches a manifest by tag or digest into the cache layout and records the reference. False when the upstream has none.</summary>
    public Task<bool> FetchManifestAsync(string fullName, string reference, CancellationToken cancellationToken)
    {
        string key = "m\n" + fullName + "\n" + reference;
        return Dedupe(key, () => FetchManifestCoreAsync(fullName, reference));
    }

    /// <summary>Fetches a blob of a repository into the cache layout (verified). False when the upstream has none.</summary>
    public Task<bool> FetchBlobAsync(string fullName, Digest digest, CancellationToken cancellationToken)
        => Dedupe("b\n" + digest, () => FetchBlobCoreAsync(fullName, digest));

    private async Task<bool> Dedupe(string key, Func<Task<bool>> work)
    {
        var lazy = _inflight.GetOrAdd(key, _ => new Lazy<Task<bool>>(work));
        try
        {
            return await lazy.Value.ConfigureAwait(false);
        }
        finally
        {
            _inflight.TryRemove(new KeyValuePair<string, Lazy<Task<bool>>>(key, lazy));
        }
    }

    private async Task<bool> FetchManifestCoreAsync(string fullName, string reference)
    {
        var upstream = For(fullName);
        if (upstream is null) return false;
        using var cts = new CancellationTokenSource(ManifestTimeout);
        using var response = await SendAsync(upstream, fullName, $"manifests/{reference}", MediaTypes.AllManifests, cts.Token).ConfigureAwait(false);
        if (response is null) return false;
        if (response.Content.Headers.ContentLength > OciLimits.MaxManifestBytes) return false;
        byte[] bytes = await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
        if (bytes.Length > OciLimits.MaxManifestBytes) return false;
        var digest = Digest.Sha256(bytes);
        if (Digest.TryParse(reference, out var wanted) && wanted != digest)
        {
            _logger.LogError("{Code}: upstream {Upstream} sent a manifest for {Name}@{Wanted} whose digest is {Actual}; refused.", ErrorCodes.DigestMismatch, upstream.BaseUrl, fullName, wanted, digest);
            return false;
        }
        string? mediaType = RegistryStore.DetectManifestMediaType(bytes, response.Content.Headers.ContentType?.MediaType);
        if (mediaType is null) return false;
        var descriptor = _cache.WriteBlob(bytes, mediaType);
        _cache.SetRef(reference.Contains(':') ? $"{fullName}@{reference}" : $"{fullName}:{reference}", descriptor);
        _store.Reload();
        return true;
    }

    private async Task<bool> FetchBlobCoreAsync(string fullName, Digest digest)
    {
        if (_cache.HasBlob(digest)) return true;
        var upstream = For(fullName);
        if (upstream is null) return false;
        using var cts = new CancellationTokenSource(ManifestTimeout);
        using var response = await SendAsync(upstream, fullName, $"blobs/{digest}", null, cts.Token).ConfigureAwait(false);
        if (response is null) return false;
        long? size = response.Content.Headers.ContentLength;
        if (size is null)
        {
            _logger.LogWarning("{Code}: upstream {Upstream} sent blob {Digest} without a length; refused.", ErrorCodes.SizeMismatch, upstream.BaseUrl, digest);
            return false;
        }
        cts.CancelAfter(BlobIdleTimeout + TimeSpan.FromSeconds(size.Value / (1 << 20)));
        await using var body = await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
        await _cache.WriteBlobAsync(body, digest, size.Value, cancellationToken: cts.Token).ConfigureAwait(false);
        return true;
    }

    /// <summary>A GET through the upstream's transport (auth answered there); null on 404, a refusal, or an unreachable upstream (logged).</summary>
    private async Task<HttpResponseMessage?> SendAsync(UpstreamRegistry upstream, string fullName, string tail, string[]? accept, CancellationToken cancellationToken)
    {
        int slash = fullName.IndexOf('/');
        string domain = fullName[..slash], path = fullName[(slash + 1)..];
        var transport = _transports[upstream];
        var url = transport.Resolve($"/v2/{path}/{tail}" + (upstream.Domain == "*" ? "?ns=" + Uri.EscapeDataString(domain) : ""));
        HttpResponseMessage response;
        try
        {
            response = await transport.SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (accept is not null) foreach (var a in accept) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(a));
                return request;
            }, $"repository:{path}:pull", retry: false, cancellationToken).ConfigureAwait(false);
        }
        catch (SealerException ex)
        {
            _logger.LogWarning("{Code}: upstream {Upstream} failed for {Name}: {Message}", ex.Code, upstream.BaseUrl, fullName, ex.Message);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("{Code}: upstream {Upstream} did not answer for {Name} in time.", ErrorCodes.RegistryUpstreamInvalid, upstream.BaseUrl, fullName);
            return null;
        }
        if (response.IsSuccessStatusCode) return response;
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            _logger.LogWarning("{Code}: upstream {Upstream} answered {Status} for {Name} {Tail}.", ErrorCodes.RegistryUpstreamInvalid, upstream.BaseUrl, (int)response.StatusCode, fullName, tail);
        }
        response.Dispose();
        return null;
    }

    public void Dispose()
    {
        foreach (var t in _transports.Values) t.Dispose();
        _client.Dispose();
    }
}
