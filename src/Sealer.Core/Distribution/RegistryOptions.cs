using Sealer.Core.Distribution.Auth;

namespace Sealer.Core.Distribution;

/// <summary>
/// How the registry client reaches registries: mirrors per source domain (tried first, in order; then the source unless
/// <see cref="FallbackToSource"/> is off), insecure registries (plain HTTP or unverified TLS allowed), credentials,
/// timeouts and retries. Loopback registries may always use plain HTTP.
/// </summary>
public sealed class RegistryOptions
{
    private int _maxAttempts = 5;
    private TimeSpan _requestTimeout = TimeSpan.FromSeconds(60);
    private TimeSpan _stallTimeout = TimeSpan.FromSeconds(30);
    private TimeSpan _retryBaseDelay = TimeSpan.FromMilliseconds(500);
    private TimeSpan _maxRetryDelay = TimeSpan.FromSeconds(30);
    private TimeSpan _unreachableHold = TimeSpan.FromSeconds(30);
    private TimeSpan _longestHold = TimeSpan.MaxValue;
    private int _parallelRanges = 4;
    private long _parallelRangeThreshold = 64L << 20;
    private long _rangeChunkSize = 16L << 20;
    private int _maxBlobStreams = 6;
    private readonly Dictionary<string, List<string>> _mirrors = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _insecure = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Mirrors per source domain (<c>docker.io</c> → <c>["https://mirror.local:5000", "http://127.0.0.1:5100"]</c>).</summary>
    public IReadOnlyDictionary<string, List<string>> Mirrors => _mirrors;

    /// <summary>Hosts (<c>host</c> or <c>host:port</c>) that may be reached over plain HTTP, or over https without certificate checks.</summary>
    public IReadOnlyCollection<string> InsecureRegistries => _insecure;

    /// <summary>When all mirrors fail (or lack the image), ask the source registry. Default true. Turn off for offline builds.</summary>
    public bool FallbackToSource { get; set; } = true;

    /// <summary>Where credentials come from. Default: environment variables, then the Docker config and its helpers.</summary>
    public ICredentialProvider Credentials { get; set; } = ChainedCredentialProvider.Default();

