using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.Delivery;

/// <summary>One platform's image of a cluster image: its manifest, config and layers (files in the local layout).</summary>
public sealed record ClusterImagePlatform(Platform Platform, Descriptor ManifestDescriptor, ImageManifest Manifest, ImageConfig Config, IReadOnlyList<Descriptor> Layers)
{
    public IReadOnlyDictionary<string, string> Labels => Config.Config?.Labels ?? new Dictionary<string, string>();

    /// <summary><c>cluster.alpha.sealer.io/container-runtime-type</c>, default containerd.</summary>
    public string ContainerRuntime => Labels.TryGetValue("cluster.alpha.sealer.io/container-runtime-type", out var v) && v.Length > 0 ? v : "containerd";

    /// <summary><c>cluster.alpha.sealer.io/cluster-runtime-type</c> (kubernetes, k0s, k3s), default kubernetes.</summary>
    public string ClusterRuntime => Labels.TryGetValue("cluster.alpha.sealer.io/cluster-runtime-type", out var v) && v.Length > 0 ? v : "kubernetes";

    public IReadOnlyList<KeyValuePair<string, string>> Env =>
        (Config.Config?.Env ?? []).Select(e => e.Split('=', 2)).Where(p => p.Length == 2).Select(p => new KeyValuePair<string, string>(p[0], p[1])).ToList();

    public long TotalLayerBytes => Layers.Sum(l => l.Size);

    /// <summary>
    /// The layers a host needs, in order: a registry host (<c>ClusterInstaller</c>'s registry hosts) gets every layer; any
    /// other host only what is not app image content, i.e. all but the per-blob (<c>image-blob</c>) and <c>registry</c>
    /// metadata layers, which only the built-in registry serves (Sealer too sends registry data only to its deploy hosts).
    /// Layers without our <see cref="ClusterImage.ClusterImageBuilder.LayerKindAnnotation"/> (FROM bases, Sealer images) go everywhere.
    /// </summary>
    public IReadOnlyList<Descriptor> LayersFor(bool registryHost) => registryHost ? Layers : Layers.Where(l => !IsRegistryContent(l)).ToList();

    /// <summary>An <c>image-blob</c> or <c>registry</c> layer: content only the built-in registry reads.</summary>
    public static bool IsRegistryContent(Descriptor layer) =>
        layer.GetAnnotation(ClusterImage.ClusterImageBuilder.LayerKindAnnotation) is ClusterImage.ClusterImageBuilder.LayerKindImageBlob or ClusterImage.ClusterImageBuilder.LayerKindRegistry;
}

/// <summary>What <c>sealer.image.extension</c> says: type, apps and what to launch.</summary>
/// <summary>An app the image registers (Kubefile APP, with APPCMDS/APPENV): name, type (helm|kube|shell), files, cmds, env.</summary>
public sealed record ImageApp(string Name, string? Type, IReadOnlyList<string> Files, IReadOnlyList<string> Cmds, IReadOnlyDictionary<string, string> Env);

public sealed record ImageExtension(string Type, IReadOnlyList<string> LaunchApps, IReadOnlyList<string> LaunchCmds, IReadOnlyDictionary<string, string> Env)
{
    /// <summary>The registered apps (<c>applications</c>), in image order.</summary>
    public IReadOnlyList<ImageApp> Applications { get; init; } = [];

    public static readonly ImageExtension Empty = new("kube-installer", [], [], new Dictionary<string, string>());

