using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// Reads a cluster image from an OCI layout directory or an OCI archive (.tar) without unpacking it: platforms,
/// labels, env, apps and launch (from <c>sealer.image.extension</c>), and the app images it carries (from the
/// registry layer's <c>registry/index.json</c>). Also reads Sealer-built images (extension, labels; their
/// docker-distribution registry is not listed).
/// </summary>
public sealed class ClusterImageReader
{
    private readonly Func<Digest, long, byte[]> _read;
    private readonly Func<Digest, bool>? _has;

    private ClusterImageReader(Func<Digest, long, byte[]> read, Descriptor descriptor, string? refName, Func<Digest, bool>? has = null)
    {
        _read = read;
        _has = has;
        Descriptor = descriptor;
        RefName = refName;
        Platforms = LoadPlatforms();
    }

    /// <summary>The top descriptor (manifest, or index over platforms).</summary>
    public Descriptor Descriptor { get; }

    /// <summary>The image's name in the layout's index.json, if any.</summary>
    public string? RefName { get; }

    public IReadOnlyList<ClusterImagePlatform> Platforms { get; }

    /// <summary>Opens a layout directory or an archive file. <paramref name="refName"/> picks an entry when index.json has several.</summary>
    public static ClusterImageReader Open(string path, string? refName = null)
        => Directory.Exists(path) ? OpenLayout(path, refName) : OpenArchive(path, refName);

    public static ClusterImageReader OpenLayout(string path, string? refName = null)
    {
        var layout = OciLayout.Open(path);
        var top = Pick(layout.ReadIndex(), refName, path);
        return new ClusterImageReader((d, max) => layout.ReadBlobBytes(d, max), top, top.GetAnnotation(Annotations.RefName));
    }

