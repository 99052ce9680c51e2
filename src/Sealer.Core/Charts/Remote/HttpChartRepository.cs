using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.Charts.Remote;

/// <summary>An HTTP chart repository: its URL and the TLS settings asked for (a CA file, or skipping verification).</summary>
public sealed record HttpRepositoryLocation(Uri Url, string? CaFile = null, bool InsecureSkipTlsVerify = false)
{
    /// <summary>Parses and normalizes a repository URL (no trailing slash, no credentials in it).</summary>
    public static HttpRepositoryLocation Parse(string url, string? caFile = null, bool insecure = false, string? file = null, int line = 0)
    {
        if (!Uri.TryCreate(url.Trim().TrimEnd('/'), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new SealerException(ErrorCodes.ChartReferenceInvalid, $"'{url}' is not a chart repository URL: use https://host/path (or oci://host/ns/chart for a registry).", file, line);
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new SealerException(ErrorCodes.ChartReferenceInvalid, $"the repository URL for {uri.Host} carries credentials: remove them and set SEALER_HELM_REPO_<HOST>_USERNAME/_PASSWORD instead (see README).", file, line);
        }
        return new HttpRepositoryLocation(uri, string.IsNullOrWhiteSpace(caFile) ? null : caFile, insecure);
    }

    public string Display => Url.ToString().TrimEnd('/');
}

/// <summary>
/// Talks to HTTP chart repositories like helm's repo/getter packages: <c>index.yaml</c> fetched with
/// If-None-Match/If-Modified-Since against a copy in the cache (<c>&lt;cache&gt;/charts/indexes/</c>) and parsed streaming,
/// chart archives streamed into the chart cache and verified against the index's digest. Credentials come from
/// <see cref="ChartRepositoryCredentials"/> and are sent only to the repository's own host (as helm without
/// <c>--pass-credentials</c>); they never appear in messages. Retries transient failures. Thread-safe.
/// </summary>
public sealed class HttpChartRepository : IDisposable
{
    private readonly ChartRepositoryCredentials _credentials;
    private readonly ILogger? _logger;
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);
    private readonly string _userAgent;
    private long _requests;

    public HttpChartRepository(ChartRepositoryCredentials? credentials = null, string? userAgent = null, ILogger? logger = null)
    {
        _credentials = credentials ?? new ChartRepositoryCredentials();
        _userAgent = string.IsNullOrWhiteSpace(userAgent) ? "sealer" : userAgent.Trim();
        _logger = logger;
    }

    /// <summary>HTTP requests sent so far.</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    /// <summary>Time allowed for one index or chart download (headers and body).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(5);

    public int MaxAttempts { get; set; } = 3;

