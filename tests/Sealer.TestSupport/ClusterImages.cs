using System.Text;
using Sealer.Core.ClusterImage;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.TestSupport;

/// <summary>What a test cluster image holds: see <see cref="ClusterImages.Build"/>.</summary>
public sealed record ClusterImageContents
{
    /// <summary>The cluster image's platform (linux/ARCH).</summary>
    public string Architecture { get; init; } = "amd64";

    /// <summary>Files of the gzip rootfs layer (path → bytes), in this order.</summary>
    public required IReadOnlyList<(string Path, byte[] Data)> Rootfs { get; init; }

    /// <summary>A second gzip rootfs layer over the first (as a base image of another builder has: no annotation), e.g. with
    /// OCI whiteouts (<c>.wh.NAME</c>, <c>DIR/.wh..wh..opq</c>); null: none.</summary>
    public IReadOnlyList<(string Path, byte[] Data)>? UpperRootfs { get; init; }

    /// <summary>Which rootfs paths get mode 0755 (default: none).</summary>
    public Func<string, bool>? Executable { get; init; }

    /// <summary>The one app image inside registry/: its layer blob, full reference, and the architecture of its config.</summary>
    public required byte[] AppLayer { get; init; }

    public required string AppReference { get; init; }

    public string? AppArchitecture { get; init; }

    /// <summary>Whether the registry/index.json entry of the app image carries its platform.</summary>
    public bool AppPlatformInIndex { get; init; }

    /// <summary>The <c>sealer.image.extension</c> annotation (JSON).</summary>
    public required string Extension { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>Annotate the layers as the SDK's assembly does (<c>io.sealer.sdk.layer</c>: rootfs, image-blob, registry).</summary>
    public bool SdkLayerAnnotations { get; init; }
}

/// <summary>A cluster image <see cref="ClusterImages.Build"/> wrote: its manifest, config and layers (rootfs, app-image blob, registry).</summary>
public sealed record BuiltClusterImage(Descriptor Manifest, Descriptor Config, IReadOnlyList<Descriptor> Layers, Descriptor AppManifest, int RootfsLayers = 1)
{
    public Descriptor Rootfs => Layers[0];

    /// <summary>The image-blob and registry layers: only registry hosts get them.</summary>
    public IReadOnlyList<Descriptor> RegistryContent => [.. Layers.Skip(RootfsLayers)];

    public long TotalBytes => Layers.Sum(l => l.Size);
}

/// <summary>
/// The one builder of small but real cluster images for tests (the format docs/architecture.md fixes): a config with
/// Sealer's labels and diff_ids, the <c>sealer.image.extension</c> annotation, a gzip rootfs layer, one tar layer per
/// app-image blob, and the registry/ layer whose index.json names the app image with its full reference.
/// Artifacts' <c>TestImages</c> (seeded, into a store) and Delivery's <c>FixtureImage</c> (lifecycle scripts that leave
/// evidence on the hosts) are presets over it.
/// </summary>
public static class ClusterImages
{
    public static BuiltClusterImage Build(OciLayout layout, ClusterImageContents spec)
    {
        string appArch = spec.AppArchitecture ?? spec.Architecture;
        var appLayerDesc = OciImages.Desc(MediaTypes.OciLayerGzip, spec.AppLayer);
        // the diff_id is the digest of the uncompressed layer (real Docker refuses an image whose layers do not match it)
        bool gzip = spec.AppLayer is [0x1f, 0x8b, ..];
        string diffId = gzip ? "sha256:" + OciImages.Sha256Hex(OciImages.Gunzip(spec.AppLayer)) : appLayerDesc.Digest.ToString();
        byte[] appConfig = Encoding.UTF8.GetBytes("{\"architecture\":\"" + appArch + "\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + diffId + "\"]}}");
        var appConfigDesc = OciImages.Desc(MediaTypes.OciConfig, appConfig);
        var appManifest = OciJsonContext.ToBytes(new ImageManifest { MediaType = MediaTypes.OciManifest, Config = appConfigDesc, Layers = [appLayerDesc] }, OciJsonContext.Default.ImageManifest);
        var appManifestDesc = OciImages.Desc(MediaTypes.OciManifest, appManifest);
        var appEntry = appManifestDesc with
        {
            Platform = spec.AppPlatformInIndex ? new Platform { Os = "linux", Architecture = appArch } : null,
            Annotations = new Dictionary<string, string> { [Annotations.RefName] = spec.AppReference },
        };
        var registryIndex = OciJsonContext.ToBytes(new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = [appEntry] }, OciJsonContext.Default.ImageIndex);

        byte[] rootfsTar = OciImages.Tar(spec.Rootfs, spec.Executable);
        byte[] blobTar = OciImages.Tar(($"registry/blobs/sha256/{OciImages.Sha256Hex(spec.AppLayer)}", spec.AppLayer));
        byte[] registryTar = OciImages.Tar(("registry/oci-layout", """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray()), ("registry/index.json", registryIndex),
            ($"registry/blobs/sha256/{appManifestDesc.ParsedDigest.Encoded}", appManifest), ($"registry/blobs/sha256/{appConfigDesc.ParsedDigest.Encoded}", appConfig));
        var layers = new List<(byte[] Bytes, string MediaType, byte[] DiffId, Dictionary<string, string>? Annotations)>
        {
            (OciImages.Gzip(rootfsTar), MediaTypes.OciLayerGzip, rootfsTar, SdkLayer("rootfs")),
        };
        if (spec.UpperRootfs is { } upper)
        {
            byte[] upperTar = OciImages.Tar(upper, spec.Executable);
            layers.Add((OciImages.Gzip(upperTar), MediaTypes.OciLayerGzip, upperTar, null));
        }
        layers.Add((blobTar, MediaTypes.OciLayer, blobTar, SdkLayer("image-blob", appLayerDesc.Digest)));
        layers.Add((registryTar, MediaTypes.OciLayer, registryTar, SdkLayer("registry")));
        var layerDescs = layers.Select(l => layout.WriteBlob(l.Bytes, l.MediaType, l.Annotations)).ToList();

        var config = new ImageConfig
        {
            Architecture = spec.Architecture, Os = "linux",
            Config = new ImageRuntimeConfig { Env = [.. spec.Env], Labels = new Dictionary<string, string>(spec.Labels) },
            RootFs = new RootFs { DiffIds = [.. layers.Select(l => "sha256:" + OciImages.Sha256Hex(l.DiffId))] },
        };
        var configDesc = layout.WriteBlob(OciJsonContext.ToBytes(config, OciJsonContext.Default.ImageConfig), MediaTypes.OciConfig);
        var manifest = new ImageManifest
        {
            MediaType = MediaTypes.OciManifest, Config = configDesc, Layers = layerDescs,
            Annotations = new Dictionary<string, string> { [ClusterImageFormat.ExtensionAnnotation] = spec.Extension },
        };
        var manifestDesc = layout.WriteBlob(OciJsonContext.ToBytes(manifest, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest);
        return new BuiltClusterImage(manifestDesc, configDesc, layerDescs, appManifestDesc, spec.UpperRootfs is null ? 1 : 2);

        Dictionary<string, string>? SdkLayer(string kind, string? blob = null)
        {
            if (!spec.SdkLayerAnnotations) return null;
            var a = new Dictionary<string, string> { ["io.sealer.sdk.layer"] = kind };
            if (blob is not null) a["io.sealer.sdk.blob"] = blob;
            return a;
        }
    }
}
