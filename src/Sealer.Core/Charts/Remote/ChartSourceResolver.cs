using Sealer.Core.References;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Images;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.Charts.Remote;

/// <summary>
/// A chart to get from a repository or registry. <see cref="Repository"/> is an HTTP repository URL, or for a registry the
/// full <c>oci://host/ns/chart</c>; <see cref="Version"/> is a version or a constraint as <c>helm pull --version</c> takes
/// (empty: the newest release). <see cref="Origin"/> is where it was asked for (project item, Chart.yaml dependency), for
/// errors and the lock.
/// </summary>
public sealed record ChartRequest(string Name, string Repository, string? Version, ImageSource Origin, string? CaFile = null, bool InsecureSkipTlsVerify = false)
{
    public bool IsOci => Repository.StartsWith("oci://", StringComparison.Ordinal);

    /// <summary>A short name for messages: <c>oci://host/ns/chart</c> or <c>https://repo (chart)</c>.</summary>
    public string Display => IsOci ? Repository : $"{Repository.TrimEnd('/')} ({Name})";

    /// <summary>The request for the HelmChart item forms: <c>oci://host/ns/chart</c> (name from the last path segment), or a chart name with a repository URL.</summary>
    public static ChartRequest FromItem(string include, string? repository, string? version, ImageSource origin, string? caFile = null, bool insecure = false)
    {
        if (include.StartsWith("oci://", StringComparison.Ordinal))
        {
            var image = OciChartSource.Parse(include, origin.File, origin.Line);
            return new ChartRequest(image.Repository.Split('/')[^1], "oci://" + image.Name, version, origin, caFile, insecure);
        }
        if (string.IsNullOrWhiteSpace(repository))
        {
            throw new SealerException(ErrorCodes.ChartReferenceInvalid, $"'{include}' is a chart name without a repository: add Repository=\"https://...\", or write oci://registry/ns/{include}.", origin.File, origin.Line);
        }
        if (repository.StartsWith("oci://", StringComparison.Ordinal))
        {
            var image = OciChartSource.Parse(repository.TrimEnd('/') + "/" + include, origin.File, origin.Line);
            return new ChartRequest(include, "oci://" + image.Name, version, origin, caFile, insecure);
        }
        var repo = HttpRepositoryLocation.Parse(repository, caFile, insecure, origin.File, origin.Line);
        return new ChartRequest(include, repo.Display, version, origin, caFile, insecure);
    }
}

/// <summary>A request resolved: what the lock pins and where the packaged chart is in the cache.</summary>
public sealed record ResolvedChart(ChartRequest Request, LockedChart Locked, string ArchivePath)
{
    /// <summary>The file name helm gives the archive (<c>name-version.tgz</c>).</summary>
    public string FileName => $"{Locked.Name}-{Locked.Version}.tgz";
}

/// <summary>
/// Resolves chart requests against charts.lock.json, the chart cache (<c>&lt;cache&gt;/charts</c>, an OCI layout whose blobs
/// are the packaged charts by digest) and the repositories: a locked chart whose archive is cached costs no request at all;
/// a locked chart not cached is downloaded at its locked version and must have the locked digest (else
/// <see cref="ErrorCodes.ChartLockMismatch"/>, unless refreshing); anything else is resolved like helm and pinned.
/// Requests run in parallel; each repository index is fetched once.
/// </summary>
public sealed class ChartSourceResolver
{
    private readonly OciLayout _cache;
    private readonly string _cacheRoot;
    private readonly RegistryClient _registry;
    private readonly HttpChartRepository _http;
    private readonly ChartsLock _lock;
    private readonly bool _refresh;
    private readonly ILogger? _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task<RepositoryIndex>>> _indexes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<List<string>>>> _tags = new(StringComparer.Ordinal);
    private readonly long _registryStart;
    private readonly long _httpStart;
    private HashSet<string> _namesWanted = [];

