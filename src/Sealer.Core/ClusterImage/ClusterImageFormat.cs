using System.Text.Json;
using System.Text.Json.Serialization;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// The one definition of the cluster image format (docs/architecture.md, "The cluster image"): layer kinds and their
/// annotations, the registry layer's paths, the image list document, and the <c>sealer.image.extension</c> annotation
/// (<see cref="SealerImageExtension"/>, decoded only by <see cref="ParseExtension"/>). Assembly writes these and
/// <see cref="ClusterImageReader"/> reads them; Delivery and Artifacts read images only through that reader.
/// </summary>
public static class ClusterImageFormat
{
    /// <summary>The layer kind, recorded on each layer descriptor we write so readers need not unpack.</summary>
    public const string LayerKindAnnotation = "io.sealer.sdk.layer";

    /// <summary>The project's own files (charts, manifests, apps, etc, COPY), tar+gzip.</summary>
    public const string LayerKindRootfs = "rootfs";

    /// <summary>On a rootfs layer of its own (a folder of 1 MiB or more: <c>RootfsLayers.OwnLayerBytes</c>): the folder, e.g. <c>files/packages</c>.</summary>
    public const string RootfsGroupAnnotation = "io.sealer.sdk.rootfs-group";

    /// <summary>On a shared rootfs layer when there are several (many small folders: <c>RootfsLayers.SharedSlots</c>): which
    /// of them, e.g. <c>3/16</c>; each small folder is in the one its name's hash picks.</summary>
    public const string RootfsPartAnnotation = "io.sealer.sdk.rootfs-part";

    /// <summary>One app-image blob as <c>registry/blobs/sha256/&lt;hex&gt;</c> in an uncompressed tar; see <see cref="LayerBlobAnnotation"/>.</summary>
    public const string LayerKindImageBlob = "image-blob";

    /// <summary>The registry metadata layer: <c>registry/oci-layout</c>, <c>index.json</c>, <c>images.json</c> and the app images' manifests and configs.</summary>
    public const string LayerKindRegistry = "registry";

    /// <summary>On an image-blob layer: the digest of the blob it holds.</summary>
    public const string LayerBlobAnnotation = "io.sealer.sdk.blob";

    /// <summary>Sealer's manifest annotation: JSON {buildClient, type, applications, launch, env} (<see cref="SealerImageExtension"/>).</summary>
    public const string ExtensionAnnotation = "sealer.image.extension";

    /// <summary>The media type of <c>registry/images.json</c> (<see cref="ContainedImageList"/>).</summary>
    public const string ImageListMediaType = "application/vnd.sealer.image-list.v1+json";

    /// <summary>Paths inside the registry layer (and so in the unpacked rootfs).</summary>
    public const string RegistryOciLayoutPath = "registry/oci-layout", RegistryIndexPath = "registry/index.json", ImageListPath = "registry/images.json";

    /// <summary>Without the <see cref="ClusterImageLabels.ContainerRuntimeType"/> label: containerd.</summary>
    public const string DefaultContainerRuntime = "containerd";

    /// <summary>Without the <see cref="ClusterImageLabels.ClusterRuntimeType"/> label: kubernetes.</summary>
    public const string DefaultClusterRuntime = "kubernetes";

    /// <summary>Where the registry layer keeps a blob: <c>registry/blobs/&lt;alg&gt;/&lt;hex&gt;</c>.</summary>
    public static string RegistryBlobPath(Digest digest) => InStoreBlobs.MemberName(digest);

    /// <summary>The layer's <see cref="LayerKindAnnotation"/> (null for FROM layers of other builders and Sealer's own images).</summary>
    public static string? LayerKind(Descriptor layer) => layer.GetAnnotation(LayerKindAnnotation);