    /// <summary>Opens an OCI archive: one pass keeps the small entries (index.json, manifests, configs, the registry layer).</summary>
    public static ClusterImageReader OpenArchive(string path, string? refName = null)
    {
        if (!File.Exists(path)) throw new SealerException(ErrorCodes.NotAClusterImage, $"'{path}' does not exist; give a cluster image layout directory or .tar archive.");
        var small = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var fs = File.OpenRead(path))
        {
            try
            {
                using var tar = new TarReader(fs);
                TarEntry? e;
                while ((e = tar.GetNextEntry()) is not null)
                {
                    if (e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || e.DataStream is null || e.Length > OciLimits.MaxConfigBytes) continue;
                    using var ms = new MemoryStream();
                    e.DataStream.CopyTo(ms);
                    small[e.Name.TrimStart('.', '/')] = ms.ToArray();
                }
            }
            catch (InvalidDataException ex)
            {
                throw new SealerException(ErrorCodes.NotAClusterImage, $"'{path}' is not a tar archive: {ex.Message}", inner: ex);
            }
        }
        if (!small.TryGetValue("index.json", out var indexBytes) || !small.ContainsKey("oci-layout"))
        {
            throw new SealerException(ErrorCodes.NotAClusterImage, $"'{path}' is not an OCI archive (no oci-layout or index.json at its root).");
        }
        var index = OciJsonContext.FromBytes(indexBytes, OciJsonContext.Default.ImageIndex, $"{path}!index.json");
        var top = Pick(index, refName, path);
        byte[] Read(Digest d, long max)
        {
            if (!small.TryGetValue($"blobs/{d.Algorithm}/{d.Encoded}", out var bytes))
            {
                throw new SealerException(ErrorCodes.BlobNotFound, $"Blob {d} is missing from the archive '{path}' (or larger than {max} bytes).");
            }
            OciLayout.VerifyBytes(bytes, d, $"{path}!{d}");
            return bytes;
        }
        return new ClusterImageReader(Read, top, top.GetAnnotation(Annotations.RefName));
    }

    /// <summary>
    /// Opens an image stored in a layout (e.g. a FROM image in the cache) by its top descriptor. The image cache holds only
    /// the platforms that were pulled, so an index's manifests that are not in the layout are left out of
    /// <see cref="Platforms"/> (<see cref="ManifestFor"/> then answers null for them).
    /// </summary>
    public static ClusterImageReader Open(OciLayout layout, Descriptor top, string? refName = null)
        => new((d, max) => layout.ReadBlobBytes(d, max), top, refName, d => layout.HasBlob(d));

    private static Descriptor Pick(ImageIndex index, string? refName, string where)
    {
        if (refName is not null)
        {
            return index.Manifests.FirstOrDefault(m => m.GetAnnotation(Annotations.RefName) == refName)
                ?? throw new SealerException(ErrorCodes.NotAClusterImage, $"'{where}' has no image named '{refName}' (it has: {string.Join(", ", index.Manifests.Select(m => m.GetAnnotation(Annotations.RefName) ?? m.Digest))}).");
        }
        return index.Manifests.Count switch
        {
            1 => index.Manifests[0],
            0 => throw new SealerException(ErrorCodes.NotAClusterImage, $"'{where}' holds no image (its index.json is empty)."),
            _ => throw new SealerException(ErrorCodes.NotAClusterImage, $"'{where}' holds {index.Manifests.Count} images; name one of: {string.Join(", ", index.Manifests.Select(m => m.GetAnnotation(Annotations.RefName) ?? m.Digest))}."),
        };
    }

    private List<ClusterImagePlatform> LoadPlatforms()
    {
        var list = new List<ClusterImagePlatform>();
        if (MediaTypes.IsIndex(Descriptor.MediaType))
        {
            var index = OciJsonContext.FromBytes(_read(Descriptor.ParsedDigest, OciLimits.MaxManifestBytes), OciJsonContext.Default.ImageIndex, $"index {Descriptor.Digest}");
            foreach (var m in index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType)))
            {
                if (_has is not null && !_has(m.ParsedDigest)) continue; // a platform that was not pulled
                list.Add(LoadManifest(m));
            }
        }
        else if (MediaTypes.IsManifest(Descriptor.MediaType))
        {
            list.Add(LoadManifest(Descriptor));
        }
        else
        {
            throw new SealerException(ErrorCodes.NotAClusterImage, $"{Descriptor.Digest} has media type '{Descriptor.MediaType}', which is neither an image manifest nor an index.");
        }
        return list;
    }

    private ClusterImagePlatform LoadManifest(Descriptor d)
    {
        var manifest = OciJsonContext.FromBytes(_read(d.ParsedDigest, OciLimits.MaxManifestBytes), OciJsonContext.Default.ImageManifest, $"manifest {d.Digest}");
        var config = OciJsonContext.FromBytes(_read(manifest.Config.ParsedDigest, OciLimits.MaxConfigBytes), OciJsonContext.Default.ImageConfig, $"config {manifest.Config.Digest}");
        SealerImageExtension? extension = null;
        if (manifest.Annotations is not null && manifest.Annotations.TryGetValue(Annotations.SealerImageExtension, out var json))
        {
            try
            {
                extension = JsonSerializer.Deserialize(json, ClusterImageJsonContext.Default.SealerImageExtension);
            }
            catch (JsonException ex)
            {
                throw new SealerException(ErrorCodes.NotAClusterImage, $"Manifest {d.Digest} has a {Annotations.SealerImageExtension} annotation that is not valid JSON: {ex.Message}", inner: ex);
            }
        }
        var platform = new Platform { Os = config.Os, Architecture = config.Architecture, Variant = config.Variant };
        return new ClusterImagePlatform(platform, d, manifest, config, extension);
    }

    public ClusterImagePlatform? ManifestFor(Platform platform) => Platforms.FirstOrDefault(p => platform.Matches(p.Platform));

    /// <summary>The app images of one platform's cluster image: the registry layer's index.json entries (full refs).</summary>
    public IReadOnlyList<Descriptor> RegistryIndex(ClusterImagePlatform platform)
    {
        var layer = platform.Manifest.Layers.LastOrDefault(l => l.GetAnnotation(ClusterImageBuilder.LayerKindAnnotation) == ClusterImageBuilder.LayerKindRegistry);
        if (layer is null) return [];
        byte[] bytes = _read(layer.ParsedDigest, OciLimits.MaxConfigBytes);
        Stream s = new MemoryStream(bytes);
        if (layer.MediaType is MediaTypes.OciLayerGzip or MediaTypes.DockerLayerGzip) s = new GZipStream(s, CompressionMode.Decompress);
        using var tar = new TarReader(s);
        TarEntry? e;
        while ((e = tar.GetNextEntry()) is not null)
        {
            if (e.Name.TrimStart('.', '/') == "registry/index.json" && e.DataStream is not null)
            {
                using var ms = new MemoryStream();
                e.DataStream.CopyTo(ms);
                return OciJsonContext.FromBytes(ms.ToArray(), OciJsonContext.Default.ImageIndex, "registry/index.json").Manifests;
            }
        }
        return [];
    }

    /// <summary>
    /// The files of every registry layer of one platform, later layers winning (<c>registry/index.json</c>,
    /// <c>registry/blobs/sha256/…</c> manifests, indexes and configs). A FROM chain has one registry layer per level,
    /// so an image carried since a grandparent has its manifests in the grandparent's layer.
    /// </summary>
    public IReadOnlyDictionary<string, byte[]> RegistryFiles(ClusterImagePlatform platform)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var layer in platform.Manifest.Layers.Where(l => l.GetAnnotation(ClusterImageBuilder.LayerKindAnnotation) == ClusterImageBuilder.LayerKindRegistry))
        {
            byte[] bytes = _read(layer.ParsedDigest, OciLimits.MaxConfigBytes);
            Stream s = new MemoryStream(bytes);
            if (layer.MediaType is MediaTypes.OciLayerGzip or MediaTypes.DockerLayerGzip) s = new GZipStream(s, CompressionMode.Decompress);
            using var tar = new TarReader(s);
            TarEntry? e;
            while ((e = tar.GetNextEntry()) is not null)
            {
                if (e.DataStream is null || e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                using var ms = new MemoryStream();
                e.DataStream.CopyTo(ms);
                files[e.Name.TrimStart('.', '/')] = ms.ToArray();
            }
        }
        return files;
    }

    /// <summary>Every app image reference carried, over all platforms, sorted.</summary>
    public IReadOnlyList<string> ImageReferences()
        => Platforms.SelectMany(RegistryIndex).Select(d => d.GetAnnotation(Annotations.RefName)).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
}

/// <summary>One platform's cluster image.</summary>
public sealed record ClusterImagePlatform(Platform Platform, Descriptor Descriptor, ImageManifest Manifest, ImageConfig Config, SealerImageExtension? Extension)
{
    public IReadOnlyDictionary<string, string> Labels => Config.Config?.Labels ?? new Dictionary<string, string>();

    public IReadOnlyList<string> Env => Config.Config?.Env ?? [];

    /// <summary>Apps with their files (<c>launchfiles</c> from v0.9.0 images, <c>files</c> from v0.9.1 on).</summary>
    public IReadOnlyList<SealerApplication> Apps => Extension?.Applications ?? [];
}
