using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.RegistryServer;

/// <summary>
/// The read-only view over the served layouts. Repositories come from each layout's index.json, whose
/// <c>org.opencontainers.image.ref.name</c> holds the full reference (<c>docker.io/library/nginx:1.27</c>); the domain is
/// part of the repository key, so <c>docker.io/x</c> and <c>quay.io/x</c> never collide. A repository may serve only the
/// content reachable from its own index entries (as distribution links blobs to repositories).
/// Blob paths always come from a parsed <see cref="Digest"/> (lowercase hex), never from the request path.
/// The snapshot is rebuilt when an index.json changes (checked at most once a second) or after a push.
/// </summary>
public sealed class RegistryStore
{
    private readonly OciLayout[] _layouts;
    private readonly DistributionStorage[] _storages;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CachedManifest> _manifests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> _verified = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _pushedBlobs = new(StringComparer.Ordinal);
    private readonly object _reloadLock = new();
    private volatile Snapshot _snapshot;
    private long _nextCheck;

    public RegistryStore(IReadOnlyList<OciLayout> layouts, OciLayout? writable, ILogger logger, IReadOnlyList<DistributionStorage>? storages = null)
    {
        _storages = storages is null ? [] : [.. storages];
        _layouts = writable is null ? [.. layouts] : [.. layouts, writable];
        Writable = writable;
        _logger = logger;
        _snapshot = Build();
    }

    /// <summary>The layout pushes go to, or null when the registry is read-only.</summary>
    public OciLayout? Writable { get; }

    public IReadOnlyList<OciLayout> Layouts => _layouts;

    /// <summary>docker/distribution storage trees served (Sealer's own cluster images).</summary>
    public IReadOnlyList<DistributionStorage> Storages => _storages;

    /// <summary>Whether blobs are re-hashed before they are first served.</summary>
    public bool VerifyBlobs { get; init; } = true;

    /// <summary>Full repository names (<c>docker.io/library/nginx</c>), sorted.</summary>
    /// <summary>Full repository names (<c>docker.io/library/nginx</c>) and domainless ones from distribution storage (<c>library/nginx</c>), sorted.</summary>
    public IReadOnlyList<string> RepositoryNames => Current.AllNames;