    /// <summary>The app image blob an <c>image-blob</c> layer as the SDK writes it holds (an uncompressed one-member tar with
    /// <see cref="LayerBlobAnnotation"/>), or null for any other layer.</summary>
    public static Digest? ImageBlobOf(Descriptor layer)
        => LayerKind(layer) == LayerKindImageBlob && layer.MediaType == MediaTypes.OciLayer
           && layer.GetAnnotation(LayerBlobAnnotation) is { } blob && Digest.TryParse(blob, out var d) ? d : null;

    /// <summary>An <c>image-blob</c> or <c>registry</c> layer: content only the built-in registry reads.</summary>
    public static bool IsRegistryContent(Descriptor layer) => LayerKind(layer) is LayerKindImageBlob or LayerKindRegistry;

    /// <summary>The extension of a manifest, or null when it has none. A bad one is <see cref="ErrorCodes.BadImageExtension"/>.</summary>
    public static SealerImageExtension? ReadExtension(ImageManifest manifest, string where)
        => manifest.Annotations is not null && manifest.Annotations.TryGetValue(ExtensionAnnotation, out var json) ? ParseExtension(json, where) : null;

    /// <summary>
    /// Decodes <c>sealer.image.extension</c> as Sealer does (Go's encoding/json: member names case-insensitive, unknown
    /// members ignored). Anything else — not JSON, a string where a list belongs, an app without a name — is
    /// <see cref="ErrorCodes.BadImageExtension"/>.
    /// </summary>
    public static SealerImageExtension ParseExtension(string json, string where)
    {
        SealerImageExtension? extension;
        try
        {
            extension = JsonSerializer.Deserialize(json, ClusterImageFormatJsonContext.Default.SealerImageExtension);
        }
        catch (JsonException ex)
        {
            throw new SealerException(ErrorCodes.BadImageExtension,
                $"The {ExtensionAnnotation} annotation of {where} is not Sealer's image extension: {ex.Message} Rebuild the cluster image (or fix the tool that wrote it).", inner: ex);
        }
        if (extension is null) throw new SealerException(ErrorCodes.BadImageExtension, $"The {ExtensionAnnotation} annotation of {where} is JSON null. Rebuild the cluster image.");
        // Source-generated init-only members that are absent come back null, not with their initializers: Go's zero values.
        var client = extension.BuildClient ?? new BuildClientInfo();
        return extension with
        {
            BuildClient = client with { SealerVersion = client.SealerVersion ?? "", BuildahVersion = client.BuildahVersion ?? "" },
            SchemaVersion = extension.SchemaVersion ?? "",
            Launch = extension.Launch ?? new SealerLaunch(),
        };
    }

    /// <summary>The annotation value, as assembly writes it (compact, members in declaration order).</summary>
    public static string WriteExtension(SealerImageExtension extension) => JsonSerializer.Serialize(extension, ClusterImageFormatJsonContext.Default.SealerImageExtension);

    /// <summary>Builds <c>registry/images.json</c> from the files of a registry layer: <c>registry/index.json</c> and
    /// <c>registry/blobs/&lt;alg&gt;/&lt;hex&gt;</c> (manifests, indexes, configs).</summary>
    public static byte[] CreateImageList(IReadOnlyDictionary<string, byte[]> files)
        => JsonSerializer.SerializeToUtf8Bytes(new ContainedImageList { Images = ContainedImages(files) }, ImageListJsonContext.Default.ContainedImageList);

