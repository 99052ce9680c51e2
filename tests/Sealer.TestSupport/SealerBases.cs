using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.TestSupport;

/// <summary>
/// Cluster images built FROM a Sealer base, as far as its images go: the rootfs holds <c>registry/docker/registry/v2</c>
/// as the real Debian docker-registry writes it (skopeo pushes each image into a fresh one), in a gzip rootfs layer, with
/// one app image of the SDK's own format beside it.
/// </summary>
public static class SealerBases
{
    private const string Extension = """{"buildClient":{"sealerVersion":"0.9.0"},"type":"app-installer","applications":[],"launch":{"app_names":[]}}""";

    /// <summary>
    /// Writes the tree into <c>DIR-storage</c> from <paramref name="sourceRegistry"/> (each (source, path:tag); <c>All</c>:
    /// every platform of an index), and the cluster image (an OCI layout named <c>NAME:1</c>) into <c>DIR-image</c>.
    /// <paramref name="upper"/> is a second rootfs layer over it (whiteouts, more tags); <paramref name="tamper"/> may
    /// change a file of the tree on its way into the layer. Returns the layout's directory and the tree.
    /// </summary>
    public static (string Layout, string Tree) Build(string dir, string sourceRegistry, (string Source, string Target, bool All)[] images,
        (string Path, byte[] Data)[]? upper = null, Func<string, byte[], byte[]>? tamper = null)
    {
        using (var writer = SiteRegistry.Start(dir + "-storage", auth: false))
        {
            foreach (var (source, target, all) in images)
            {
                var copy = Processes.Run("skopeo", ["copy", "-q", .. (all ? new[] { "--all" } : []), "--src-tls-verify=false", "--dest-tls-verify=false",
                    $"docker://{sourceRegistry}/{source}", $"docker://{writer.Address}/{target}"]);
                if (copy.ExitCode != 0) throw new InvalidOperationException($"skopeo copy {source}: {copy.Output}");
            }
        }
        string tree = Path.Combine(dir + "-storage", "storage", "docker", "registry", "v2");
        var rootfs = Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => (Path: "registry/docker/registry/v2/" + Path.GetRelativePath(tree, f).Replace('\\', '/'), Data: File.ReadAllBytes(f)))
            .Select(f => (f.Path, tamper is null ? f.Data : tamper(f.Path, f.Data)))
            .Prepend(("etc/kubeadm.yml", "kind: ClusterConfiguration\n"u8.ToArray())).ToList();
        string image = dir + "-image";
        var layout = OciLayout.OpenOrCreate(image);
        var built = ClusterImages.Build(layout, new ClusterImageContents
        {
            Rootfs = rootfs, UpperRootfs = upper, AppLayer = "demo app layer"u8.ToArray(), AppReference = "docker.io/library/demo:1.0",
            Extension = Extension, SdkLayerAnnotations = true,
        });
        layout.UpdateIndex(_ => [built.Manifest with { Annotations = new Dictionary<string, string> { [Annotations.RefName] = Path.GetFileName(dir) + ":1" } }]);
        return (image, tree);
    }

    /// <summary>What the tree's tag <paramref name="path"/>:<paramref name="tag"/> names.</summary>
    public static string TagOf(string tree, string path, string tag)
        => File.ReadAllText(Path.Combine(tree, "repositories", path, "_manifests", "tags", tag, "current", "link")).Trim();
}