    /// <summary>Attempts per request (1 = no retries). Default 5.</summary>
    public int MaxAttempts
    {
        get => _maxAttempts;
        set => _maxAttempts = value is >= 1 and <= 100 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "1..100");
    }

    /// <summary>Time allowed for a response's headers (and for a whole small body such as a manifest). Default 60 s.</summary>
    public TimeSpan RequestTimeout
    {
        get => _requestTimeout;
        set => _requestTimeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be positive");
    }

    /// <summary>A blob download that receives no byte for this long is aborted and resumed. Default 30 s.</summary>
    public TimeSpan StallTimeout
    {
        get => _stallTimeout;
        set => _stallTimeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be positive");
    }

    /// <summary>First retry delay; doubled each attempt (with jitter), capped by <see cref="MaxRetryDelay"/>. Default 0.5 s.</summary>
    public TimeSpan RetryBaseDelay
    {
        get => _retryBaseDelay;
        set => _retryBaseDelay = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must not be negative");
    }

    /// <summary>Largest delay between attempts, also the cap for a registry's Retry-After. Default 30 s.</summary>
    public TimeSpan MaxRetryDelay
    {
        get => _maxRetryDelay;
        set => _maxRetryDelay = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must not be negative");
    }

    /// <summary>
    /// After a host could not be connected to for one request through all its attempts (refused, no route, name not found,
    /// connect timeout), gave it no response within <see cref="RequestTimeout"/> each time, or answered 502/503/504 to each
    /// (a proxy whose registry is down, a registry in maintenance), further requests to it fail at
    /// once for this long instead of each going through its own retries:
    /// 600 images of a registry that is down fail in one retry series (~8 s), not 600 of them (9.5 minutes at 8 at a time),
    /// and a dead mirror is skipped for the next endpoint. A host whose rate limit will not reset within the retries' reach
    /// (HTTP 429 with RateLimit-Remaining 0, as Docker Hub's pull limit, or a Retry-After beyond what a request's attempts can wait: <see cref="MaxRetryDelay"/> × (<see cref="MaxAttempts"/> − 1))
    /// is held until the reset it names, at least this long. A host that refuses our credentials or serves a certificate we do
    /// not trust is held for <see cref="LongestHold"/>. A zero hold turns all of them off. Default 30 s.
    /// </summary>
    public TimeSpan UnreachableHold
    {
        get => _unreachableHold;
        set => _unreachableHold = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must not be negative");
    }

    /// <summary>
    /// The longest any host is held (<see cref="UnreachableHold"/>): refused credentials and untrusted certificates, which do
    /// not change within a build or a pull, are held this long, and a rate limit at most this long. Default: the client's
    /// life. A long-lived client (the built-in registry's pull-through) sets minutes, so that a fixed upstream is tried again.
    /// </summary>
    public TimeSpan LongestHold
    {
        get => _longestHold;
        set => _longestHold = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must not be negative");
    }

    /// <summary>
    /// Parallel HTTP range requests per big blob (1 = always one stream). Default 4. A server that ignores ranges gets one
    /// stream; see <see cref="ParallelRangeThreshold"/>.
    /// </summary>
    public int ParallelRanges
    {
        get => _parallelRanges;
        set => _parallelRanges = value is >= 1 and <= 64 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "1..64");
    }

    /// <summary>Blobs at least this big are fetched in parallel ranges; smaller ones in one GET. Default 64 MiB.</summary>
    public long ParallelRangeThreshold
    {
        get => _parallelRangeThreshold;
        set => _parallelRangeThreshold = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be positive");
    }

    /// <summary>
    /// Blob downloads this client keeps open at most before a big blob's extra ranges wait: a range worker joins a big blob
    /// (up to <see cref="ParallelRanges"/>) only while fewer streams are open (one-stream downloads and range pieces alike),
    /// and leaves it again between pieces when other downloads have taken the room. Default 6 (a pull's blobs at once):
    /// many blobs in flight already fill the link, and ranges on top of them only cost requests and CPU on both ends
    /// (build/bench/RESULTS.md); a big blob left alone at the tail of a pull gets its ranges.
    /// </summary>
    public int MaxBlobStreams
    {
        get => _maxBlobStreams;
        set => _maxBlobStreams = value is >= 1 and <= 256 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "1..256");
    }

    /// <summary>Bytes per range request. Default 16 MiB (a small tail left to hash when the last ranges arrive).</summary>
    public long RangeChunkSize
    {
        get => _rangeChunkSize;
        set => _rangeChunkSize = value >= 64 * 1024 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "at least 64 KiB");
    }

    /// <summary>
    /// Hash a ranged download in order while the ranges arrive (default), reading the written prefix back from the page
    /// cache; false hashes the whole file once after the last range (slower: measured in build/bench/RESULTS.md).
    /// </summary>
    public bool HashRangesWhileDownloading { get; set; } = true;

    public string UserAgent { get; set; } = "sealer/" + (typeof(RegistryOptions).Assembly.GetName().Version?.ToString(3) ?? "0");

    /// <summary>Adds a mirror for a source domain (<c>docker.io</c>, <c>quay.io</c>, or <c>*</c> for every domain).</summary>
    public RegistryOptions AddMirror(string sourceDomain, string endpoint)
    {
        if (!_mirrors.TryGetValue(sourceDomain, out var list)) _mirrors[sourceDomain] = list = [];
        if (!list.Contains(endpoint, StringComparer.OrdinalIgnoreCase)) list.Add(endpoint);
        return this;
    }

    public RegistryOptions AddInsecureRegistry(string host)
    {
        _insecure.Add(host.Trim());
        return this;
    }

    public bool IsInsecure(string hostOrAuthority) => _insecure.Contains(hostOrAuthority);

    /// <summary>
    /// Reads <c>SEALER_REGISTRY_MIRRORS</c> (<c>docker.io=http://127.0.0.1:5100,https://m2;quay.io=...</c>) and
    /// <c>SEALER_INSECURE_REGISTRIES</c> (<c>host[:port],...</c>) into these options; <c>SEALER_REGISTRY_NO_FALLBACK=1</c>
    /// turns <see cref="FallbackToSource"/> off.
    /// </summary>
    public RegistryOptions AddFromEnvironment(Func<string, string?>? getVariable = null)
    {
        var get = getVariable ?? Environment.GetEnvironmentVariable;
        foreach (var part in (get("SEALER_REGISTRY_MIRRORS") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new Diagnostics.SealerException(Diagnostics.ErrorCodes.RegistryConfigInvalid, $"SEALER_REGISTRY_MIRRORS: '{part}' is not domain=endpoint[,endpoint...].");
            foreach (var ep in part[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) AddMirror(part[..eq].Trim(), ep);
        }
        if (get("SEALER_REGISTRY_NO_FALLBACK") is "1" or "true") FallbackToSource = false;
        foreach (var h in (get("SEALER_INSECURE_REGISTRIES") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) AddInsecureRegistry(h);
        return this;
    }

    /// <summary>The endpoints to try for a source domain, mirrors first.</summary>
    public IReadOnlyList<RegistryEndpoint> EndpointsFor(string domain)
    {
        var list = new List<RegistryEndpoint>();
        if (_mirrors.TryGetValue(domain, out var ms) || _mirrors.TryGetValue("*", out ms))
        {
            foreach (var m in ms) list.Add(RegistryEndpoint.Parse(m, domain, isMirror: true, this));
        }
        if (FallbackToSource || list.Count == 0) list.Add(RegistryEndpoint.Parse(RegistryEndpoint.ApiHost(domain), domain, isMirror: false, this));
        return list;
    }
}
