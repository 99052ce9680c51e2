using System.Formats.Tar;
using System.Text.Json;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.Artifacts;

/// <summary>
/// Reads a cluster image in a layout (the store, a build output): per platform its labels, env, decoded
/// <c>sealer.image.extension</c>, and the app images it carries (from the <c>registry/</c> metadata layer, see
/// docs/architecture.md), plus referrers (signatures, SBOMs) stored next to it.
/// </summary>
public static class ClusterImageInspector
{
    /// <summary>The metadata layer is small; anything bigger than this is not read when looking for it.</summary>
    private const long MaxMetadataLayerBytes = 256L * 1024 * 1024;

    public static ClusterImageInfo Inspect(ClusterImageStore store, string name)
    {
        var image = store.Resolve(name);
        return Inspect(store.Layout, image.Name, image.Descriptor);
    }

    public static ClusterImageInfo Inspect(OciLayout layout, string name, Descriptor root)
    {
        var graph = ImageGraph.Load(layout, root);
        var platforms = new List<PlatformImageInfo>();
        foreach (var (m, platform) in graph.PlatformManifests())
        {
            var manifest = m.Manifest!;
            var config = OciJsonContext.FromBytes(layout.ReadBlobBytes(manifest.Config.ParsedDigest, OciLimits.MaxConfigBytes), OciJsonContext.Default.ImageConfig, $"config {manifest.Config.Digest}");
            string platformText = platform?.ToString() ?? new Platform { Os = config.Os, Architecture = config.Architecture, Variant = config.Variant }.ToString();
            platforms.Add(new PlatformImageInfo
            {
                Platform = platformText,
                ManifestDigest = m.Descriptor.Digest,
                ConfigDigest = manifest.Config.Digest,
                Size = m.Descriptor.Size + manifest.Config.Size + manifest.Layers.Sum(l => l.Size),
                LayerCount = manifest.Layers.Count,
                Labels = config.Config?.Labels is { } labels ? new SortedDictionary<string, string>(labels.ToDictionary(), StringComparer.Ordinal) : new SortedDictionary<string, string>(),
                Env = config.Config?.Env,
                Extension = manifest.Annotations?.TryGetValue(Annotations.SealerImageExtension, out var ext) == true ? DecodeExtension(ext, m.Descriptor.Digest) : null,
                Images = ReadContainedImages(layout, manifest),
            });
        }
        var graphDigests = graph.Manifests.Select(m => m.Descriptor.Digest).ToHashSet(StringComparer.Ordinal);
        var referrers = FindReferrers(layout, graphDigests);
        return new ClusterImageInfo
        {
            Name = name,
            Digest = root.Digest,
            MediaType = root.MediaType,
            Size = graph.TotalSize,
            Platforms = platforms,
            Referrers = referrers.Count == 0 ? null : referrers,
        };
    }

    /// <summary>Unnamed index.json entries whose manifest has a <c>subject</c> in the given set.</summary>
    internal static List<ReferrerInfo> FindReferrers(OciLayout layout, IReadOnlySet<string> subjects)
    {
        var result = new List<ReferrerInfo>();
        foreach (var entry in layout.ReadIndex().Manifests)
        {
            if (entry.GetAnnotation(Annotations.RefName) is not null || !MediaTypes.IsManifest(entry.MediaType) || !layout.HasBlob(entry.ParsedDigest)) continue;
            var m = OciJsonContext.FromBytes(layout.ReadBlobBytes(entry.ParsedDigest), OciJsonContext.Default.ImageManifest, $"manifest {entry.Digest}");
            if (m.Subject is not null && subjects.Contains(m.Subject.Digest))
            {
                result.Add(new ReferrerInfo { Digest = entry.Digest, ArtifactType = m.ArtifactType ?? m.Config.MediaType, Subject = m.Subject.Digest });
            }
        }
        return result;
    }

