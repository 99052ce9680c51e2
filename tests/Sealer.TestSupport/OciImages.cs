using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.RegistryServer.Tests;

/// <summary>A fixture image written into a layout: its manifest (or index) digest and the blobs it holds.</summary>
public sealed record FixtureImage(string RefName, Descriptor Top, IReadOnlyList<Descriptor> Manifests, IReadOnlyList<Descriptor> Layers, IReadOnlyList<Descriptor> Configs);

/// <summary>
/// Builds real, runnable-shaped images into an <see cref="OciLayout"/> with Sealer.Core: tar+gzip layers holding a file
/// (so containerd can unpack them), an image config with the right diff_ids, manifests, and optionally a multi-arch index.
/// Content is derived from a seed, so different seeds give different digests.
/// </summary>
public static class FixtureImages
{
    public static FixtureImage Add(OciLayout layout, string refName, string seed, bool multiArch = false, int layerBytes = 2048, int layers = 2, bool docker = false, bool addToIndex = true)
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
        return new FixtureImage(refName, top, manifests, allLayers, configs);
    }

    /// <summary>A gzip'd tar with one file of pseudo-random content; returns the blob and its diff_id.</summary>
    public static (byte[] Gzip, string DiffId) Layer(string seed, int bytes)
    {
        var content = Pseudo(seed, bytes);
        var tar = new MemoryStream();
        using (var w = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var e = new PaxTarEntry(TarEntryType.RegularFile, "data/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(seed)))[..12])
            {
                DataStream = new MemoryStream(content),
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                ModificationTime = DateTimeOffset.UnixEpoch,
            };
            w.WriteEntry(e);
        }
        byte[] tarBytes = tar.ToArray();
        var gz = new MemoryStream();
        using (var g = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) g.Write(tarBytes);
        return (gz.ToArray(), Digest.Sha256(tarBytes).ToString());
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
}
