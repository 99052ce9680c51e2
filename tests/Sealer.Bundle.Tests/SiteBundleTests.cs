using System.Security.Cryptography;
using Sealer.Core.Bundle;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;

namespace Sealer.Bundle.Tests;

/// <summary>
/// The site bundle format (Core/Bundle) and reading OCI archives in place (Layout/ArchiveLayout), on archives written by
/// real tools (GNU tar, skopeo) and with a real executable in front (coreutils' <c>true</c>, which still runs with the payload).
/// </summary>
public class SiteBundleTests
{
    private const string Template = "apiVersion: sealer.io/v2\nkind: Cluster\nspec:\n  hosts:\n    - ips: [ ${MASTERS} ]\n      roles: [master]\n";

    private static (string Archive, BuiltImage Image) Archive(TempDir tmp, string tool = "tar") => BundleFixtures.Archive(tmp, tool);

    private static ProcessResult Run(string file, params string[] args) => SealerCli.RunExecutable(file, args);

    private static Task<SiteBundle> Write(string archive, string output, string? template = Template, string binary = "/usr/bin/true")
        => BundleFixtures.WriteStreamed(archive, output, Options(template), binary);

    private static BundleWriteOptions Options(string? template)
        => new() { Image = "example.com/shop:1.4.0", Platforms = ["linux/amd64", "linux/arm64"], SealerPlatform = "linux/amd64", ClusterfileTemplate = template };

