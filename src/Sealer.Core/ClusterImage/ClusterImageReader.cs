using System.Formats.Tar;
using System.IO.Compression;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.IO;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// The one reader of cluster images (the format is <see cref="ClusterImageFormat"/>): from an OCI layout directory, an OCI
/// archive (.tar) without unpacking it, or an image stored in a layout (the store, the image cache, Delivery's copy).
/// Per platform: manifest, config, labels, env, the decoded <c>sealer.image.extension</c>; and what the registry layer
/// carries (<c>registry/index.json</c>, <c>registry/images.json</c>, the app images' manifests). Also reads Sealer-built
/// images (extension, labels; their docker-distribution registry is not listed). Build (FROM), Artifacts (inspect) and
/// Delivery all read images through it.
/// </summary>
public sealed class ClusterImageReader
{
    /// <summary>A layer bigger than this is never taken for an unmarked registry layer (it holds app image blobs).</summary>
    private const long MaxRegistryLayerBytes = 256L * 1024 * 1024;

    private readonly Func<Digest, long, byte[]> _read;
    private readonly Func<Digest, bool> _has;
    private readonly Dictionary<string, Dictionary<string, byte[]>?> _registryLayers = new(StringComparer.Ordinal);

    private ClusterImageReader(Func<Digest, long, byte[]> read, Func<Digest, bool> has, Descriptor descriptor, string? refName, bool skipMissingPlatforms)
    {
        _read = read;
        _has = has;
        Descriptor = descriptor;
        RefName = refName;
        Platforms = LoadPlatforms(skipMissingPlatforms);
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
        return new ClusterImageReader((d, max) => layout.ReadBlobBytes(d, max), d => layout.HasBlob(d), top, top.GetAnnotation(Annotations.RefName), skipMissingPlatforms: false);
    }

    /// <summary>Opens an OCI archive in place (<see cref="ArchiveLayout"/>: the tar headers are walked, no data copied).</summary>
    public static ClusterImageReader OpenArchive(string path, string? refName = null)
    {
        if (!File.Exists(path)) throw new SealerException(ErrorCodes.NotAClusterImage, $"'{path}' does not exist; give a cluster image layout directory or .tar archive.");
        return Open(ArchiveLayout.Open(path), refName);
    }

    /// <summary>Opens the image of an archive read in place (a .tar file or the archive inside a site bundle).</summary>
    public static ClusterImageReader Open(ArchiveLayout archive, string? refName = null)
    {
        var top = Pick(archive.ReadIndex(), refName, archive.Path);
        return new ClusterImageReader((d, max) => archive.ReadBlobBytes(d, max), d => archive.HasBlob(d), top, top.GetAnnotation(Annotations.RefName), skipMissingPlatforms: false);
    }

    /// <summary>
    /// Opens an image stored in a layout by its top descriptor. With <paramref name="skipMissingPlatforms"/> (the image
    /// cache holds only the platforms that were pulled) an index's manifests that are not in the layout are left out of
    /// <see cref="Platforms"/> (<see cref="ManifestFor"/> then answers null for them); without it a missing one is an error.
    /// </summary>
    public static ClusterImageReader Open(OciLayout layout, Descriptor top, string? refName = null, bool skipMissingPlatforms = true)
        => new((d, max) => layout.ReadBlobBytes(d, max), d => layout.HasBlob(d), top, refName, skipMissingPlatforms);

    private static Descriptor Pick(ImageIndex index, string? refName, string where)
    {
        if (refName is not null)
        {
            return index.Manifests.FirstOrDefault(m => m.GetAnnotation(Annotations.RefName) == refName)
                ?? throw new SealerException(ErrorCodes.NotAClusterImage, $"'{where}' has no image named '{refName}' (it has: {string.Join(", ", index.Manifests.Select(m => m.GetAnnotation(Annotations.RefName) ?? m.Digest))}).");
        }
        // Unnamed entries beside one named image are what is attached to it (a cosign signature, an SBOM: referrers kept
        // in the build output or copied along with it), not images to choose from.
        var named = index.Manifests.Where(m => m.GetAnnotation(Annotations.RefName) is not null).ToList();
        if (named.Count == 1) return named[0];
        return index.Manifests.Count switch
        {
            1 => index.Manifests[0],
            0 => throw new SealerException(ErrorCodes.NotAClusterImage, $"'{where}' holds no image (its index.json is empty)."),
            _ => throw new SealerException(ErrorCodes.NotAClusterImage, $"'{where}' holds {index.Manifests.Count} images; name one of: {string.Join(", ", index.Manifests.Select(m => m.GetAnnotation(Annotations.RefName) ?? m.Digest))}."),
        };
    }