    /// <summary>Domains found in the layouts, sorted (for runtime config generation).</summary>
    public IReadOnlyList<string> Domains => Current.Names.Select(n => n[..n.IndexOf('/')]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    public bool HasRepository(string fullName) => TryRepo(Current, fullName, out _);

    /// <summary>A full name's repository: from the OCI layouts, else a domainless one of the same path (distribution storage).</summary>
    private static bool TryRepo(Snapshot snap, string fullName, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Repo? repo)
    {
        if (snap.Repos.TryGetValue(fullName, out repo)) return true;
        int slash = fullName.IndexOf('/');
        return snap.Domainless.TryGetValue(slash >= 0 ? fullName[(slash + 1)..] : fullName, out repo);
    }

    private Snapshot Current
    {
        get
        {
            long now = Environment.TickCount64;
            if (now >= Interlocked.Read(ref _nextCheck))
            {
                Interlocked.Exchange(ref _nextCheck, now + 1000);
                if (_snapshot.Stamps.Where((s, i) => s != IndexStamp(_layouts[i])).Any()) Reload();
            }
            return _snapshot;
        }
    }

    /// <summary>Rebuilds the view from the layouts' index.json files now.</summary>
    public void Reload()
    {
        lock (_reloadLock) _snapshot = Build();
    }

    public IReadOnlyList<string> Tags(string fullName)
        => TryRepo(Current, fullName, out var r) ? r.SortedTags : [];

    /// <summary>Resolves a tag to its manifest descriptor in a repository.</summary>
    public Descriptor? ResolveTag(string fullName, string tag)
        => TryRepo(Current, fullName, out var r) && r.Tags.TryGetValue(tag, out var d) ? d : null;

    /// <summary>True when <paramref name="digest"/> belongs to the repository (reachable from its images, or pushed to it).</summary>
    public bool Contains(string fullName, Digest digest)
    {
        string d = digest.ToString();
        if (TryRepo(Current, fullName, out var r) && r.Content.Contains(d)) return true;
        return _pushedBlobs.TryGetValue(fullName, out var set) && set.ContainsKey(d);
    }

    /// <summary>The manifest or index with this digest (bytes verified), or null when it is not a manifest we hold.</summary>
    public CachedManifest? GetManifest(Digest digest, string? mediaTypeHint = null)
    {
        string key = digest.ToString();
        if (_manifests.TryGetValue(key, out var cached)) return cached;
        if (FindBlob(digest) is not { } at) return null;
        byte[] bytes;
        try
        {
            if (at.Length > OciLimits.MaxManifestBytes) return null;
            bytes = new byte[at.Length];
            using (var handle = File.OpenHandle(at.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete))
            {
                if (RandomAccess.Read(handle, bytes, at.Offset) != bytes.Length) return null;
            }
            OciLayout.VerifyBytes(bytes, digest, at.Path);
        }
        catch (SealerException ex)
        {
            _logger.LogError("{Code}: {Message}", ex.Code, ex.Message);
            return null;
        }
        catch (IOException)
        {
            return null;
        }
        string? mediaType = DetectManifestMediaType(bytes, mediaTypeHint);
        if (mediaType is null) return null;
        var m = new CachedManifest(key, bytes, mediaType);
        _manifests[key] = m;
        return m;
    }

    /// <summary>
    /// Where a blob's bytes lie: its own file (in an OCI layout's <c>blobs/</c> or a distribution storage's
    /// <c>blobs/.../data</c>; one stat each), else the member of the content-store layer a layout links to
    /// (<see cref="InStoreBlobs"/>; a link to anything but that layer is logged and not followed), else null. Paths are
    /// built from the parsed digest only.
    /// </summary>
    public BlobLocation? FindBlob(Digest digest)
    {
        static BlobLocation? Own(string path) => new FileInfo(path) is { Exists: true } info ? new BlobLocation(path, 0, info.Length) : null;
        foreach (var layout in _layouts) if (Own(layout.BlobPath(digest)) is { } inLayout) return inLayout;
        foreach (var storage in _storages) if (Own(storage.BlobPath(digest)) is { } inStorage) return inStorage;
        foreach (var layout in _layouts)
        {
            if (InStoreBlobs.Locate(InStoreBlobs.LinkPath(layout.Root, digest), digest, out var problem) is { } at) return at;
            if (problem is not null)
            {
                _logger.LogError("{Code}: blob {Digest} is not served: {Problem}. Run 'sealer run' again to restore the registry's links.", ErrorCodes.RegistryLayoutInvalid, digest, problem);
            }
        }
        return null;
    }

    /// <summary>
    /// True when the blob on disk still has its digest. Hashed once per process and remembered (concurrent first requests share
    /// one hash); a corrupt blob is logged and never served.
    /// </summary>
    public Task<bool> VerifyBlobAsync(BlobLocation at, Digest digest)
    {
        if (!VerifyBlobs) return Task.FromResult(true);
        var lazy = _verified.GetOrAdd($"{at.Path}\0{at.Offset}\0{at.Length}", _ => new Lazy<Task<bool>>(() => HashAsync(at, digest)));
        return lazy.Value;
    }

    private async Task<bool> HashAsync(BlobLocation at, Digest digest)
    {
        using var hash = digest.CreateHash();
        using var handle = File.OpenHandle(at.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous | FileOptions.SequentialScan);
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 18);
        try
        {
            long offset = at.Offset, end = at.Offset + at.Length;
            while (offset < end)
            {
                int n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, (int)Math.Min(buffer.Length, end - offset)), offset).ConfigureAwait(false);
                if (n <= 0) break;
                hash.AppendData(buffer, 0, n);
                offset += n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        bool ok = Digest.FromHash(digest.Algorithm, hash.GetHashAndReset()) == digest;
        if (!ok)
        {
            string where = at.Offset == 0 ? $"'{at.Path}'" : $"bytes {at.Offset}+{at.Length} of '{at.Path}'";
            _logger.LogError("{Code}: blob {Digest} ({Where}) does not match its digest; it is not served. Restore the layout from the cluster image.", ErrorCodes.DigestMismatch, digest, where);
        }
        return ok;
    }

