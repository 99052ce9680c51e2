using System.Text;
using Sealer.Core.Artifacts;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Artifacts.Tests;

/// <summary>
/// Seeded cluster images for the store, archive, push and pull tests: TestSupport's <see cref="ClusterImages"/> with an
/// app-installer extension, a random app-image blob per seed and architecture, one or two platforms.
/// </summary>
public static class TestImages
{
    public const string Extension = """{"buildClient":{"sealerVersion":"0.1.0"},"type":"app-installer","applications":[{"name":"nginx","type":"helm","launchfiles":["nginx"],"version":"1.0"}],"launch":{"app_names":["nginx"]}}""";

    /// <summary>Builds one platform's cluster image; <paramref name="blobBytes"/> sizes the app-image blob (random, so unique per seed).</summary>
    public static Descriptor BuildPlatform(OciLayout layout, string arch, int seed = 1, int blobBytes = 64 * 1024, string? extraLabel = null)
    {
        var rnd = new Random(seed * 31 + arch.GetHashCode(StringComparison.Ordinal));
        byte[] appLayer = new byte[blobBytes];
        rnd.NextBytes(appLayer);
        var labels = new Dictionary<string, string>
        {
            ["cluster.alpha.sealer.io/cluster-runtime-type"] = "kubernetes",
            ["cluster.alpha.sealer.io/container-runtime-type"] = "containerd",
            ["sealer.io.kubeversion"] = "v1.30.0",
        };
        if (extraLabel is not null) labels["test.label"] = extraLabel;
        return ClusterImages.Build(layout, new ClusterImageContents
        {
            Architecture = arch,
            Rootfs = [("etc/kubeadm.yml", Encoding.UTF8.GetBytes($"kind: ClusterConfiguration # {arch} {seed}\n")), ("manifests/app.yaml", "image: nginx:1.27\n"u8.ToArray())],
            AppLayer = appLayer,
            AppReference = $"docker.io/library/nginx:1.27-s{seed}",
            AppPlatformInIndex = true,
            Extension = Extension,
            Labels = labels,
            Env = ["A=b"],
        }).Manifest;
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
