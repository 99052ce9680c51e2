using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sealer.Core.Diagnostics;
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
/// in the read-only layouts never go upstream. Concurrent misses for one blob share one download. Handles anonymous,
/// basic and bearer-token (distribution token auth) upstreams; credentials are never logged.
/// </summary>
public sealed class PullThrough : IDisposable
{
    private static readonly TimeSpan ManifestTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan BlobIdleTimeout = TimeSpan.FromMinutes(2);
    private readonly IReadOnlyList<UpstreamRegistry> _upstreams;
    private readonly OciLayout _cache;
    private readonly RegistryStore _store;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> _inflight = new(StringComparer.Ordinal);

    public PullThrough(IReadOnlyList<UpstreamRegistry> upstreams, OciLayout cache, RegistryStore store, ILogger logger, HttpMessageHandler? handler = null)
    {
        _upstreams = upstreams;
        _cache = cache;
        _store = store;
        _logger = logger;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("sealer-registry/1.0");
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
        using var response = await SendAsync(upstream, fullName, $"manifests/{reference}", HttpMethod.Get, MediaTypes.AllManifests, cts.Token).ConfigureAwait(false);
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
        using var response = await SendAsync(upstream, fullName, $"blobs/{digest}", HttpMethod.Get, null, cts.Token).ConfigureAwait(false);
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

    /// <summary>GET with auth handling; null on 404 or an unreachable upstream (logged).</summary>
    private async Task<HttpResponseMessage?> SendAsync(UpstreamRegistry upstream, string fullName, string tail, HttpMethod method, string[]? accept, CancellationToken cancellationToken)
    {
        int slash = fullName.IndexOf('/');
        string domain = fullName[..slash], path = fullName[(slash + 1)..];
        string url = $"{upstream.BaseUrl.GetLeftPart(UriPartial.Authority)}/v2/{path}/{tail}" + (upstream.Domain == "*" ? "?ns=" + Uri.EscapeDataString(domain) : "");
        string scope = $"repository:{path}:pull";
        for (int attempt = 0; attempt < 2; attempt++)
        {
            using var request = new HttpRequestMessage(method, url);
            if (accept is not null) foreach (var a in accept) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(a));
            if (_tokens.TryGetValue(upstream.BaseUrl + "\n" + scope, out var token)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            else if (upstream.Username is not null) request.Headers.Authorization = BasicAuth(upstream);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                _logger.LogWarning("{Code}: upstream {Upstream} unreachable for {Name}: {Message}", ErrorCodes.RegistryUpstreamInvalid, upstream.BaseUrl, fullName, ex.Message);
                return null;
            }
            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0)
            {
                var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
                response.Dispose();
                if (challenge?.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) == true)
                {
                    var t = await FetchTokenAsync(upstream, challenge.Parameter ?? "", scope, cancellationToken).ConfigureAwait(false);
                    if (t is null) return null;
                    _tokens[upstream.BaseUrl + "\n" + scope] = t;
                    continue;
                }
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
        return null;
    }

    private async Task<string?> FetchTokenAsync(UpstreamRegistry upstream, string parameter, string scope, CancellationToken cancellationToken)
    {
        var p = ParseChallenge(parameter);
        if (!p.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri)) return null;
        var query = new StringBuilder("?");
        if (p.TryGetValue("service", out var service)) query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        query.Append("scope=").Append(Uri.EscapeDataString(p.TryGetValue("scope", out var s) ? s : scope));
        using var request = new HttpRequestMessage(HttpMethod.Get, realmUri.GetLeftPart(UriPartial.Path) + query);
        if (upstream.Username is not null) request.Headers.Authorization = BasicAuth(upstream);
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) return null;
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            return doc.RootElement.TryGetProperty("token", out var t) ? t.GetString() : doc.RootElement.TryGetProperty("access_token", out var a) ? a.GetString() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException)
        {
            _logger.LogWarning("{Code}: token request to {Realm} failed: {Message}", ErrorCodes.RegistryUpstreamInvalid, realmUri.GetLeftPart(UriPartial.Path), ex.Message);
            return null;
        }
    }

    /// <summary>realm="...",service="...",scope="..." (values may contain commas inside quotes).</summary>
    internal static Dictionary<string, string> ParseChallenge(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (i < parameter.Length)
        {
            while (i < parameter.Length && (parameter[i] == ',' || char.IsWhiteSpace(parameter[i]))) i++;
            int eq = parameter.IndexOf('=', i);
            if (eq < 0) break;
            string key = parameter[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < parameter.Length && parameter[i] == '"')
            {
                int end = parameter.IndexOf('"', i + 1);
                if (end < 0) end = parameter.Length;
                value = parameter[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                int end = parameter.IndexOf(',', i);
                if (end < 0) end = parameter.Length;
                value = parameter[i..end].Trim();
                i = end;
            }
            result[key] = value;
        }
        return result;
    }

    private static AuthenticationHeaderValue BasicAuth(UpstreamRegistry u)
        => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{u.Username}:{u.Password}")));

    public void Dispose() => _http.Dispose();
}