    /// <param name="cacheDirectory">The image cache directory; charts go under its <c>charts/</c>.</param>
    public ChartSourceResolver(string cacheDirectory, RegistryClient registry, HttpChartRepository http, ChartsLock chartsLock, bool refresh, ILogger? logger = null)
    {
        _cacheRoot = Path.Combine(Path.GetFullPath(cacheDirectory), "charts");
        _cache = OciLayout.OpenOrCreate(_cacheRoot);
        _registry = registry;
        _http = http;
        _lock = chartsLock;
        _refresh = refresh;
        _logger = logger;
        _registryStart = registry.RequestCount;
        _httpStart = http.RequestCount;
    }

    /// <summary>Requests sent to registries and repositories by this resolver.</summary>
    public long NetworkRequests => _registry.RequestCount - _registryStart + _http.RequestCount - _httpStart;

    /// <summary>The chart cache (an OCI layout).</summary>
    public OciLayout Cache => _cache;

    public int MaxConcurrency { get; set; } = 8;

    /// <summary>Resolves every request (same answer for equal requests). Several failures are thrown together as an <see cref="AggregateException"/>.</summary>
    public async Task<IReadOnlyList<ResolvedChart>> ResolveAsync(IReadOnlyList<ChartRequest> requests, CancellationToken cancellationToken = default)
    {
        _namesWanted = requests.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var distinct = requests.Select(r => ChartsLock.KeyOf(r.Repository, r.Name, r.Version ?? "")).Distinct(StringComparer.Ordinal).ToList();
        var byKey = new ConcurrentDictionary<string, (LockedChart Locked, string Path)>(StringComparer.Ordinal);
        var errors = new ConcurrentBag<SealerException>();
        var first = requests.GroupBy(r => ChartsLock.KeyOf(r.Repository, r.Name, r.Version ?? ""), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        await Parallel.ForEachAsync(distinct, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, MaxConcurrency), CancellationToken = cancellationToken }, async (key, ct) =>
        {
            try
            {
                byKey[key] = await ResolveOneAsync(first[key], ct).ConfigureAwait(false);
            }
            catch (SealerException ex)
            {
                errors.Add(ex);
            }
        }).ConfigureAwait(false);
        if (errors.Count == 1) throw errors.First();
        if (errors.Count > 1) throw new AggregateException(errors.OrderBy(e => e.File, StringComparer.Ordinal).ThenBy(e => e.Line));
        return requests.Select(r =>
        {
            var (locked, path) = byKey[ChartsLock.KeyOf(r.Repository, r.Name, r.Version ?? "")];
            return new ResolvedChart(r, locked with { Sources = [r.Origin] }, path);
        }).ToList();
    }

    /// <summary>The lock after a resolution: one entry per distinct request, with every origin.</summary>
    public static ChartsLock LockOf(IEnumerable<ResolvedChart> resolved) => new(resolved.Select(r => r.Locked));

    private async Task<(LockedChart, string)> ResolveOneAsync(ChartRequest request, CancellationToken ct)
    {
        string requested = request.Version ?? "";
        var locked = _refresh ? null : _lock.Find(request.Repository, request.Name, requested);
        if (locked is not null)
        {
            var digest = Digest.Parse(locked.Digest);
            if (_cache.HasBlob(digest) && await _cache.VerifyBlobAsync(digest, null, ct).ConfigureAwait(false))
            {
                return (locked, _cache.BlobPath(digest));
            }
            return (locked, await FetchLockedAsync(request, locked, digest, ct).ConfigureAwait(false));
        }
        return request.IsOci ? await ResolveOciAsync(request, requested, ct).ConfigureAwait(false) : await ResolveHttpAsync(request, requested, ct).ConfigureAwait(false);
    }

    /// <summary>Points at the lock entry when the lock was read from a file (the line to look at), naming the item that asked for it.</summary>
    private static SealerException LockMismatch(ChartRequest request, LockedChart locked, string actual)
    {
        var at = locked.ReadFrom ?? request.Origin;
        string asked = locked.ReadFrom is null ? "" : $" (asked for by {request.Origin.File}({request.Origin.Line}))";
        return new(ErrorCodes.ChartLockMismatch,
            $"{request.Display} {locked.Version}{asked} is pinned in charts.lock.json as {locked.Digest}, but the source now serves {actual}: the chart version was re-published with other content. " +
            "Check the change; then build with -p:SealerRefresh=true (sealer: --refresh) to pin the new content.", at.File, at.Line);
    }

    private async Task<string> FetchLockedAsync(ChartRequest request, LockedChart locked, Digest digest, CancellationToken ct)
    {
        if (request.IsOci)
        {
            var repo = OciChartSource.Parse(request.Repository, request.Origin.File, request.Origin.Line);
            var layer = await OciChartSource.ChartLayerAsync(_registry, repo, locked.Version, ct).ConfigureAwait(false);
            if (layer.Digest != locked.Digest) throw LockMismatch(request, locked, layer.Digest);
            await OciChartSource.FetchAsync(_registry, repo, layer, _cache, ct).ConfigureAwait(false);
            return _cache.BlobPath(digest);
        }
        var location = HttpRepositoryLocation.Parse(request.Repository, request.CaFile, request.InsecureSkipTlsVerify, request.Origin.File, request.Origin.Line);
        var url = Uri.TryCreate(locked.Url, UriKind.Absolute, out var u) ? u : throw new SealerException(ErrorCodes.ChartsLockInvalid, $"charts.lock.json: {locked.Name} {locked.Version} has no valid url. Delete the entry to resolve it again.", request.Origin.File, request.Origin.Line);
        try
        {
            await _http.DownloadAsync(location, url, digest, _cache, $"{locked.Name}-{locked.Version}.tgz", ct).ConfigureAwait(false);
        }
        catch (SealerException ex) when (ex.Code == ErrorCodes.ChartDigestMismatch)
        {
            throw LockMismatch(request, locked, "other content");
        }
        return _cache.BlobPath(digest);
    }

    private async Task<(LockedChart, string)> ResolveOciAsync(ChartRequest request, string requested, CancellationToken ct)
    {
        var repo = OciChartSource.Parse(request.Repository, request.Origin.File, request.Origin.Line);
        string version;
        if (!string.IsNullOrEmpty(requested) && ChartVersions.IsValid(requested) && !requested.Contains('*') && !requested.Contains('x', StringComparison.OrdinalIgnoreCase))
        {
            version = requested; // an exact version: no tags list needed (helm pull does the same)
        }
        else
        {
            var versions = await _tags.GetOrAdd(repo.Name, _ => new Lazy<Task<List<string>>>(() => OciChartSource.VersionsAsync(_registry, repo, ct))).Value.ConfigureAwait(false);
            if (versions.Count == 0)
            {
                throw new SealerException(ErrorCodes.ChartNameNotFound, $"{request.Repository} has no chart versions (no tags). Check the reference, or push the chart with 'helm push'.", request.Origin.File, request.Origin.Line);
            }
            version = ChartVersions.Select(versions, v => v, requested) ?? throw NoVersion(request, requested, versions);
        }
        Descriptor layer;
        try
        {
            layer = await OciChartSource.ChartLayerAsync(_registry, repo, version, ct).ConfigureAwait(false);
        }
        catch (SealerException ex) when (ex.Code == ErrorCodes.ImageNotFound)
        {
            var versions = await OciChartSource.VersionsAsync(_registry, repo, ct).ConfigureAwait(false);
            if (versions.Count == 0)
            {
                throw new SealerException(ErrorCodes.ChartNameNotFound, $"{request.Repository} does not exist (no tags). Check the reference, or push the chart with 'helm push'.", request.Origin.File, request.Origin.Line, inner: ex);
            }
            throw NoVersion(request, requested, versions);
        }
        await OciChartSource.FetchAsync(_registry, repo, layer, _cache, ct).ConfigureAwait(false);
        var locked = new LockedChart(request.Name, request.Repository, requested, version, $"{request.Repository}:{OciChartSource.TagOf(version)}", layer.Digest, [request.Origin]);
        _logger?.LogInformation("Chart {Chart} {Requested} -> {Version} ({Digest})", request.Display, requested, version, layer.Digest);
        return (locked, _cache.BlobPath(layer.ParsedDigest));
    }

    private async Task<(LockedChart, string)> ResolveHttpAsync(ChartRequest request, string requested, CancellationToken ct)
    {
        var location = HttpRepositoryLocation.Parse(request.Repository, request.CaFile, request.InsecureSkipTlsVerify, request.Origin.File, request.Origin.Line);
        RepositoryIndex index;
        try
        {
            index = await _indexes.GetOrAdd(location.Display, _ => new Lazy<Task<RepositoryIndex>>(
                () => _http.GetIndexAsync(location, _cacheRoot, _namesWanted.Contains, ct))).Value.ConfigureAwait(false);
        }
        catch (SealerException ex) when (ex.File is null)
        {
            throw new SealerException(ex.Code, ex.Message, request.Origin.File, request.Origin.Line, inner: ex);
        }
        if (!index.Entries.TryGetValue(request.Name, out var versions) || versions.Count == 0)
        {
            // The index was filtered to the wanted names; list what it has for the message from the cached copy.
            var all = await _http.GetIndexAsync(location, _cacheRoot, null, ct).ConfigureAwait(false);
            var near = all.Entries.Keys.OrderBy(n => Distance(n, request.Name)).ThenBy(n => n, StringComparer.Ordinal).Take(5).ToList();
            throw new SealerException(ErrorCodes.ChartNameNotFound,
                $"{location.Display} has no chart '{request.Name}'{(near.Count > 0 ? $"; nearest names: {string.Join(", ", near)}" : " (its index is empty)")}. Check the name and the repository URL.",
                request.Origin.File, request.Origin.Line);
        }
        var chosen = ChartVersions.Select(versions, v => v.Version, requested) ?? throw NoVersion(request, requested, versions.Select(v => v.Version).ToList());
        var url = HttpChartRepository.ChartUrl(location, chosen);
        Digest? expected = null;
        if (chosen.Digest is { } d)
        {
            string text = d.Contains(':') ? d : "sha256:" + d;
            if (!Digest.TryParse(text, out var parsed))
            {
                throw new SealerException(ErrorCodes.ChartRepositoryIndexInvalid, $"{location.Display}/index.yaml gives {chosen.Name} {chosen.Version} the digest '{d}', which is not a sha256 digest.", request.Origin.File, request.Origin.Line);
            }
            expected = parsed;
        }
        Digest actual;
        try
        {
            actual = await _http.DownloadAsync(location, url, expected, _cache, $"{chosen.Name}-{chosen.Version}.tgz", ct).ConfigureAwait(false);
        }
        catch (SealerException ex) when (ex.File is null)
        {
            throw new SealerException(ex.Code, ex.Message, request.Origin.File, request.Origin.Line, inner: ex);
        }
        var locked = new LockedChart(request.Name, location.Display, requested, chosen.Version, url.ToString(), actual.ToString(), [request.Origin]);
        _logger?.LogInformation("Chart {Chart} {Requested} -> {Version} ({Digest})", request.Display, requested, chosen.Version, actual);
        return (locked, _cache.BlobPath(actual));
    }

    private static SealerException NoVersion(ChartRequest request, string requested, IReadOnlyList<string> versions)
    {
        var near = ChartVersions.Nearest(versions, requested);
        string asked = string.IsNullOrEmpty(requested) ? "a release version (it has only pre-releases)" : $"version '{requested}'";
        return new SealerException(ErrorCodes.ChartVersionNotFound,
            $"{request.Display} has no {asked}; nearest versions: {string.Join(", ", near)}. Change the Version (a version or a constraint such as 1.2.x, ^1.2, >=1.2 <2).",
            request.Origin.File, request.Origin.Line);
    }

    private static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++) cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