    public static ImageExtension Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return Empty;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            string type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "kube-installer";
            var apps = new List<string>();
            var cmds = new List<string>();
            if (root.TryGetProperty("launch", out var launch) && launch.ValueKind == JsonValueKind.Object)
            {
                foreach (var key in new[] { "app_names", "apps" })
                {
                    if (launch.TryGetProperty(key, out var a) && a.ValueKind == JsonValueKind.Array) apps.AddRange(a.EnumerateArray().Select(x => x.GetString() ?? ""));
                }
                if (launch.TryGetProperty("cmds", out var c) && c.ValueKind == JsonValueKind.Array) cmds.AddRange(c.EnumerateArray().Select(x => x.GetString() ?? ""));
            }
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("env", out var e) && e.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in e.EnumerateObject()) env[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
            var registered = new List<ImageApp>();
            if (root.TryGetProperty("applications", out var al) && al.ValueKind == JsonValueKind.Array)
            {
                foreach (var a in al.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.Object))
                {
                    if (!a.TryGetProperty("name", out var an) || an.ValueKind != JsonValueKind.String) continue;
                    List<string> Strings(params string[] keys) => keys.Where(k => a.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.Array)
                        .SelectMany(k => a.GetProperty(k).EnumerateArray()).Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList();
                    var appEnv = new Dictionary<string, string>(StringComparer.Ordinal);
                    if (a.TryGetProperty("env", out var ae) && ae.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var p in ae.EnumerateObject()) appEnv[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                    }
                    registered.Add(new ImageApp(an.GetString()!, a.TryGetProperty("type", out var at) && at.ValueKind == JsonValueKind.String ? at.GetString() : null,
                        Strings("files", "launchfiles", "launchFiles").Distinct(StringComparer.Ordinal).ToList(), Strings("cmds"), appEnv));
                }
            }
            return new ImageExtension(type, apps.Where(a => a.Length > 0).ToList(), cmds.Where(c => c.Length > 0).ToList(), env) { Applications = registered };
        }
        catch (JsonException ex)
        {
            throw new SealerException(ErrorCodes.BadClusterImage, $"The manifest annotation sealer.image.extension is not valid JSON: {ex.Message}. Rebuild the cluster image.", inner: ex);
        }
    }
}

/// <summary>
/// A cluster image on this machine, as the SDK writes it (docs/architecture.md): an OCI layout directory, an OCI archive
/// (<c>.tar</c>, unpacked once into a cache directory), or a reference found in the image cache's index.json.
/// </summary>
public sealed class ClusterImageSource
{
    private ClusterImageSource(OciLayout layout, string reference, IReadOnlyList<ClusterImagePlatform> platforms)
    {
        Layout = layout;
        Reference = reference;
        Platforms = platforms;
    }

    public OciLayout Layout { get; }

    /// <summary>The name the Clusterfile used (spec.image) or the path.</summary>
    public string Reference { get; }

    public IReadOnlyList<ClusterImagePlatform> Platforms { get; }

    public string LayerPath(Descriptor layer) => Layout.BlobPath(layer.ParsedDigest);

    public ClusterImagePlatform? ForPlatform(string os, string arch) =>
        Platforms.FirstOrDefault(p => p.Platform.Os == os && p.Platform.Architecture == arch);

    public ImageExtension Extension(ClusterImagePlatform p) => ImageExtension.Parse(p.Manifest.Annotations is { } a && a.TryGetValue("sealer.image.extension", out var v) ? v : null);

    /// <summary>Opens <paramref name="image"/>: a layout dir, an archive, or a name in <paramref name="cacheDir"/> (default ~/.sealer/cache).</summary>
    public static ClusterImageSource Open(string image, string? cacheDir = null)
    {
        if (Directory.Exists(image) && File.Exists(Path.Combine(image, "oci-layout")))
        {
            return FromLayout(OciLayout.Open(image), image, null);
        }
        if (File.Exists(image))
        {
            return FromLayout(UnpackArchive(image), image, null);
        }
        cacheDir ??= Environment.GetEnvironmentVariable("SEALER_CACHE_DIR") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sealer", "cache");
        if (File.Exists(Path.Combine(cacheDir, "oci-layout")))
        {
            var layout = OciLayout.Open(cacheDir);
            return FromLayout(layout, image, image);
        }
        throw new SealerException(ErrorCodes.BadClusterImage,
            $"The cluster image '{image}' is neither an OCI layout directory, an OCI archive, nor in the image cache '{cacheDir}'. Build it (dotnet build) or pass its path.");
    }

