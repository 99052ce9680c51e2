using System.Text;
using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Artifacts.Tests;

/// <summary>
/// Builds small but real cluster images (as docs/architecture.md specifies them) into a layout: a config with Sealer's
/// labels, the sealer.image.extension annotation, a gzip rootfs layer, one tar layer per app-image blob and the
/// registry/ metadata layer naming the app images with full references.
/// </summary>
public static class TestImages
{
    public const string Extension = """{"buildClient":{"sealerVersion":"0.1.0"},"type":"app-installer","applications":[{"name":"nginx","type":"helm","launchfiles":["nginx"],"version":"1.0"}],"launch":{"app_names":["nginx"]}}""";

    /// <summary>Builds one platform's cluster image; <paramref name="blobBytes"/> sizes the app-image blob (random, so unique per seed).</summary>
    public static Descriptor BuildPlatform(OciLayout layout, string arch, int seed = 1, int blobBytes = 64 * 1024, string? extraLabel = null)
    {
        var rnd = new Random(seed * 31 + arch.GetHashCode(StringComparison.Ordinal));
        // The app image: one random layer, a config, a manifest, in a registry/ layout.
        byte[] appLayer = new byte[blobBytes];
        rnd.NextBytes(appLayer);
        var appLayerDesc = OciImages.Desc(MediaTypes.OciLayerGzip, appLayer);
        byte[] appConfig = Encoding.UTF8.GetBytes("{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + appLayerDesc.Digest + "\"]}}");
        var appConfigDesc = OciImages.Desc(MediaTypes.OciConfig, appConfig);
        var appManifest = OciJsonContext.ToBytes(new ImageManifest { MediaType = MediaTypes.OciManifest, Config = appConfigDesc, Layers = [appLayerDesc] }, OciJsonContext.Default.ImageManifest);
        var appManifestDesc = OciImages.Desc(MediaTypes.OciManifest, appManifest) with
        {
            Platform = new Platform { Os = "linux", Architecture = arch },
            Annotations = new Dictionary<string, string> { [Annotations.RefName] = $"docker.io/library/nginx:1.27-s{seed}" },
        };
        var registryIndex = OciJsonContext.ToBytes(new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = [appManifestDesc] }, OciJsonContext.Default.ImageIndex);

        var layers = new List<(byte[] Bytes, string MediaType, byte[] DiffId)>();
        byte[] rootfsTar = OciImages.Tar(("etc/kubeadm.yml", Encoding.UTF8.GetBytes($"kind: ClusterConfiguration # {arch} {seed}\n")), ("manifests/app.yaml", "image: nginx:1.27\n"u8.ToArray()));
        layers.Add((OciImages.Gzip(rootfsTar), MediaTypes.OciLayerGzip, rootfsTar));
        byte[] blobTar = OciImages.Tar(($"registry/blobs/sha256/{OciImages.Sha256Hex(appLayer)}", appLayer));
        layers.Add((blobTar, MediaTypes.OciLayer, blobTar));
        byte[] metaTar = OciImages.Tar(("registry/oci-layout", """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray()), ("registry/index.json", registryIndex),
            ($"registry/blobs/sha256/{OciImages.Sha256Hex(appManifest)}", appManifest), ($"registry/blobs/sha256/{OciImages.Sha256Hex(appConfig)}", appConfig));
        layers.Add((metaTar, MediaTypes.OciLayer, metaTar));

        var layerDescs = layers.Select(l => layout.WriteBlob(l.Bytes, l.MediaType)).ToList();
        var labels = new Dictionary<string, string>
        {
            ["cluster.alpha.sealer.io/cluster-runtime-type"] = "kubernetes",
            ["cluster.alpha.sealer.io/container-runtime-type"] = "containerd",
            ["sealer.io.kubeversion"] = "v1.30.0",
        };
        if (extraLabel is not null) labels["test.label"] = extraLabel;
        var config = new ImageConfig
        {
            Architecture = arch, Os = "linux",
            Config = new ImageRuntimeConfig { Env = ["A=b"], Labels = labels },
            RootFs = new RootFs { DiffIds = layers.Select(l => "sha256:" + OciImages.Sha256Hex(l.DiffId)).ToList() },
        };
        var configDesc = layout.WriteBlob(OciJsonContext.ToBytes(config, OciJsonContext.Default.ImageConfig), MediaTypes.OciConfig);
        var manifest = new ImageManifest
        {
            MediaType = MediaTypes.OciManifest, Config = configDesc, Layers = layerDescs,
            Annotations = new Dictionary<string, string> { [ClusterImageFormat.ExtensionAnnotation] = Extension },
        };
        return layout.WriteBlob(OciJsonContext.ToBytes(manifest, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest);
    }

    /// <summary>An index over linux/amd64 and linux/arm64 cluster images.</summary>
    public static Descriptor BuildMultiArch(OciLayout layout, int seed = 1, int blobBytes = 64 * 1024)
    {
        var amd = BuildPlatform(layout, "amd64", seed, blobBytes) with { Platform = new Platform { Os = "linux", Architecture = "amd64" } };
        var arm = BuildPlatform(layout, "arm64", seed, blobBytes) with { Platform = new Platform { Os = "linux", Architecture = "arm64" } };
        var index = new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = [amd, arm] };
        return layout.WriteBlob(OciJsonContext.ToBytes(index, OciJsonContext.Default.ImageIndex), MediaTypes.OciIndex);
    }

    /// <summary>Builds a cluster image straight into the store and names it.</summary>
    public static StoredImage AddToStore(ClusterImageStore store, string name, bool multiArch = false, int seed = 1, int blobBytes = 64 * 1024)
        => store.Add(name, multiArch ? BuildMultiArch(store.Layout, seed, blobBytes) : BuildPlatform(store.Layout, "amd64", seed, blobBytes));
}
