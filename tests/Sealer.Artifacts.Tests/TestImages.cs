using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Artifacts.Tests;

/// <summary>A temp directory removed at dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sealer-artifacts-tests", Guid.NewGuid().ToString("N")[..12]);

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

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
        var appLayerDesc = Desc(MediaTypes.OciLayerGzip, appLayer);
        byte[] appConfig = Encoding.UTF8.GetBytes("{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + appLayerDesc.Digest + "\"]}}");
        var appConfigDesc = Desc(MediaTypes.OciConfig, appConfig);
        var appManifest = OciJsonContext.ToBytes(new ImageManifest { MediaType = MediaTypes.OciManifest, Config = appConfigDesc, Layers = [appLayerDesc] }, OciJsonContext.Default.ImageManifest);
        var appManifestDesc = Desc(MediaTypes.OciManifest, appManifest) with
        {
            Platform = new Platform { Os = "linux", Architecture = arch },
            Annotations = new Dictionary<string, string> { [Annotations.RefName] = $"docker.io/library/nginx:1.27-s{seed}" },
        };
        var registryIndex = OciJsonContext.ToBytes(new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = [appManifestDesc] }, OciJsonContext.Default.ImageIndex);

        var layers = new List<(byte[] Bytes, string MediaType, byte[] DiffId)>();
        byte[] rootfsTar = Tar(("etc/kubeadm.yml", Encoding.UTF8.GetBytes($"kind: ClusterConfiguration # {arch} {seed}\n")), ("manifests/app.yaml", "image: nginx:1.27\n"u8.ToArray()));
        layers.Add((Gzip(rootfsTar), MediaTypes.OciLayerGzip, rootfsTar));
        byte[] blobTar = Tar(($"registry/blobs/sha256/{Hex(appLayer)}", appLayer));
        layers.Add((blobTar, MediaTypes.OciLayer, blobTar));
        byte[] metaTar = Tar(("registry/oci-layout", """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray()), ("registry/index.json", registryIndex),
            ($"registry/blobs/sha256/{Hex(appManifest)}", appManifest), ($"registry/blobs/sha256/{Hex(appConfig)}", appConfig));
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
            RootFs = new RootFs { DiffIds = layers.Select(l => "sha256:" + Hex(l.DiffId)).ToList() },
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

    public static Descriptor Desc(string mediaType, byte[] bytes) => new() { MediaType = mediaType, Digest = "sha256:" + Hex(bytes), Size = bytes.Length };

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static byte[] Tar(params (string Name, byte[] Data)[] files)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (name, data) in files.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                var e = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), ModificationTime = DateTimeOffset.UnixEpoch, Mode = (UnixFileMode)0b110_100_100 };
                w.WriteEntry(e);
            }
        }
        return ms.ToArray();
    }

    public static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }
}