    /// <summary>Records that a blob was pushed or mounted into a repository (so HEAD/GET work before its manifest arrives).</summary>
    public void AddPushedBlob(string fullName, Digest digest)
        => _pushedBlobs.GetOrAdd(fullName, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))[digest.ToString()] = 0;

    private static DateTime IndexStamp(OciLayout layout)
    {
        try { return File.GetLastWriteTimeUtc(layout.IndexPath); } catch (IOException) { return default; }
    }

    private Snapshot Build()
    {
        var repos = new Dictionary<string, RepoBuilder>(StringComparer.Ordinal);
        var stamps = new DateTime[_layouts.Length];
        var referrers = new Dictionary<string, List<Descriptor>>(StringComparer.Ordinal);
        var unnamed = new List<Descriptor>();
        for (int i = 0; i < _layouts.Length; i++)
        {
            var layout = _layouts[i];
            stamps[i] = IndexStamp(layout);
            ImageIndex index;
            try
            {
                index = layout.ReadIndex();
            }
            catch (Exception ex) when (ex is SealerException or IOException)
            {
                _logger.LogError("{Code}: cannot read '{Index}': {Message}", ErrorCodes.RegistryLayoutInvalid, layout.IndexPath, ex.Message);
                continue;
            }
            foreach (var entry in index.Manifests)
            {
                string? refName = entry.GetAnnotation(Annotations.RefName);
                if (refName is null)
                {
                    unnamed.Add(entry);
                    continue;
                }
                if (!IsFullReference(refName) || !ImageReference.TryParse(refName, out var reference, out var error))
                {
                    _logger.LogWarning("{Code}: '{Index}' has an entry named '{Ref}' that is not a full image reference (domain/repository:tag); it is not served.",
                        ErrorCodes.RegistryRefNameInvalid, layout.IndexPath, refName);
                    continue;
                }
                if (!Digest.TryParse(entry.Digest, out var digest))
                {
                    _logger.LogWarning("{Code}: '{Index}': entry '{Ref}' has a malformed digest; it is not served.", ErrorCodes.RegistryRefNameInvalid, layout.IndexPath, refName);
                    continue;
                }
                if (!repos.TryGetValue(reference.Name, out var repo)) repos[reference.Name] = repo = new RepoBuilder();
                if (reference.Tag is not null)
                {
                    if (repo.Tags.TryGetValue(reference.Tag, out var existing))
                    {
                        if (existing.Digest != entry.Digest)
                        {
                            _logger.LogWarning("{Code}: {Ref} is {Digest} in an earlier layout and {Other} in '{Layout}'; serving the first.",
                                ErrorCodes.RegistryRefConflict, refName, existing.Digest, entry.Digest, layout.Root);
                        }
                        continue;
                    }
                }
                if (!Walk(repo.Content, referrers, digest, entry.MediaType, 0))
                {
                    _logger.LogWarning("{Code}: the manifest of {Ref} ({Digest}) is missing or corrupt in '{Layout}'; it is not served.",
                        ErrorCodes.RegistryManifestUnreadable, refName, entry.Digest, layout.Root);
                    continue;
                }
                if (reference.Tag is not null) repo.Tags[reference.Tag] = entry;
            }
        }
        // Entries without a name that refer to (have as subject) content of a repository are that repository's referrers
        // (signatures, SBOMs copied along with an image).
        foreach (var entry in unnamed)
        {
            if (!Digest.TryParse(entry.Digest, out var digest) || GetManifest(digest, entry.MediaType) is not { } m) continue;
            string? subject = SubjectOf(m);
            if (subject is null) continue;
            foreach (var repo in repos.Values.Where(r => r.Content.Contains(subject))) Walk(repo.Content, referrers, digest, entry.MediaType, 0);
        }
        var frozen = repos.Where(kv => kv.Value.Content.Count > 0).ToDictionary(
            kv => kv.Key,
            kv => new Repo(kv.Value.Tags.ToFrozenDictionary(StringComparer.Ordinal), kv.Value.Content.ToFrozenSet(StringComparer.Ordinal),
                kv.Value.Tags.Keys.Order(StringComparer.Ordinal).ToArray()),
            StringComparer.Ordinal);
        var domainless = new Dictionary<string, Repo>(StringComparer.Ordinal);
        foreach (var storage in _storages)
        {
            try
            {
                foreach (var stored in storage.Repositories())
                {
                    if (domainless.ContainsKey(stored.Path)) continue;
                    var tags = stored.Tags.ToFrozenDictionary(kv => kv.Key, kv => new Descriptor { MediaType = "", Digest = kv.Value, Size = 0 }, StringComparer.Ordinal);
                    var content = new HashSet<string>(stored.Content, StringComparer.Ordinal);
                    // Walk the tagged manifests too (configs and layers, index children), so content is complete even if links are.
                    foreach (var d in stored.Tags.Values.Distinct()) if (Digest.TryParse(d, out var dd)) Walk(content, referrers, dd, null, 0);
                    domainless[stored.Path] = new Repo(tags, content.ToFrozenSet(StringComparer.Ordinal), stored.Tags.Keys.Order(StringComparer.Ordinal).ToArray());
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogError("{Code}: cannot read the registry storage '{Root}': {Message}", ErrorCodes.RegistryLayoutInvalid, storage.Root, ex.Message);
            }
        }
        string[] names = frozen.Keys.Order(StringComparer.Ordinal).ToArray();
        return new Snapshot(frozen.ToFrozenDictionary(StringComparer.Ordinal), names, stamps,
            referrers.ToFrozenDictionary(kv => kv.Key, kv => (IReadOnlyList<Descriptor>)kv.Value.DistinctBy(d => d.Digest).ToArray(), StringComparer.Ordinal),
            domainless.ToFrozenDictionary(StringComparer.Ordinal), names.Concat(domainless.Keys).Order(StringComparer.Ordinal).ToArray());
    }

    /// <summary>Adds a manifest/index and everything it references (that is present) to <paramref name="content"/>.</summary>
    private bool Walk(HashSet<string> content, Dictionary<string, List<Descriptor>> referrers, Digest digest, string? mediaType, int depth)
    {
        if (depth > 8) return false;
        var m = GetManifest(digest, mediaType);
        if (m is null) return false;
        content.Add(m.Digest);
        try
        {
            if (MediaTypes.IsIndex(m.MediaType))
            {
                var index = OciJsonContext.FromBytes(m.Bytes, OciJsonContext.Default.ImageIndex, m.Digest);
                AddReferrer(referrers, m, index.Subject, index.ArtifactType, index.Annotations);
                foreach (var child in index.Manifests)
                {
                    // Only the wanted platforms' manifests are in a cache; absent children are fine.
                    if (Digest.TryParse(child.Digest, out var cd) && FindBlob(cd) is not null) Walk(content, referrers, cd, child.MediaType, depth + 1);
                }
            }
            else
            {
                var manifest = OciJsonContext.FromBytes(m.Bytes, OciJsonContext.Default.ImageManifest, m.Digest);
                AddReferrer(referrers, m, manifest.Subject, manifest.ArtifactType ?? manifest.Config.MediaType, manifest.Annotations);
                content.Add(manifest.Config.Digest);
                foreach (var layer in manifest.Layers) content.Add(layer.Digest);
            }
        }
        catch (SealerException ex)
        {
            _logger.LogWarning("{Code}: {Message}", ex.Code, ex.Message);
            return false;
        }
        return true;
    }

    private static void AddReferrer(Dictionary<string, List<Descriptor>> referrers, CachedManifest m, Descriptor? subject, string? artifactType, IReadOnlyDictionary<string, string>? annotations)
    {
        if (subject is null) return;
        if (!referrers.TryGetValue(subject.Digest, out var list)) referrers[subject.Digest] = list = [];
        list.Add(new Descriptor { MediaType = m.MediaType, Digest = m.Digest, Size = m.Bytes.Length, ArtifactType = string.IsNullOrEmpty(artifactType) ? null : artifactType, Annotations = annotations });
    }

    private static string? SubjectOf(CachedManifest m)
    {
        try
        {
            return MediaTypes.IsIndex(m.MediaType)
                ? OciJsonContext.FromBytes(m.Bytes, OciJsonContext.Default.ImageIndex, m.Digest).Subject?.Digest
                : OciJsonContext.FromBytes(m.Bytes, OciJsonContext.Default.ImageManifest, m.Digest).Subject?.Digest;
        }
        catch (SealerException)
        {
            return null;
        }
    }

    /// <summary>The manifests of a repository whose subject is <paramref name="digest"/> (the referrers API), optionally by artifactType.</summary>
    public IReadOnlyList<Descriptor> Referrers(string fullName, Digest digest, string? artifactType)
    {
        var snap = Current;
        if (!TryRepo(snap, fullName, out var repo) || !snap.Referrers.TryGetValue(digest.ToString(), out var list)) return [];
        return list.Where(d => repo.Content.Contains(d.Digest) && (artifactType is null || d.ArtifactType == artifactType)).ToList();
    }

    /// <summary>
    /// A ref name is served only when it is a full reference: it has a '/' or ':' or '@'. A bare tag (<c>latest</c>, as
    /// <c>skopeo copy ... oci:dir:latest</c> writes) names no repository.
    /// </summary>
    private static bool IsFullReference(string refName) => refName.IndexOfAny(['/', ':', '@']) >= 0;

    /// <summary>The manifest media type: its own mediaType field, else the index.json hint, else by shape.</summary>
    internal static string? DetectManifestMediaType(byte[] bytes, string? hint)
    {
        ManifestProbe probe;
        try
        {
            probe = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ManifestProbe, "manifest");
        }
        catch (SealerException)
        {
            return null;
        }
        if (probe.SchemaVersion != 2) return null;
        if (probe.MediaType is { Length: > 0 } mt) return MediaTypes.IsIndex(mt) || MediaTypes.IsManifest(mt) ? mt : null;
        if (hint is not null && (MediaTypes.IsIndex(hint) || MediaTypes.IsManifest(hint))) return hint;
        if (probe.Manifests is not null) return MediaTypes.OciIndex;
        if (probe.Config is not null) return MediaTypes.OciManifest;
        return null;
    }

    private sealed class RepoBuilder
    {
        public Dictionary<string, Descriptor> Tags { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Content { get; } = new(StringComparer.Ordinal);
    }

    private sealed record Repo(FrozenDictionary<string, Descriptor> Tags, FrozenSet<string> Content, string[] SortedTags);

    private sealed record Snapshot(FrozenDictionary<string, Repo> Repos, string[] Names, DateTime[] Stamps, FrozenDictionary<string, IReadOnlyList<Descriptor>> Referrers,
        FrozenDictionary<string, Repo> Domainless, string[] AllNames);
}

/// <summary>A manifest or index held in memory: exact bytes (as hashed), and its media type.</summary>
public sealed record CachedManifest(string Digest, byte[] Bytes, string MediaType);