    [Theory]
    [InlineData("tar")]
    [InlineData("skopeo")]
    public async Task Archive_inside_a_bundle_is_read_in_place_with_every_blob_where_the_manifest_says(string tool)
    {
        using var tmp = new TempDir();
        var (archive, image) = Archive(tmp, tool);
        string file = Path.Combine(tmp.Path, "shop.run");
        var written = await Write(archive, file);

        var bundle = SiteBundle.Open(file);
        var m = bundle.Manifest;
        Assert.Equal("example.com/shop:1.4.0", m.Image);
        // the parts tile the file: binary, start mark, archive, template, manifest, trailer
        Assert.Equal(new FileInfo("/usr/bin/true").Length, m.Sealer.Length);
        Assert.Equal(m.Sealer.Length + SiteBundle.StartMarkSize, m.Archive.Offset);
        Assert.Equal(new FileInfo(archive).Length, m.Archive.Length);
        Assert.Equal(m.Archive.Offset + m.Archive.Length, m.ClusterfileTemplate!.Offset);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(archive))), m.Archive.Sha256);
        Assert.Equal(Template, bundle.ReadClusterfileTemplate());

        var inPlace = bundle.OpenArchive();
        Assert.Equal(file, inPlace.Path);
        var reader = ClusterImageReader.Open(inPlace);
        Assert.Equal(image.Top.Digest, reader.Descriptor.Digest);
        Assert.Equal(["amd64", "arm64"], reader.Platforms.Select(p => p.Platform.Architecture));
        Assert.Equal([file], BundleFixtures.AssertEveryLayerReadsInPlace(inPlace, image, OciLayout.Open(tmp.Sub("layout"))));
        await bundle.VerifyAsync();

        // the executable in front still runs with the payload appended
        Assert.Equal(0, Run(file).ExitCode);
    }

    [Fact]
    public async Task Extract_writes_each_part_as_a_file_equal_to_what_went_in()
    {
        using var tmp = new TempDir();
        var (archive, _) = Archive(tmp);
        var bundle = await Write(archive, Path.Combine(tmp.Path, "shop.run"));
        var files = await bundle.ExtractAsync(tmp.Sub("out"));
        Assert.Equal(["sealer", "shop-1.4.0.tar", "Clusterfile.template"], files.Select(Path.GetFileName));
        Assert.Equal(File.ReadAllBytes("/usr/bin/true"), File.ReadAllBytes(files[0]));
        Assert.Equal(File.ReadAllBytes(archive), File.ReadAllBytes(files[1]));
        Assert.Equal(Template, File.ReadAllText(files[2]));
        Assert.Equal(0, Run(files[0]).ExitCode);
        Assert.Equal(ClusterImageReader.OpenArchive(archive).Descriptor.Digest, ClusterImageReader.OpenArchive(files[1]).Descriptor.Digest);
    }

    [Fact]
    public async Task Plain_files_are_not_bundles()
    {
        using var tmp = new TempDir();
        var (archive, _) = Archive(tmp);
        Assert.Null(SiteBundle.TryOpen("/usr/bin/true"));
        Assert.Null(SiteBundle.TryOpen(archive));
        Assert.Null(SiteBundle.TryOpen(tmp.Write("empty", "")));
        Assert.Null(SiteBundle.TryOpen(tmp.Write("short", "hello")));
        var ex = Assert.Throws<SealerException>(() => SiteBundle.Open(archive));
        Assert.Equal(ErrorCodes.NotABundle, ex.Code);
        await Task.CompletedTask;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(5000)]
    [InlineData(400_000)]
    public async Task Truncated_bundle_is_refused_as_truncated(int cut)
    {
        using var tmp = new TempDir();
        var (archive, _) = Archive(tmp);
        string file = Path.Combine(tmp.Path, "shop.run");
        await Write(archive, file);
        long size = new FileInfo(file).Length;
        using (var fs = new FileStream(file, FileMode.Open)) fs.SetLength(size - cut);

        var ex = Assert.Throws<SealerException>(() => SiteBundle.TryOpen(file));
        Assert.Equal(ErrorCodes.BundleDamaged, ex.Code);
        Assert.Contains($"it is {size - cut} bytes but was written as {size} bytes: the file is truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Altered_bundle_is_refused_where_it_was_altered()
    {
        using var tmp = new TempDir();
        var (archive, image) = Archive(tmp);
        string file = Path.Combine(tmp.Path, "shop.run");
        var bundle = await Write(archive, file);
        var m = bundle.Manifest;
        long size = new FileInfo(file).Length;

        // the manifest (just before the trailer)
        string manifestAltered = Flip(tmp, file, "m.run", size - SiteBundle.TrailerSize - 10);
        Assert.Contains("its manifest does not match the digest in its trailer", Assert.Throws<SealerException>(() => SiteBundle.TryOpen(manifestAltered)).Message, StringComparison.Ordinal);

        // the archive's index.json: found on open, before anything of the image is used
        var inPlace = bundle.OpenArchive();
        long indexAt = IndexOffset(inPlace);
        string indexAltered = Flip(tmp, file, "i.run", indexAt + 5);
        var open = SiteBundle.Open(indexAltered);
        var ex = Assert.Throws<SealerException>(() => open.OpenArchive());
        Assert.Equal(ErrorCodes.BundleDamaged, ex.Code);
        Assert.Contains("index.json of its cluster image does not match", ex.Message, StringComparison.Ordinal);

        // a layer: content addressing catches it when read; verify and extract catch it in the archive section
        var layerAt = inPlace.Locate(image.Layers[1].ParsedDigest);
        string layerAltered = Flip(tmp, file, "l.run", layerAt.Offset + 100);
        var altered = SiteBundle.Open(layerAltered);
        var verify = await Assert.ThrowsAsync<SealerException>(() => altered.VerifyAsync());
        Assert.Equal(ErrorCodes.BundleDamaged, verify.Code);
        Assert.Contains("its archive section has sha256", verify.Message, StringComparison.Ordinal);
        var outDir = tmp.Sub("out");
        await Assert.ThrowsAsync<SealerException>(() => altered.ExtractAsync(outDir));
        Assert.False(File.Exists(Path.Combine(outDir, "shop-1.4.0.tar")));
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp"));
    }

    private static long IndexOffset(ArchiveLayout archive)
    {
        // where index.json's bytes sit in the archive (tar data starts on a 512-byte block)
        var bytes = archive.ReadEntry("index.json");
        var all = File.ReadAllBytes(archive.Path);
        for (long i = archive.Offset; i < archive.Offset + archive.Length - bytes.Length; i += 512)
        {
            if (all.AsSpan((int)i, bytes.Length).SequenceEqual(bytes)) return i;
        }
        throw new InvalidOperationException("index.json not found");
    }

    private static string Flip(TempDir tmp, string file, string name, long at)
    {
        string copy = Path.Combine(tmp.Path, name);
        File.Copy(file, copy);
        using var fs = new FileStream(copy, FileMode.Open);
        fs.Seek(at, SeekOrigin.Begin);
        int b = fs.ReadByte();
        fs.Seek(at, SeekOrigin.Begin);
        fs.WriteByte((byte)(b ^ 0x20));
        return copy;
    }

    [Fact]
    public async Task A_binary_that_already_carries_a_payload_is_refused()
    {
        using var tmp = new TempDir();
        var (archive, _) = Archive(tmp);
        string first = Path.Combine(tmp.Path, "first.run");
        await Write(archive, first);
        var ex = await Assert.ThrowsAsync<SealerException>(() => Write(archive, Path.Combine(tmp.Path, "second.run"), binary: first));
        Assert.Equal(ErrorCodes.BundleBadInput, ex.Code);
        Assert.False(File.Exists(Path.Combine(tmp.Path, "second.run")));
    }

    [Fact]
    public async Task Compressed_archive_is_refused_before_a_bundle_exists()
    {
        using var tmp = new TempDir();
        var (archive, _) = Archive(tmp);
        Assert.Equal(0, Run("zstd", "-q", archive, "-o", archive + ".zst").ExitCode);
        await Assert.ThrowsAsync<SealerException>(() => Write(archive + ".zst", Path.Combine(tmp.Path, "z.run")));
        Assert.Empty(Directory.GetFiles(tmp.Path, "z.run*"));
    }

    [Fact]
    public void Archive_read_in_place_maps_every_entry_of_a_big_archive()
    {
        // 200 blobs of 1 MiB: opening walks the headers (seeking over each blob's data) and maps every entry
        using var tmp = new TempDir();
        var layout = OciLayout.OpenOrCreate(tmp.Sub("layout"));
        for (int i = 0; i < 200; i++) layout.WriteBlob(OciImages.Pseudo("blob" + i, 1 << 20), "application/octet-stream");
        OciImages.Add(layout, "example.com/x:1", "x");
        string archive = Path.Combine(tmp.Path, "big.tar");
        Assert.Equal(0, Run("tar", "-C", tmp.Sub("layout"), "-cf", archive, ".").ExitCode);
        var a = ArchiveLayout.Open(archive);
        Assert.True(a.EntryNames.Count(n => n.StartsWith("blobs/sha256/", StringComparison.Ordinal)) > 200);
        Assert.Single(a.ReadIndex().Manifests);
        var blob = Sealer.Core.Oci.Digest.Sha256(OciImages.Pseudo("blob7", 1 << 20));
        Assert.True(a.HasBlob(blob, 1 << 20));
        Assert.False(a.HasBlob(blob, 1));
    }
}
