using Sealer.Core.Bundle;
using Sealer.Core.Layout;

namespace Sealer.Bundle.Tests;

/// <summary>What the bundle tests share: an OCI archive written by a real tool, a bundle written from a stream (as
/// <c>sealer bundle NAME</c> streams from the store), and the check that every layer reads back in place.</summary>
internal static class BundleFixtures
{
    /// <summary>A multi-arch image in <c>layout/</c> under <paramref name="tmp"/>, archived by GNU tar or skopeo into image.tar.</summary>
    public static (string Archive, BuiltImage Image) Archive(TempDir tmp, string tool = "tar", string seed = "bundle", int layerBytes = 300_000, int layers = 3)
    {
        var layoutDir = tmp.Sub("layout");
        var layout = OciLayout.OpenOrCreate(layoutDir);
        var image = OciImages.Add(layout, "example.com/shop:1.4.0", seed, multiArch: true, layerBytes: layerBytes, layers: layers);
        string archive = Path.Combine(tmp.Path, "image.tar");
        var r = tool == "tar"
            ? SealerCli.RunExecutable("tar", ["-C", layoutDir, "-cf", archive, "oci-layout", "index.json", "blobs"])
            : SealerCli.RunExecutable("skopeo", ["copy", "--quiet", "--all", "--preserve-digests", $"oci:{layoutDir}:example.com/shop:1.4.0", $"oci-archive:{archive}:example.com/shop:1.4.0"]);
        Assert.True(r.ExitCode == 0, r.Output);
        return (archive, image);
    }

    /// <summary>A bundle of <paramref name="binary"/> (coreutils' <c>true</c>) and <paramref name="archive"/> copied through the writer's stream.</summary>
    public static Task<SiteBundle> WriteStreamed(string archive, string output, BundleWriteOptions options, string binary = "/usr/bin/true")
        => SiteBundle.WriteAsync(output, binary, async (s, ct) =>
        {
            await using var input = File.OpenRead(archive);
            await input.CopyToAsync(s, ct);
        }, options);

    /// <summary>Every layer of <paramref name="image"/> located in <paramref name="inPlace"/> reads back as the source layout's blob; returns the files they were read from.</summary>
    public static HashSet<string> AssertEveryLayerReadsInPlace(ArchiveLayout inPlace, BuiltImage image, OciLayout source)
    {
        var files = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in image.Layers)
        {
            var at = inPlace.Locate(layer.ParsedDigest);
            files.Add(at.Path);
            using var s = at.Open();
            var bytes = new byte[at.Length];
            s.ReadExactly(bytes);
            Assert.Equal(File.ReadAllBytes(source.BlobPath(layer.ParsedDigest)), bytes);
        }
        return files;
    }

    /// <summary>An archive of <paramref name="layers"/> sparse layers of <paramref name="bytes"/> in all (each an 8-byte
    /// number, then zeros: cheap to make, as slow to bundle as any bytes).</summary>
    public static string ZeroArchive(TempDir tmp, long bytes, int layers = 1)
    {
        var layout = Sealer.Core.Layout.OciLayout.OpenOrCreate(tmp.Sub("zero-layout"));
        var descriptors = new List<string>();
        long each = bytes / layers;
        var zeros = new byte[1 << 20];
        for (int i = 0; i < layers; i++)
        {
            byte[] head = BitConverter.GetBytes((long)i);
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            hash.AppendData(head);
            for (long done = head.Length; done < each; done += zeros.Length) hash.AppendData(zeros, 0, (int)Math.Min(zeros.Length, each - done));
            var digest = Sealer.Core.Oci.Digest.Parse("sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset()));
            Directory.CreateDirectory(Path.GetDirectoryName(layout.BlobPath(digest))!);
            using (var blob = new FileStream(layout.BlobPath(digest), FileMode.Create))
            {
                blob.Write(head);
                blob.SetLength(each);
            }
            descriptors.Add($"{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{digest}\",\"size\":{each}}}");
        }
        var config = layout.WriteBlob("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"u8, "application/vnd.oci.image.config.v1+json");
        string manifest = $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"{config.MediaType}\",\"digest\":\"{config.Digest}\",\"size\":{config.Size}}},\"layers\":[{string.Join(",", descriptors)}]}}";
        var m = layout.WriteBlob(System.Text.Encoding.UTF8.GetBytes(manifest), "application/vnd.oci.image.manifest.v1+json");
        layout.SetRefs([("example.com/zero:1.0", m)]);
        string archive = Path.Combine(tmp.Path, "zero.tar");
        Assert.Equal(0, Processes.Run("tar", "-C", tmp.Sub("zero-layout"), "-cf", archive, "oci-layout", "index.json", "blobs").ExitCode);
        return archive;
    }
}