    private static OciLayout UnpackArchive(string archive)
    {
        string full = Path.GetFullPath(archive);
        var info = new FileInfo(full);
        string key = Digest.Sha256(System.Text.Encoding.UTF8.GetBytes($"{full}|{info.Length}|{info.LastWriteTimeUtc.Ticks}")).Encoded[..16];
        string dir = Path.Combine(Path.GetTempPath(), "sealer-images", key);
        if (File.Exists(Path.Combine(dir, "index.json"))) return OciLayout.Open(dir);
        string tmp = dir + ".tmp-" + Environment.ProcessId;
        try
        {
            Directory.CreateDirectory(tmp);
            using (var fs = File.OpenRead(full))
            {
                TarFile.ExtractToDirectory(fs, tmp, overwriteFiles: true);
            }
            if (!File.Exists(Path.Combine(tmp, "oci-layout")))
            {
                throw new SealerException(ErrorCodes.BadClusterImage, $"'{archive}' is a tar file but not an OCI archive (no oci-layout inside).");
            }
            Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            Directory.Move(tmp, dir);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException)
        {
            throw new SealerException(ErrorCodes.BadClusterImage, $"'{archive}' is not a readable OCI archive: {ex.Message}.", inner: ex);
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        }
        return OciLayout.Open(dir);
    }

    private static ClusterImageSource FromLayout(OciLayout layout, string reference, string? refName)
    {
        var index = OciJsonContext.FromBytes(File.ReadAllBytes(layout.IndexPath), OciJsonContext.Default.ImageIndex, layout.IndexPath);
        var entries = index.Manifests.ToList();
        if (refName is not null)
        {
            entries = entries.Where(m => m.GetAnnotation("org.opencontainers.image.ref.name") is { } n && (n == refName || n.EndsWith("/" + refName, StringComparison.Ordinal))).ToList();
            if (entries.Count == 0)
            {
                throw new SealerException(ErrorCodes.BadClusterImage, $"The cluster image '{refName}' is not in the image cache '{layout.Root}'. Build or pull it first, or pass the path of its OCI layout / archive.");
            }
            entries = [entries[0]];
        }
        var platforms = new List<ClusterImagePlatform>();
        foreach (var entry in entries) Collect(layout, entry, platforms);
        if (platforms.Count == 0)
        {
            throw new SealerException(ErrorCodes.BadClusterImage, $"The OCI layout '{layout.Root}' holds no image manifest.");
        }
        return new ClusterImageSource(layout, reference, platforms);
    }

