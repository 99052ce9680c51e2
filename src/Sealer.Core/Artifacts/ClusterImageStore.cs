using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Artifacts;

/// <summary>A cluster image in the local store: its full name, root descriptor, platforms and total size.</summary>
public sealed record StoredImage(string Name, Descriptor Descriptor, IReadOnlyList<string> Platforms, long Size)
{
    public string Digest => Descriptor.Digest;
}

/// <summary>
/// The local cluster image store: an <see cref="OciLayout"/> (default <c>~/.sealer/images</c>, or <c>SEALER_IMAGES_DIR</c>)
/// whose index.json entries carry the <b>full normalized reference</b> in <c>org.opencontainers.image.ref.name</c>
/// (<c>docker.io/library/kubernetes:v1.30</c>), like the image cache. Blobs dedupe across images; removing an image
/// only drops its name, and <see cref="Prune"/> frees what no name reaches any more.
/// </summary>
public sealed class ClusterImageStore
{
    public const string DirectoryVariable = "SEALER_IMAGES_DIR";

    private ClusterImageStore(OciLayout layout) => Layout = layout;

    public OciLayout Layout { get; }

    public string Root => Layout.Root;

    /// <summary><c>SEALER_IMAGES_DIR</c>, else <c>~/.sealer/images</c>.</summary>
    public static string DefaultDirectory
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable(DirectoryVariable);
            if (!string.IsNullOrWhiteSpace(env)) return Path.GetFullPath(env);
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sealer", "images");
        }
    }

    /// <summary>The image cache the builds pull into (<c>SEALER_CACHE_DIR</c>, else <c>~/.sealer/cache</c>), for prune.</summary>
    public static string DefaultCacheDirectory
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("SEALER_CACHE_DIR");
            if (!string.IsNullOrWhiteSpace(env)) return Path.GetFullPath(env);
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sealer", "cache");
        }
    }

    public static ClusterImageStore Open(string? directory = null) => new(OciLayout.OpenOrCreate(directory ?? DefaultDirectory));

    /// <summary>Normalizes a user-given name to the full reference stored in index.json (<c>docker.io/library/x:latest</c>).</summary>
    public static string NormalizeName(string name)
    {
        if (!ImageReference.TryParse(name, out var reference, out var error))
        {
            throw new SealerException(ErrorCodes.InvalidStoreName, $"'{name}' is not a valid cluster image name: {error}. Write e.g. registry.example.com/team/cluster:v1.");
        }
        return reference.ToString();
    }

    /// <summary>Every named image, sorted by name.</summary>
    public IReadOnlyList<StoredImage> List()
    {
        var result = new List<StoredImage>();
        foreach (var entry in Layout.ReadIndex().Manifests)
        {
            string? name = entry.GetAnnotation(Annotations.RefName);
            if (name is null) continue; // a referrer (signature, SBOM) or an unnamed root
            result.Add(Describe(name, entry));
        }
        return result.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
    }

    private StoredImage Describe(string name, Descriptor entry)
    {
        try
        {
            var graph = ImageGraph.Load(Layout, entry, requireBlobs: false);
            var platforms = graph.PlatformManifests().Select(p => p.Platform?.ToString() ?? PlatformFromConfig(p.Manifest) ?? "unknown").Distinct().ToList();
            return new StoredImage(name, entry, platforms, graph.TotalSize);
        }
        catch (SealerException)
        {
            return new StoredImage(name, entry, ["(incomplete)"], entry.Size);
        }
    }

    private string? PlatformFromConfig(GraphManifest m)
    {
        if (m.Manifest is null || !Layout.HasBlob(m.Manifest.Config.ParsedDigest)) return null;
        try
        {
            var config = OciJsonContext.FromBytes(Layout.ReadBlobBytes(m.Manifest.Config.ParsedDigest, OciLimits.MaxConfigBytes), OciJsonContext.Default.ImageConfig, "config");
            return new Platform { Os = config.Os, Architecture = config.Architecture, Variant = config.Variant }.ToString();
        }
        catch (SealerException)
        {
            return null;
        }
    }

    /// <summary>
    /// Finds an image by name (normalized as Docker does: <c>kubernetes:v1</c> is <c>docker.io/library/kubernetes:v1</c>),
    /// by <c>sha256:…</c> digest or by a unique digest prefix of at least 6 hex digits, as <c>docker images</c> allows.
    /// </summary>
    public StoredImage Resolve(string nameOrDigest)
    {
        var found = TryResolve(nameOrDigest);
        return found ?? throw new SealerException(ErrorCodes.ImageNotInStore,
            $"No cluster image '{nameOrDigest}' in the local store '{Root}'. Run 'sealer images' to list them, or 'sealer pull'/'sealer load' it first.");
    }

    public StoredImage? TryResolve(string nameOrDigest)
    {
        var entries = Layout.ReadIndex().Manifests.Where(d => d.GetAnnotation(Annotations.RefName) is not null).ToList();
        string s = nameOrDigest.Trim();
        string hex = s.StartsWith("sha256:", StringComparison.Ordinal) ? s[7..] : s;
        if (hex.Length >= 6 && hex.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
        {
            var byDigest = entries.Where(d => d.ParsedDigest.Encoded.StartsWith(hex, StringComparison.Ordinal)).ToList();
            if (byDigest.Select(d => d.Digest).Distinct().Count() > 1)
            {
                throw new SealerException(ErrorCodes.ImageNotInStore, $"'{nameOrDigest}' matches several images; give more digits or the name.");
            }
            if (byDigest.Count > 0) return Describe(byDigest[0].GetAnnotation(Annotations.RefName)!, byDigest[0]);
            if (s.StartsWith("sha256:", StringComparison.Ordinal)) return null;
        }
        if (!ImageReference.TryParse(s, out var reference, out _)) return null;
        string full = reference.ToString();
        var entry = entries.FirstOrDefault(d => d.GetAnnotation(Annotations.RefName) == full);
        if (entry is null && reference.Digest is not null)
        {
            entry = entries.FirstOrDefault(d => d.Digest == reference.Digest);
        }
        return entry is null ? null : Describe(full, entry);
    }

    /// <summary>Stores <paramref name="root"/> (already in <see cref="Layout"/>, graph complete) under <paramref name="name"/>.</summary>
    public StoredImage Add(string name, Descriptor root)
    {
        string full = NormalizeName(name);
        var graph = ImageGraph.Load(Layout, root); // throws when incomplete: never name a half image
        var entry = new Descriptor { MediaType = root.MediaType, Digest = root.Digest, Size = root.Size, Platform = root.Platform };
        Layout.SetRef(full, entry);
        return Describe(full, Layout.FindRef(full)!) with { Size = graph.TotalSize };
    }

    /// <summary>Gives the image <paramref name="source"/> the extra name <paramref name="target"/> (replacing what had it).</summary>
    public StoredImage Tag(string source, string target) => Add(target, Resolve(source).Descriptor);

    /// <summary>Removes a name. The blobs stay until <see cref="Prune"/> (other names may share them).</summary>
    public StoredImage Remove(string name)
    {
        var image = Resolve(name);
        Layout.UpdateIndex(list => list.Where(d => d.GetAnnotation(Annotations.RefName) != image.Name).ToList());
        return image;
    }

    /// <summary>
    /// Loads an archive written by <c>sealer save</c> — full or delta (<see cref="DeltaArchive"/>), plain, zstd or gzip —, a
    /// site bundle (its archive read in place, across its parts when split) or an OCI layout directory into this store:
    /// every blob verified as it is stored, a delta's graph completed from the base's blobs already here, images named only
    /// when whole. A delta whose base is not here is
    /// <see cref="ErrorCodes.DeltaBaseMissing"/> before anything is written. <see cref="ArchiveLoadResult.Delta"/> says
    /// which kind it was.
    /// </summary>
    public Task<ArchiveLoadResult> LoadAsync(string path, OciArchive.LoadOptions? options = null, CancellationToken cancellationToken = default)
        => OciArchive.LoadArchiveAsync(this, path, options, cancellationToken);

    /// <summary><see cref="LoadAsync(string, OciArchive.LoadOptions?, CancellationToken)"/> from a stream (stdin, ssh); <paramref name="what"/> names it in messages.</summary>
    public Task<ArchiveLoadResult> LoadAsync(Stream input, string what, OciArchive.LoadOptions? options = null, CancellationToken cancellationToken = default)
        => OciArchive.LoadArchiveFromStreamAsync(this, input, what, options, cancellationToken);

    /// <summary>
    /// Copies an image graph from another layout (a build's output, an unpacked archive) into the store, blob by blob
    /// (hard links when on the same file system, else streamed and verified), then names it.
    /// </summary>
    public async Task<StoredImage> ImportAsync(OciLayout source, Descriptor root, string name, CancellationToken cancellationToken = default)
    {
        var graph = ImageGraph.Load(source, root);
        foreach (var blob in graph.Blobs)
        {
            await CopyBlobAsync(source, Layout, blob.ParsedDigest, blob.Size, cancellationToken).ConfigureAwait(false);
        }
        foreach (var m in graph.Manifests)
        {
            Layout.WriteBlob(m.Bytes, m.Descriptor.MediaType);
        }
        return Add(name, root);
    }

    internal static async Task CopyBlobAsync(OciLayout from, OciLayout to, Digest digest, long size, CancellationToken cancellationToken)
    {
        if (to.HasBlob(digest, size)) return;
        await using var stream = from.OpenBlob(digest);
        await to.WriteBlobAsync(stream, digest, size, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