    /// <summary>Builds <c>registry/images.json</c> for a registry layout (its index.json and the manifests and indexes it holds).</summary>
    public static byte[] CreateImageList(OciLayout registry)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [RegistryIndexPath] = File.ReadAllBytes(registry.IndexPath) };
        void Add(Descriptor d)
        {
            if (!registry.HasBlob(d.ParsedDigest)) return;
            byte[] bytes = registry.ReadBlobBytes(d.ParsedDigest);
            files[RegistryBlobPath(d.ParsedDigest)] = bytes;
            if (MediaTypes.IsIndex(d.MediaType))
            {
                foreach (var child in OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, $"index {d.Digest}").Manifests) Add(child);
            }
        }
        foreach (var entry in registry.ReadIndex().Manifests) Add(entry);
        return CreateImageList(files);
    }

    /// <summary>Reads <c>registry/images.json</c>.</summary>
    public static ContainedImageList ReadImageList(byte[] bytes, string where)
    {
        var list = OciJsonContext.FromBytes(bytes, ImageListJsonContext.Default.ContainedImageList, where);
        if (list.DocumentMediaType != ImageListMediaType)
        {
            throw new SealerException(ErrorCodes.InvalidOciJson, $"{where} has media type '{list.DocumentMediaType}', not {ImageListMediaType}. Rebuild the cluster image.");
        }
        return list;
    }

    /// <summary>
    /// The images a registry layer names (its <c>registry/index.json</c>), with platforms, configs and layer digests read
    /// from the manifests stored beside it; a manifest not among <paramref name="files"/> is listed by digest only.
    /// </summary>
    public static List<ContainedImage> ContainedImages(IReadOnlyDictionary<string, byte[]> files)
    {
        if (!files.TryGetValue(RegistryIndexPath, out var indexBytes)) return [];
        var index = OciJsonContext.FromBytes(indexBytes, OciJsonContext.Default.ImageIndex, RegistryIndexPath);
        var result = new List<ContainedImage>();
        byte[]? Blob(string digest) => Digest.TryParse(digest, out var d) && files.TryGetValue(RegistryBlobPath(d), out var b) ? b : null;
        foreach (var entry in index.Manifests)
        {
            string reference = entry.GetAnnotation(Annotations.RefName) ?? entry.Digest;
            var platforms = new List<ContainedPlatform>();
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
}

/// <summary>Sealer's config label keys.</summary>
public static class ClusterImageLabels
{
    public const string ClusterRuntimeType = "cluster.alpha.sealer.io/cluster-runtime-type";
    public const string ClusterRuntimeVersion = "cluster.alpha.sealer.io/cluster-runtime-version";
    public const string ContainerRuntimeType = "cluster.alpha.sealer.io/container-runtime-type";
    public const string ContainerRuntimeVersion = "cluster.alpha.sealer.io/container-runtime-version";
    public const string KubeVersion = "sealer.io.kubeversion";
}

/// <summary>
/// The <c>sealer.image.extension</c> manifest annotation, as Sealer (v0.9+) writes and reads it: build client, image type,
/// applications, launch (app names or cmds), env. Sealer ignores unknown members, so per-app <c>cmds</c>/<c>env</c> ride along.
/// </summary>
public sealed record SealerImageExtension
{
    public const string KubeInstaller = "kube-installer";
    public const string AppInstaller = "app-installer";

    /// <summary>An image without the annotation: a kube-installer that launches nothing.</summary>
    public static readonly SealerImageExtension Empty = new();

    [JsonPropertyName("buildClient")] public BuildClientInfo BuildClient { get; init; } = new();
    [JsonPropertyName("schemaVersion")] public string SchemaVersion { get; init; } = "v1alpha1";
    /// <summary>As written (null when absent); <see cref="ImageType"/> applies Sealer's default.</summary>
    [JsonPropertyName("type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Type { get; init; }
    [JsonPropertyName("applications"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<SealerApplication>? Applications { get; init; }
    [JsonPropertyName("launch")] public SealerLaunch Launch { get; init; } = new();
    [JsonPropertyName("env"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary><see cref="Type"/>, or kube-installer when it is absent or empty (Sealer's default).</summary>
    [JsonIgnore] public string ImageType => string.IsNullOrEmpty(Type) ? KubeInstaller : Type;

    /// <summary>The registered apps (<c>applications</c>), in image order.</summary>
    [JsonIgnore] public IReadOnlyList<SealerApplication> Apps => Applications ?? [];

    /// <summary>LAUNCH: the app names to launch (<c>launch.app_names</c>; <c>launch.apps</c> from older writers), empty names dropped.</summary>
    [JsonIgnore] public IReadOnlyList<string> LaunchApps => (Launch.AppNames ?? []).Concat(Launch.Apps ?? []).Where(a => a.Length > 0).ToList();

    /// <summary>CMDS: the commands to launch (<c>launch.cmds</c>), empty ones dropped.</summary>
    [JsonIgnore] public IReadOnlyList<string> LaunchCmds => (Launch.Cmds ?? []).Where(c => c.Length > 0).ToList();
}

public sealed record BuildClientInfo
{
    [JsonPropertyName("sealerVersion")] public string SealerVersion { get; init; } = "";
    [JsonPropertyName("buildahVersion")] public string BuildahVersion { get; init; } = "";
    /// <summary>Our own marker: which tool built the image.</summary>
    [JsonPropertyName("builder"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Builder { get; init; }
}

public sealed record SealerApplication
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Type { get; init; }
    /// <summary>Sealer v0.9.0 wrote <c>launchfiles</c>.</summary>
    [JsonPropertyName("launchfiles"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? LaunchFiles { get; init; }
    /// <summary>Sealer v0.9.1+ writes <c>files</c>; readers take either (<see cref="AllFiles"/>).</summary>
    [JsonPropertyName("files"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Files { get; init; }
    [JsonPropertyName("version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Version { get; init; }
    [JsonPropertyName("cmds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Cmds { get; init; }
    [JsonPropertyName("env"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>The app's files, from <c>files</c> and <c>launchfiles</c>, each once.</summary>
    [JsonIgnore] public IReadOnlyList<string> AllFiles => (Files ?? []).Concat(LaunchFiles ?? []).Distinct(StringComparer.Ordinal).ToList();
}

public sealed record SealerLaunch
{
    [JsonPropertyName("cmds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Cmds { get; init; }
    [JsonPropertyName("app_names"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? AppNames { get; init; }
    /// <summary>Read from older writers; never written.</summary>
    [JsonPropertyName("apps"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Apps { get; init; }
}

/// <summary>The images list document (<c>registry/images.json</c>, media type <see cref="ClusterImageFormat.ImageListMediaType"/>): the cluster
/// image's software list with every digest, written by assembly and read by inspect and verification.</summary>
public sealed record ContainedImageList
{
    public const string MediaType = ClusterImageFormat.ImageListMediaType;
    [JsonPropertyName("mediaType")] public string DocumentMediaType { get; init; } = MediaType;
    [JsonPropertyName("images")] public required IReadOnlyList<ContainedImage> Images { get; init; }
}

/// <summary>An app image inside the cluster image's <c>registry/</c> layout: one entry of its software list.</summary>
public sealed record ContainedImage
{
    [JsonPropertyName("ref")] public required string Reference { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("mediaType")] public required string MediaType { get; init; }
    [JsonPropertyName("platforms")] public required IReadOnlyList<ContainedPlatform> Platforms { get; init; }
}

/// <summary>One platform manifest of a contained image, with its config and layer digests.</summary>
public sealed record ContainedPlatform
{
    [JsonPropertyName("platform"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Platform { get; init; }
    [JsonPropertyName("digest")] public required string Digest { get; init; }
    [JsonPropertyName("config"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Config { get; init; }
    [JsonPropertyName("layers")] public IReadOnlyList<string> Layers { get; init; } = [];
    [JsonPropertyName("size")] public long Size { get; init; }
}

/// <summary>Source-generated JSON for the extension annotation (compact; member names matched case-insensitively, as Go does).</summary>
[JsonSourceGenerationOptions(WriteIndented = false, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(SealerImageExtension))]
public sealed partial class ClusterImageFormatJsonContext : JsonSerializerContext;

/// <summary>Source-generated JSON for <c>registry/images.json</c> (indented, as assembly has always written it).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, NewLine = "\n")]
[JsonSerializable(typeof(ContainedImageList))]
public sealed partial class ImageListJsonContext : JsonSerializerContext;