    /// <summary>Decodes Sealer's extension JSON; reads <c>launchfiles</c> (v0.9.0) and <c>files</c> (v0.9.1+).</summary>
    public static ImageExtensionInfo DecodeExtension(string json, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var rootEl = doc.RootElement;
            var apps = new List<ApplicationInfo>();
            if (rootEl.TryGetProperty("applications", out var appsEl) && appsEl.ValueKind == JsonValueKind.Array)
            {
                foreach (var a in appsEl.EnumerateArray())
                {
                    if (a.ValueKind != JsonValueKind.Object) continue;
                    var files = new List<string>();
                    foreach (var key in new[] { "launchfiles", "files", "launchFiles" })
                    {
                        if (a.TryGetProperty(key, out var f) && f.ValueKind == JsonValueKind.Array) files.AddRange(f.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!));
                    }
                    apps.Add(new ApplicationInfo { Name = Str(a, "name") ?? "", Type = Str(a, "type"), Version = Str(a, "version"), Files = files.Distinct().ToList() });
                }
            }
            List<string>? launchApps = null, launchCmds = null;
            if (rootEl.TryGetProperty("launch", out var launch) && launch.ValueKind == JsonValueKind.Object)
            {
                launchApps = StrList(launch, "app_names") ?? StrList(launch, "apps");
                launchCmds = StrList(launch, "cmds");
            }
            return new ImageExtensionInfo
            {
                Type = Str(rootEl, "type"),
                Applications = apps,
                LaunchApps = launchApps,
                LaunchCmds = launchCmds,
                Env = StrMap(rootEl, "env"),
                BuildClient = StrMap(rootEl, "buildClient"),
            };
        }
        catch (JsonException ex)
        {
            throw new SealerException(ErrorCodes.InvalidOciJson, $"The sealer.image.extension annotation of manifest {where} is not valid JSON: {ex.Message}", inner: ex);
        }

        static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        static List<string>? StrList(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText()).ToList() : null;
        static SortedDictionary<string, string>? StrMap(JsonElement e, string name)
        {
            if (!e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Object) return null;
            var d = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in v.EnumerateObject()) d[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            return d;
        }
    }

    /// <summary>
    /// Finds the metadata layer (the last small uncompressed tar layer holding <c>registry/index.json</c>) and lists the
    /// images it names, with platforms, configs and layer digests read from the manifests stored beside it.
    /// </summary>
    public static IReadOnlyList<ContainedImage> ReadContainedImages(OciLayout layout, ImageManifest manifest)
    {
        // Assembly marks its registry layer (io.sealer.sdk.layer=registry): read just that one. Otherwise look from the end.
        var marked = manifest.Layers.Where(l => l.GetAnnotation(ClusterImage.ClusterImageBuilder.LayerKindAnnotation) == ClusterImage.ClusterImageBuilder.LayerKindRegistry).ToList();
        foreach (var layer in marked.Count > 0 ? marked : manifest.Layers.Reverse())
        {
            if (layer.MediaType is not (MediaTypes.OciLayer or "application/vnd.docker.image.rootfs.diff.tar") || layer.Size > MaxMetadataLayerBytes) continue;
            if (!layout.HasBlob(layer.ParsedDigest)) continue;
            var files = ReadRegistryMetadata(layout, layer.ParsedDigest);
            if (files is null) continue;
            if (files.TryGetValue("registry/images.json", out var listBytes))
            {
                return OciJsonContext.FromBytes(listBytes, ArtifactsJsonContext.Default.ContainedImageList, "registry/images.json").Images;
            }
            return ContainedImagesFromLayout(files);
        }
        return [];
    }

    private static Dictionary<string, byte[]>? ReadRegistryMetadata(OciLayout layout, Digest layerDigest)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var stream = layout.OpenBlob(layerDigest);
        using var tar = new TarReader(stream);
        bool hasIndex = false;
        try
        {
            while (tar.GetNextEntry() is { } entry)
            {
                string name = entry.Name.TrimStart('.', '/');
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                if (!name.StartsWith("registry/", StringComparison.Ordinal) || entry.Length > OciLimits.MaxConfigBytes) continue;
                if (name.StartsWith("registry/blobs/", StringComparison.Ordinal) || name is "registry/index.json" or "registry/images.json")
                {
                    var bytes = new byte[entry.Length];
                    entry.DataStream.ReadExactly(bytes);
                    files[name] = bytes;
                    hasIndex |= name == "registry/index.json";
                }
            }
        }
        catch (InvalidDataException)
        {
            return null;
        }
        return hasIndex ? files : null;
    }

    private static List<ContainedImage> ContainedImagesFromLayout(IReadOnlyDictionary<string, byte[]> files)
    {
        var index = OciJsonContext.FromBytes(files["registry/index.json"], OciJsonContext.Default.ImageIndex, "registry/index.json");
        var result = new List<ContainedImage>();
        foreach (var entry in index.Manifests)
        {
            string reference = entry.GetAnnotation(Annotations.RefName) ?? entry.Digest;
            var platforms = new List<ContainedPlatform>();
            byte[]? Blob(string digest) => Digest.TryParse(digest, out var d) && files.TryGetValue($"registry/blobs/{d.Algorithm}/{d.Encoded}", out var b) ? b : null;
            void AddManifest(Descriptor d, string? platform)
            {
                var bytes = Blob(d.Digest);
                if (bytes is null) { platforms.Add(new ContainedPlatform { Platform = platform, Digest = d.Digest }); return; }
                var m = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageManifest, $"registry manifest {d.Digest}");
                platforms.Add(new ContainedPlatform
                {
                    Platform = platform, Digest = d.Digest, Config = m.Config.Digest, Layers = m.Layers.Select(l => l.Digest).ToList(),
                    Size = d.Size + m.Config.Size + m.Layers.Sum(l => l.Size),
                });
            }
            if (MediaTypes.IsIndex(entry.MediaType))
            {
                var bytes = Blob(entry.Digest);
                var child = bytes is null ? null : OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, $"registry index {entry.Digest}");
                foreach (var c in child?.Manifests ?? [])
                {
                    if (Blob(c.Digest) is not null) AddManifest(c, c.Platform?.ToString());
                }
            }
            else
            {
                AddManifest(entry, entry.Platform?.ToString());
            }
            result.Add(new ContainedImage { Reference = reference, Digest = entry.Digest, MediaType = entry.MediaType, Platforms = platforms });
        }
        return result;
    }

    /// <summary>Builds the <c>registry/images.json</c> document for a registry layout (assembly writes it into the metadata layer).</summary>
    public static byte[] CreateImageList(OciLayout registry)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal) { ["registry/index.json"] = File.ReadAllBytes(registry.IndexPath) };
        foreach (var entry in registry.ReadIndex().Manifests)
        {
            var graph = ImageGraph.Load(registry, entry, requireBlobs: false);
            foreach (var m in graph.Manifests) files[$"registry/blobs/{m.Descriptor.ParsedDigest.Algorithm}/{m.Descriptor.ParsedDigest.Encoded}"] = m.Bytes;
        }
        return CreateImageList(files);
    }

    /// <summary>Builds <c>registry/images.json</c> from the files of a registry metadata layer: <c>registry/index.json</c>
    /// and <c>registry/blobs/&lt;alg&gt;/&lt;hex&gt;</c> (manifests, indexes, configs), as the assembly has them in memory.</summary>
    public static byte[] CreateImageList(IReadOnlyDictionary<string, byte[]> files)
    {
        var list = new ContainedImageList { Images = ContainedImagesFromLayout(files) };
        return JsonSerializer.SerializeToUtf8Bytes(list, ArtifactsJsonContext.Default.ContainedImageList);
    }
}