    private List<ClusterImagePlatform> LoadPlatforms(bool skipMissing)
    {
        var list = new List<ClusterImagePlatform>();
        if (MediaTypes.IsIndex(Descriptor.MediaType))
        {
            var index = OciJsonContext.FromBytes(_read(Descriptor.ParsedDigest, OciLimits.MaxManifestBytes), OciJsonContext.Default.ImageIndex, $"index {Descriptor.Digest}");
            foreach (var m in index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType)))
            {
                if (skipMissing && !_has(m.ParsedDigest)) continue; // a platform that was not pulled
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
        var extension = ClusterImageFormat.ReadExtension(manifest, $"manifest {d.Digest}" + (RefName is null ? "" : $" ({RefName})"));
        var platform = new Platform { Os = config.Os, Architecture = config.Architecture, Variant = config.Variant };
        return new ClusterImagePlatform(platform, d, manifest, config, extension);
    }

    public ClusterImagePlatform? ManifestFor(Platform platform) => Platforms.FirstOrDefault(p => platform.Matches(p.Platform));

    /// <summary>
    /// The registry layers of one platform, in order: those assembly marked (<see cref="ClusterImageFormat.LayerKindRegistry"/>;
    /// a FROM chain has one per level); for an image without marks, the last small uncompressed tar layer holding
    /// <c>registry/index.json</c>, if any.
    /// </summary>
    public IReadOnlyList<Descriptor> RegistryLayers(ClusterImagePlatform platform)
    {
        var marked = platform.Layers.Where(l => ClusterImageFormat.LayerKind(l) == ClusterImageFormat.LayerKindRegistry).ToList();
        if (marked.Count > 0) return marked;
        foreach (var layer in platform.Layers.Reverse())
        {
            if (layer.MediaType is not (MediaTypes.OciLayer or "application/vnd.docker.image.rootfs.diff.tar") || layer.Size > MaxRegistryLayerBytes || !_has(layer.ParsedDigest)) continue;
            if (ReadRegistryLayer(layer, marked: false) is { } files && files.ContainsKey(ClusterImageFormat.RegistryIndexPath)) return [layer];
        }
        return [];
    }

    /// <summary>The <c>registry/</c> files of one layer (manifests, indexes, configs, index.json, images.json; no big blobs).</summary>
    private Dictionary<string, byte[]>? ReadRegistryLayer(Descriptor layer, bool marked = true)
    {
        if (_registryLayers.TryGetValue(layer.Digest, out var cached)) return cached;
        var files = ScanRegistryLayer(layer, marked, only: null);
        _registryLayers[layer.Digest] = files;
        return files;
    }

    /// <summary>One file of a registry layer (null when absent): the scan stops at it. <c>images.json</c> is the layer's
    /// second entry, so the software list of 600 images does not parse the 1,200 manifest and config headers after it.</summary>
    private byte[]? ReadRegistryFile(Descriptor layer, string path)
    {
        if (_registryLayers.TryGetValue(layer.Digest, out var cached)) return cached?.GetValueOrDefault(path);
        return ScanRegistryLayer(layer, marked: true, only: path)?.GetValueOrDefault(path);
    }

    /// <summary>Reads (digest-verified) and walks one registry layer's tar: every <c>registry/</c> file, or with
    /// <paramref name="only"/> that one file and nothing after it.</summary>
    private Dictionary<string, byte[]>? ScanRegistryLayer(Descriptor layer, bool marked, string? only)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        byte[] bytes = _read(layer.ParsedDigest, MaxRegistryLayerBytes);
        Stream s = new MemoryStream(bytes);
        if (layer.MediaType is MediaTypes.OciLayerGzip or MediaTypes.DockerLayerGzip) s = new GZipStream(s, CompressionMode.Decompress);
        try
        {
            using var tar = new TarReader(s);
            while (tar.GetNextEntry() is { } e)
            {
                string name = e.Name.TrimStart('.', '/');
                if (e.DataStream is null || e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                if (!name.StartsWith("registry/", StringComparison.Ordinal) || e.Length > OciLimits.MaxConfigBytes) continue;
                if (only is not null && name != only) continue;
                var data = new byte[e.Length];
                e.DataStream.ReadExactly(data);
                files[name] = data;
                if (only is not null) break;
            }
        }
        catch (Exception ex) when (CorruptData.Is(ex))
        {
            if (marked) throw new SealerException(ErrorCodes.NotAClusterImage, $"The registry layer {layer.Digest} is not a readable tar: {ex.Message}. Rebuild the cluster image.", inner: ex);
            files = null;
        }
        finally
        {
            s.Dispose();
        }
        return files;
    }