    private HttpClient ClientFor(HttpRepositoryLocation repo)
    {
        string key = repo.InsecureSkipTlsVerify ? "insecure" : repo.CaFile ?? "";
        return _clients.GetOrAdd(key, _ =>
        {
            var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = true,
                MaxAutomaticRedirections = 10,
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
                ConnectTimeout = TimeSpan.FromSeconds(30),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                UseCookies = false,
            };
            if (repo.InsecureSkipTlsVerify)
            {
                handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = static (_, _, _, _) => true };
            }
            else if (repo.CaFile is { } caFile)
            {
                var roots = new X509Certificate2Collection();
                try { roots.ImportFromPemFile(caFile); }
                catch (Exception ex) when (ex is IOException or CryptographicException or UnauthorizedAccessException)
                {
                    throw new SealerException(ErrorCodes.ChartReferenceInvalid, $"the CA file '{caFile}' for {repo.Display} cannot be read as PEM certificates ({ex.Message}).", inner: ex);
                }
                handler.SslOptions = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                    {
                        if (cert is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
                        using var chain = new X509Chain();
                        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                        return chain.Build(new X509Certificate2(cert));
                    },
                };
            }
            // Redirects drop the Authorization header on their own (HttpClient does not forward it to another host).
            var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            client.DefaultRequestHeaders.UserAgent.ParseAdd(_userAgent);
            return client;
        });
    }

    private HttpRequestMessage Request(HttpRepositoryLocation repo, Uri url)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, url);
        if (SameOrigin(repo.Url, url) && _credentials.For(repo.Url) is { } cred)
        {
            req.Headers.Authorization = cred.Token is not null
                ? new AuthenticationHeaderValue("Bearer", cred.Token)
                : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{cred.Username}:{cred.Password}")));
        }
        return req;
    }

    private static bool SameOrigin(Uri a, Uri b) => a.Scheme == b.Scheme && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    /// <summary>Sends a GET with retries on connection failures, 429 and 5xx; maps other failures to coded errors.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRepositoryLocation repo, Func<HttpRequestMessage> make, string what, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            HttpResponseMessage resp;
            try
            {
                Interlocked.Increment(ref _requests);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(60));
                resp = await ClientFor(repo).SendAsync(make(), HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt < MaxAttempts)
                {
                    _logger?.LogDebug("{Repository}: {What} failed ({Error}); retrying", repo.Display, what, ex.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt * attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                throw new SealerException(ErrorCodes.ChartRepositoryUnreachable,
                    $"the chart repository {repo.Display} cannot be reached ({ex.Message}) while getting {what}, after {attempt} attempts. Check the URL and the network{(repo.Url.Scheme == "https" ? ", or give its CA with CaFile" : "")}.", inner: ex);
            }
            int status = (int)resp.StatusCode;
            if ((status == 429 || status >= 500) && attempt < MaxAttempts)
            {
                resp.Dispose();
                await Task.Delay(TimeSpan.FromMilliseconds(300 * attempt * attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            return resp;
        }
    }

    private SealerException StatusError(HttpRepositoryLocation repo, HttpResponseMessage resp, string what)
    {
        int status = (int)resp.StatusCode;
        string hint = status switch
        {
            401 or 403 => $" The repository wants credentials: set {ChartRepositoryCredentials.VariablePrefix(repo.Url)}_USERNAME and _PASSWORD (or _TOKEN) in the environment.",
            404 => " Check the repository URL and the chart name.",
            _ => "",
        };
        return new SealerException(ErrorCodes.ChartRepositoryError, $"the chart repository {repo.Display} answered {status} {resp.ReasonPhrase} for {what}.{hint}");
    }

    /// <summary>
    /// The repository's index, revalidated against the cached copy (ETag / Last-Modified: a 304 re-reads the cached file).
    /// <paramref name="keep"/> limits which chart names are kept in memory.
    /// </summary>
    public async Task<RepositoryIndex> GetIndexAsync(HttpRepositoryLocation repo, string cacheRoot, Func<string, bool>? keep = null, CancellationToken cancellationToken = default)
    {
        string dir = Path.Combine(cacheRoot, "indexes", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(repo.Display)))[..32]);
        string indexFile = Path.Combine(dir, "index.yaml");
        string metaFile = Path.Combine(dir, "index.meta");
        string[] meta = File.Exists(metaFile) && File.Exists(indexFile) ? File.ReadAllLines(metaFile) : [];
        string? etag = meta.Length > 1 && meta[1].Length > 0 ? meta[1] : null;
        string? lastModified = meta.Length > 2 && meta[2].Length > 0 ? meta[2] : null;
        var indexUrl = new Uri(repo.Display + "/index.yaml");
        using var resp = await SendAsync(repo, () =>
        {
            var req = Request(repo, indexUrl);
            if (etag is not null) req.Headers.TryAddWithoutValidation("If-None-Match", etag);
            if (lastModified is not null) req.Headers.TryAddWithoutValidation("If-Modified-Since", lastModified);
            return req;
        }, "index.yaml", cancellationToken).ConfigureAwait(false);
        if (resp.StatusCode == HttpStatusCode.NotModified && meta.Length > 0)
        {
            _logger?.LogDebug("{Repository}: index.yaml not modified; using the cached copy", repo.Display);
        }
        else if (!resp.IsSuccessStatusCode)
        {
            throw StatusError(repo, resp, "index.yaml");
        }
        else
        {
            Directory.CreateDirectory(dir);
            string temp = AtomicFile.TempPathFor(indexFile);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(RequestTimeout);
                await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
                {
                    await using var body = await resp.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                    await body.CopyToAsync(fs, 1 << 16, timeout.Token).ConfigureAwait(false);
                }
                AtomicFile.Replace(temp, indexFile);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                OciLayout.TryDelete(temp);
                throw new SealerException(ErrorCodes.ChartRepositoryUnreachable, $"the download of {repo.Display}/index.yaml was interrupted ({ex.Message}). Run again.", inner: ex);
            }
            AtomicFile.WriteAllText(metaFile, $"{repo.Display}\n{resp.Headers.ETag?.ToString() ?? ""}\n{resp.Content.Headers.LastModified?.ToString("R") ?? ""}\n");
        }
        return RepositoryIndex.Read(indexFile, repo.Display + "/index.yaml", keep, cancellationToken);
    }

    /// <summary>Where a chart version's archive is: its first URL, relative ones resolved against the repository URL (helm's ResolveReferenceURL).</summary>
    public static Uri ChartUrl(HttpRepositoryLocation repo, IndexChartVersion version)
    {
        if (version.Urls.Count == 0)
        {
            throw new SealerException(ErrorCodes.ChartRepositoryIndexInvalid, $"{repo.Display}/index.yaml lists {version.Name} {version.Version} without a URL.");
        }
        string u = version.Urls[0];
        if (Uri.TryCreate(u, UriKind.Absolute, out var abs) && abs.Scheme is "http" or "https") return abs;
        var baseUri = new Uri(repo.Display + "/");
        return new Uri(baseUri, u);
    }

    /// <summary>
    /// Downloads a chart archive into <paramref name="cache"/> (by digest) unless it is there, hashing while it streams; the
    /// result must have <paramref name="expected"/> (from the index or the lock) when given. Returns the archive's digest.
    /// </summary>
    public async Task<Digest> DownloadAsync(HttpRepositoryLocation repo, Uri url, Digest? expected, OciLayout cache, string what, CancellationToken cancellationToken = default)
    {
        if (expected is { } e && cache.HasBlob(e)) return e;
        using var resp = await SendAsync(repo, () => Request(repo, url), what, cancellationToken).ConfigureAwait(false);
        if (!resp.IsSuccessStatusCode) throw StatusError(repo, resp, what);
        string ingestDir = Path.Combine(cache.Root, "ingest");
        Directory.CreateDirectory(ingestDir);
        string temp = Path.Combine(ingestDir, $"chart.{Guid.NewGuid():N}.tmp");
        Digest actual;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(RequestTimeout);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await using var body = await resp.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                var buffer = new byte[1 << 16];
                long total = 0;
                int n;
                while ((n = await body.ReadAsync(buffer, timeout.Token).ConfigureAwait(false)) > 0)
                {
                    total += n;
                    if (total > ChartLoader.MaxDecompressedSize) throw new SealerException(ErrorCodes.ChartRepositoryError, $"{what} from {repo.Display} is larger than {ChartLoader.MaxDecompressedSize >> 20} MiB; refusing it.");
                    hash.AppendData(buffer, 0, n);
                    await fs.WriteAsync(buffer.AsMemory(0, n), timeout.Token).ConfigureAwait(false);
                }
                await fs.FlushAsync(timeout.Token).ConfigureAwait(false);
            }
            actual = Digest.FromHash("sha256", hash.GetHashAndReset());
            if (expected is { } exp && exp != actual)
            {
                throw new SealerException(ErrorCodes.ChartDigestMismatch,
                    $"{what} downloaded from {repo.Display} has digest {actual}, but {exp} was expected (index.yaml or the lock). The repository serves other bytes than it announces: refusing it.");
            }
            string final = cache.BlobPath(actual);
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            AtomicFile.Replace(temp, final);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new SealerException(ErrorCodes.ChartRepositoryUnreachable, $"the download of {what} from {repo.Display} was interrupted ({ex.Message}). Run again.", inner: ex);
        }
        finally
        {
            OciLayout.TryDelete(temp);
        }
        return actual;
    }

    public void Dispose()
    {
        foreach (var c in _clients.Values) c.Dispose();
    }
}
