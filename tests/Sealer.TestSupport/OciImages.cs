using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.TestSupport;

/// <summary>A fixture image written into a layout: its manifest (or index) digest and the blobs it holds.</summary>
public sealed record BuiltImage(string RefName, Descriptor Top, IReadOnlyList<Descriptor> Manifests, IReadOnlyList<Descriptor> Layers, IReadOnlyList<Descriptor> Configs);

/// <summary>
/// Builds real, runnable-shaped images into an <see cref="OciLayout"/> with Sealer.Core: tar+gzip layers holding a file
/// (so containerd can unpack them), an image config with the right diff_ids, manifests, and optionally a multi-arch index.
/// Content is derived from a seed, so different seeds give different digests. The tar/gzip/descriptor helpers below are
/// the one copy every test project builds its images (app images, cluster images, image caches) with.
/// </summary>
public static class OciImages
{
    public static BuiltImage Add(OciLayout layout, string refName, string seed, bool multiArch = false, int layerBytes = 2048, int layers = 2, bool docker = false, bool addToIndex = true)
    {
        var manifests = new List<Descriptor>();
        var allLayers = new List<Descriptor>();
        var configs = new List<Descriptor>();
        string[] arches = multiArch ? ["amd64", "arm64"] : ["amd64"];
        foreach (var arch in arches)
        {
            var diffIds = new List<string>();
            var layerDescs = new List<Descriptor>();
            for (int i = 0; i < layers; i++)
            {
                var (gz, diffId) = Layer($"{seed}/{arch}/{i}", layerBytes);
                var d = layout.WriteBlob(gz, docker ? MediaTypes.DockerLayerGzip : MediaTypes.OciLayerGzip);
                layerDescs.Add(d);
                diffIds.Add(diffId);
            }
            var config = new ImageConfig
            {
                Architecture = arch,
                Os = "linux",
                Config = new ImageRuntimeConfig { Cmd = ["/bin/true"], Labels = new Dictionary<string, string> { ["seed"] = seed } },
                RootFs = new RootFs { DiffIds = diffIds },
            };
            var configDesc = layout.WriteBlob(OciJsonContext.ToBytes(config, OciJsonContext.Default.ImageConfig), docker ? MediaTypes.DockerConfig : MediaTypes.OciConfig);
            var manifest = new ImageManifest
            {
                SchemaVersion = 2,
                MediaType = docker ? MediaTypes.DockerManifest : MediaTypes.OciManifest,
                Config = configDesc,
                Layers = layerDescs,
            };
            var md = layout.WriteBlob(OciJsonContext.ToBytes(manifest, OciJsonContext.Default.ImageManifest), manifest.MediaType!);
            manifests.Add(md with { Platform = new Platform { Os = "linux", Architecture = arch } });
            allLayers.AddRange(layerDescs);
            configs.Add(configDesc);
        }
        Descriptor top = manifests[0] with { Platform = null };
        if (multiArch)
        {
            var index = new ImageIndex { SchemaVersion = 2, MediaType = docker ? MediaTypes.DockerManifestList : MediaTypes.OciIndex, Manifests = manifests };
            top = layout.WriteBlob(OciJsonContext.ToBytes(index, OciJsonContext.Default.ImageIndex), index.MediaType!);
        }
        if (addToIndex) layout.SetRef(refName, top);
        return new BuiltImage(refName, top, manifests, allLayers, configs);
    }

    /// <summary>A gzip'd tar with one file of pseudo-random content; returns the blob and its diff_id.</summary>
    public static (byte[] Gzip, string DiffId) Layer(string seed, int bytes)
    {
        byte[] tarBytes = Tar(("data/" + Sha256Hex(Encoding.UTF8.GetBytes(seed))[..12], Pseudo(seed, bytes)));
        return (Gzip(tarBytes), Digest.Sha256(tarBytes).ToString());
    }

    /// <summary>Deterministic incompressible bytes.</summary>
    public static byte[] Pseudo(string seed, int bytes)
    {
        var result = new byte[bytes];
        byte[] block = SHA256.HashData(Encoding.UTF8.GetBytes(seed));
        for (int off = 0; off < bytes; off += 32)
        {
            block = SHA256.HashData(block);
            block.AsSpan(0, Math.Min(32, bytes - off)).CopyTo(result.AsSpan(off));
        }
        return result;
    }

    /// <summary>A reproducible tar (PAX, sorted names, epoch times, mode 0644).</summary>
    public static byte[] Tar(params (string Name, byte[] Data)[] files) => Tar(files, executable: null);

    /// <summary>A reproducible tar (PAX, sorted names, epoch times); mode 0755 where <paramref name="executable"/> says so, else 0644.</summary>
    public static byte[] Tar(IEnumerable<(string Name, byte[] Data)> files, Func<string, bool>? executable)
    {
        using var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, data) in files.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(data),
                    Mode = executable?.Invoke(name) == true ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100,
                    ModificationTime = DateTimeOffset.UnixEpoch,
                });
            }
        }
        return ms.ToArray();
    }

    /// <summary>A gzip'd <see cref="Tar(ValueTuple{string, byte[]}[])"/> of text files.</summary>
    public static byte[] TarGz(params (string Name, string Content)[] files) => Gzip(Tar(files.Select(f => (f.Name, Encoding.UTF8.GetBytes(f.Content))).ToArray()));

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    public static byte[] Gunzip(byte[] data)
    {
        using var gz = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The descriptor of <paramref name="bytes"/> (not written anywhere).</summary>
    public static Descriptor Desc(string mediaType, byte[] bytes) => new() { MediaType = mediaType, Digest = "sha256:" + Sha256Hex(bytes), Size = bytes.Length };

    /// <summary>Writes a single-platform image of the given gzip'd layers; returns its manifest descriptor (with platform).</summary>
    public static Descriptor AddManifest(OciLayout layout, string os, string arch, params byte[][] gzipLayers)
    {
        var layerDescriptors = gzipLayers.Select(l => layout.WriteBlob(l, MediaTypes.OciLayerGzip)).ToList();
        var config = new ImageConfig
        {
            Os = os,
            Architecture = arch,
            RootFs = new RootFs { DiffIds = gzipLayers.Select(l => Digest.Sha256(Gunzip(l)).ToString()).ToList() },
        };
        var configDescriptor = layout.WriteBlob(OciJsonContext.ToBytes(config, OciJsonContext.Default.ImageConfig), MediaTypes.OciConfig);
        var manifest = new ImageManifest { MediaType = MediaTypes.OciManifest, Config = configDescriptor, Layers = layerDescriptors };
        var d = layout.WriteBlob(OciJsonContext.ToBytes(manifest, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest);
        return d with { Platform = new Platform { Os = os, Architecture = arch } };
    }

    public static Descriptor AddIndex(OciLayout layout, params Descriptor[] manifests)
    {
        var index = new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = manifests };
        return layout.WriteBlob(OciJsonContext.ToBytes(index, OciJsonContext.Default.ImageIndex), MediaTypes.OciIndex);
    }
}
