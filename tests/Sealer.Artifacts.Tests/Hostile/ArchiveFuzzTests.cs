using System.Formats.Tar;
using Sealer.Core.Artifacts;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Artifacts.Tests.Hostile;

/// <summary>
/// Hostile input (docs/hostile-input.md): saved archives (plain and zstd) truncated, bit-flipped, with ranges duplicated
/// or removed, and with planted entries that point out of the store (<c>../</c>, absolute names, symlinks and hard links
/// to /etc, a size header far beyond the file). <c>sealer load</c> and the in-place reader (site bundles, run --image
/// x.tar) either take the archive whole — every named image's blobs present and verified — or refuse it with a coded
/// error; nothing is ever written outside the store, no half blob stays, nothing is named on a refusal.
/// </summary>
public class ArchiveFuzzTests
{
    [Fact]
    public async Task Mutated_archives_load_whole_or_are_refused_with_a_code_and_write_nothing_outside_the_store()
    {
        using var tmp = new TempDir();
        var seeds = await Seeds(tmp);
        int n = 0;
        var report = Fuzz.Run("archive-load", Fuzz.Mutations(seeds, 400 * Fuzz.Scale, ["../", "/etc/passwd", "\0", "ustar", "00000000777", "99999999999", "sha256:", "blobs/sha256/"]), async (input, ct) =>
        {
            string root = tmp.Sub($"run{++n}");
            var store = ClusterImageStore.Open(Path.Combine(root, "store"));
            Directory.CreateDirectory(Path.Combine(root, "outside"));
            try
            {
                var loaded = await OciArchive.LoadFromStreamAsync(store, new MemoryStream(input), Path.Combine(root, "in.tar"), cancellationToken: ct);
                foreach (var image in loaded)
                {
                    foreach (var d in ImageGraph.Load(store.Layout, store.Resolve(image.Name).Descriptor).AllDigests)
                    {
                        Assert.True(await store.Layout.VerifyBlobAsync(d, cancellationToken: ct), $"input {n}: {image.Name} names blob {d}, which does not verify");
                    }
                }
            }
            catch (Sealer.Core.Diagnostics.SealerException)
            {
                Assert.Empty(store.List()); // nothing named from a refused archive
                throw;
            }
            finally
            {
                Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(root, "outside")));
                Assert.DoesNotContain(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories), f => !f.StartsWith(Path.Combine(root, "store") + "/", StringComparison.Ordinal));
                Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "store"), "*.tmp*", SearchOption.AllDirectories)); // no half blob
                Directory.Delete(root, recursive: true);
            }
        }, TimeSpan.FromSeconds(5));
        report.AssertClean(400);
    }

    [Fact]
    public async Task Mutated_archives_read_in_place_give_verified_blobs_or_a_coded_error()
    {
        using var tmp = new TempDir();
        var seeds = (await Seeds(tmp)).Where(s => s[0] != 0x28).ToList(); // in place: plain tar only (bundles carry it so)
        string file = tmp.Sub("in-place.tar");
        var report = Fuzz.Run("archive-in-place", Fuzz.Mutations(seeds, 1500 * Fuzz.Scale, ["../", "\0", "ustar", "00000000777", "99999999999", "sha256:"]), (input, ct) =>
        {
            File.WriteAllBytes(file, input);
            var archive = ArchiveLayout.Open(file);
            foreach (var m in archive.ReadIndex().Manifests)
            {
                byte[] bytes = archive.ReadBlobBytes(m.ParsedDigest);
                Assert.Equal(m.ParsedDigest, Digest.Sha256(bytes));
                var manifest = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageManifest, "fuzz");
                foreach (var layer in manifest.Layers ?? []) _ = archive.Locate(layer.ParsedDigest);
            }
        });
        report.AssertClean(1500);
    }

    /// <summary>Two saved archives (plain, zstd) and the plain one with planted hostile entries.</summary>
    private static async Task<List<byte[]>> Seeds(TempDir tmp)
    {
        var store = ClusterImageStore.Open(tmp.Sub("seed-store"));
        var img = TestImages.AddToStore(store, "registry.example.com/c/app:v1", blobBytes: 2048);
        await OciArchive.SaveAsync(store, [img.Name], tmp.Sub("seed.tar"));
        await OciArchive.SaveAsync(store, [img.Name], tmp.Sub("seed.tar.zst"), new ArchiveSaveOptions { Compression = ArchiveCompression.Zstd });
        byte[] plain = File.ReadAllBytes(tmp.Sub("seed.tar"));
        var seeds = new List<byte[]> { plain, File.ReadAllBytes(tmp.Sub("seed.tar.zst")) };
        seeds.Add(WithEntry(plain, new PaxTarEntry(TarEntryType.RegularFile, "../outside/pwned") { DataStream = new MemoryStream("x"u8.ToArray()) }));
        seeds.Add(WithEntry(plain, new PaxTarEntry(TarEntryType.RegularFile, "/tmp/sealer-fuzz-absolute") { DataStream = new MemoryStream("x"u8.ToArray()) }));
        seeds.Add(WithEntry(plain, new PaxTarEntry(TarEntryType.SymbolicLink, "blobs/sha256/link") { LinkName = "/etc/passwd" }));
        seeds.Add(WithEntry(plain, new PaxTarEntry(TarEntryType.HardLink, "blobs/sha256/hard") { LinkName = "../../outside/x" }));
        seeds.Add(WithEntry(plain, new PaxTarEntry(TarEntryType.Directory, "../outside/dir")));
        return seeds;
    }

    /// <summary>The archive's entries with <paramref name="extra"/> first.</summary>
    private static byte[] WithEntry(byte[] archive, TarEntry extra)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            w.WriteEntry(extra);
            using var r = new TarReader(new MemoryStream(archive));
            while (r.GetNextEntry(copyData: true) is { } e) w.WriteEntry(e);
        }
        return ms.ToArray();
    }
}