    private static void Collect(OciLayout layout, Descriptor d, List<ClusterImagePlatform> into)
    {
        string path = layout.BlobPath(d.ParsedDigest);
        if (!File.Exists(path)) throw new SealerException(ErrorCodes.BadClusterImage, $"The layout '{layout.Root}' lacks blob {d.Digest}; the image is incomplete. Rebuild it.");
        var bytes = File.ReadAllBytes(path);
        if (Digest.Sha256(bytes).ToString() != d.Digest) throw new SealerException(ErrorCodes.DigestMismatch, $"Blob {d.Digest} in '{layout.Root}' is corrupt (digest mismatch). Rebuild the image.");
        if (d.MediaType is MediaTypes.OciIndex or "application/vnd.docker.distribution.manifest.list.v2+json")
        {
            var idx = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, d.Digest);
            foreach (var m in idx.Manifests) Collect(layout, m, into);
            return;
        }
        var manifest = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageManifest, d.Digest);
        var configBytes = File.ReadAllBytes(layout.BlobPath(manifest.Config.ParsedDigest));
        var config = OciJsonContext.FromBytes(configBytes, OciJsonContext.Default.ImageConfig, manifest.Config.Digest);
        var platform = new Platform { Os = config.Os, Architecture = config.Architecture, Variant = config.Variant };
        foreach (var layer in manifest.Layers)
        {
            if (!layout.HasBlob(layer.ParsedDigest, layer.Size))
            {
                throw new SealerException(ErrorCodes.BadClusterImage, $"The layout '{layout.Root}' lacks layer {layer.Digest} of {platform}; the image is incomplete. Rebuild it.");
            }
        }
        into.Add(new ClusterImagePlatform(platform, d, manifest, config, manifest.Layers));
    }

    /// <summary>Opens a layer's tar stream (gunzipped when needed).</summary>
    public Stream OpenLayerTar(Descriptor layer)
    {
        var fs = File.OpenRead(LayerPath(layer));
        if (layer.MediaType.EndsWith("+gzip", StringComparison.Ordinal) || layer.MediaType.EndsWith(".gzip", StringComparison.Ordinal))
        {
            return new GZipStream(fs, CompressionMode.Decompress);
        }
        if (layer.MediaType.EndsWith("+zstd", StringComparison.Ordinal))
        {
            fs.Dispose();
            throw new SealerException(ErrorCodes.BadClusterImage, $"Layer {layer.Digest} is zstd-compressed; delivery handles tar and tar+gzip layers. Rebuild without zstd.");
        }
        return fs;
    }

    /// <summary>
    /// The files of the unpacked rootfs whose path matches <paramref name="predicate"/> (last layer wins), read from the
    /// local layers: <c>*.tmpl</c> files to render, <c>registry/index.json</c> for the image domains. Per-blob layers cost a seek each.
    /// </summary>
    public Dictionary<string, byte[]> ReadFiles(ClusterImagePlatform platform, Func<string, bool> predicate) =>
        ReadFileEntries(platform, predicate).ToDictionary(f => f.Key, f => f.Value.Data, StringComparer.Ordinal);

    /// <summary>
    /// The regular files of the merged rootfs that match <paramref name="predicate"/>, with their modes: layers applied in
    /// order, OCI whiteouts (<c>.wh.NAME</c>, <c>.wh..wh..opq</c>) honoured, so a file deleted by an upper layer is not returned.
    /// </summary>
    public Dictionary<string, (byte[] Data, UnixFileMode Mode)> ReadFileEntries(ClusterImagePlatform platform, Func<string, bool> predicate)
    {
        var files = new Dictionary<string, (byte[] Data, UnixFileMode Mode)>(StringComparer.Ordinal);
        foreach (var layer in platform.Layers)
        {
            using var stream = OpenLayerTar(layer);
            using var reader = new TarReader(stream);
            var added = new HashSet<string>(StringComparer.Ordinal);
            // uncompressed layers (the per-blob ones) are on a seekable stream: skipping their data is a seek, not a read
            while (reader.GetNextEntry() is { } entry)
            {
                string name = entry.Name.TrimStart('.', '/');
                int slash = name.LastIndexOf('/');
                string dir = slash < 0 ? "" : name[..(slash + 1)], leaf = name[(slash + 1)..];
                if (leaf == ".wh..wh..opq")
                {
                    foreach (var k in files.Keys.Where(k => k.StartsWith(dir, StringComparison.Ordinal) && !added.Contains(k)).ToList()) files.Remove(k);
                    continue;
                }
                if (leaf.StartsWith(".wh.", StringComparison.Ordinal))
                {
                    string gone = dir + leaf[4..];
                    foreach (var k in files.Keys.Where(k => k == gone || k.StartsWith(gone + "/", StringComparison.Ordinal)).ToList()) files.Remove(k);
                    continue;
                }
                if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && predicate(name) && entry.DataStream is { } data)
                {
                    using var ms = new MemoryStream();
                    data.CopyTo(ms);
                    files[name] = (ms.ToArray(), entry.Mode);
                    added.Add(name);
                }
                else files.Remove(name); // replaced by a directory, link or a file we do not want
            }
        }
        return files;
    }

    /// <summary>The registry domains of the app images in <c>registry/index.json</c> (for containerd's hosts.toml).</summary>
    public IReadOnlyList<string> RegistryDomains(ClusterImagePlatform platform) =>
        RegistryImages(platform).Select(r => References.ImageReference.TryParse(r, out var p, out _) ? p.Domain : null).OfType<string>()
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>The full names of the images in <c>registry/index.json</c>.</summary>
    public IReadOnlyList<string> RegistryImages(ClusterImagePlatform platform)
    {
        var files = ReadFiles(platform, n => n == "registry/index.json");
        if (!files.TryGetValue("registry/index.json", out var bytes)) return [];
        var index = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, "registry/index.json");
        return index.Manifests.Select(m => m.GetAnnotation("org.opencontainers.image.ref.name")).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
    }
}