    /// <summary>The app images of one platform's cluster image: the last registry layer's index.json entries (full refs).</summary>
    public IReadOnlyList<Descriptor> RegistryIndex(ClusterImagePlatform platform)
    {
        var layers = RegistryLayers(platform);
        if (layers.Count == 0 || ReadRegistryLayer(layers[^1]) is not { } files || !files.TryGetValue(ClusterImageFormat.RegistryIndexPath, out var bytes)) return [];
        return OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, ClusterImageFormat.RegistryIndexPath).Manifests;
    }

    /// <summary>
    /// The files of every registry layer of one platform, later layers winning (<c>registry/index.json</c>,
    /// <c>registry/blobs/sha256/…</c> manifests, indexes and configs). A FROM chain has one registry layer per level,
    /// so an image carried since a grandparent has its manifests in the grandparent's layer.
    /// </summary>
    public IReadOnlyDictionary<string, byte[]> RegistryFiles(ClusterImagePlatform platform)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var layer in RegistryLayers(platform))
        {
            foreach (var (name, bytes) in ReadRegistryLayer(layer) ?? []) files[name] = bytes;
        }
        return files;
    }

    /// <summary>
    /// The image's software list for one platform: <c>registry/images.json</c> of the last registry layer, else (images
    /// assembled before it existed, other tools) built from <c>registry/index.json</c> and the manifests beside it.
    /// </summary>
    public IReadOnlyList<ContainedImage> ContainedImages(ClusterImagePlatform platform)
    {
        var layers = RegistryLayers(platform);
        if (layers.Count == 0) return [];
        if (ReadRegistryFile(layers[^1], ClusterImageFormat.ImageListPath) is { } list)
        {
            return ClusterImageFormat.ReadImageList(list, $"{ClusterImageFormat.ImageListPath} of layer {layers[^1].Digest}").Images;
        }
        return ClusterImageFormat.ContainedImages(RegistryFiles(platform));
    }

    /// <summary>The full names of the app images one platform carries (<c>registry/index.json</c>), in index order.</summary>
    public IReadOnlyList<string> RegistryImages(ClusterImagePlatform platform)
        => RegistryIndex(platform).Select(d => d.GetAnnotation(Annotations.RefName)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The registry domains of those images, sorted (for containerd's hosts.toml).</summary>
    public IReadOnlyList<string> RegistryDomains(ClusterImagePlatform platform)
        => RegistryImages(platform).Select(r => References.ImageReference.TryParse(r, out var p, out _) ? p.Domain : null).OfType<string>()
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Every app image reference carried, over all platforms, sorted.</summary>
    public IReadOnlyList<string> ImageReferences()
        => Platforms.SelectMany(RegistryImages).Distinct().Order(StringComparer.Ordinal).ToList();
}

/// <summary>One platform's cluster image: its manifest (and descriptor), config, decoded extension and layers.</summary>
public sealed record ClusterImagePlatform(Platform Platform, Descriptor ManifestDescriptor, ImageManifest Manifest, ImageConfig Config, SealerImageExtension? Extension)
{
    public IReadOnlyDictionary<string, string> Labels => Config.Config?.Labels ?? new Dictionary<string, string>();

    /// <summary>The config's ENV as name/value pairs, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env =>
        (Config.Config?.Env ?? []).Select(e => e.Split('=', 2)).Where(p => p.Length == 2).Select(p => new KeyValuePair<string, string>(p[0], p[1])).ToList();

    /// <summary>Apps with their files (<c>launchfiles</c> from v0.9.0 images, <c>files</c> from v0.9.1 on).</summary>
    public IReadOnlyList<SealerApplication> Apps => Extension?.Apps ?? [];

    public IReadOnlyList<Descriptor> Layers => Manifest.Layers;

    /// <summary><see cref="ClusterImageLabels.ContainerRuntimeType"/>, default containerd.</summary>
    public string ContainerRuntime => Labels.TryGetValue(ClusterImageLabels.ContainerRuntimeType, out var v) && v.Length > 0 ? v : ClusterImageFormat.DefaultContainerRuntime;

    /// <summary><see cref="ClusterImageLabels.ClusterRuntimeType"/> (kubernetes, k0s, k3s), default kubernetes.</summary>
    public string ClusterRuntime => Labels.TryGetValue(ClusterImageLabels.ClusterRuntimeType, out var v) && v.Length > 0 ? v : ClusterImageFormat.DefaultClusterRuntime;

    public long TotalLayerBytes => Layers.Sum(l => l.Size);

    /// <summary>
    /// The layers a host needs, in order: a registry host gets every layer; any other host only what is not app image
    /// content, i.e. all but the <c>image-blob</c> and <c>registry</c> layers, which only the built-in registry serves
    /// (Sealer too sends registry data only to its deploy hosts). Unmarked layers (FROM bases, Sealer images) go everywhere.
    /// </summary>
    public IReadOnlyList<Descriptor> LayersFor(bool registryHost) => registryHost ? Layers : Layers.Where(l => !IsRegistryContent(l)).ToList();

    /// <summary><see cref="ClusterImageFormat.IsRegistryContent"/>.</summary>
    public static bool IsRegistryContent(Descriptor layer) => ClusterImageFormat.IsRegistryContent(layer);
}
