using System.Formats.Tar;
using System.Security.Cryptography;
using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Sdk.Tests.ClusterImage;

/// <summary>
/// The build's OCI archive is brought up to date in place: a FROM child whose one chart changed rewrites only the tail of
/// its archive, the result is byte-identical to writing it from scratch, skopeo and `sealer load` read it, and an update
/// that was interrupted is found and completed by the next build.
/// </summary>
public sealed class ClusterImageArchiveTests : IDisposable
{
    private const int BigBytes = 4 << 20;
    private readonly TempDir _tmp = new();
    private readonly OciLayout _cache;
    private readonly List<ClusterImageContent> _images;

    public ClusterImageArchiveTests()
    {
        (_cache, _images) = CacheFixture.Create(_tmp.Sub("cache"));
        Directory.CreateDirectory(_tmp.Sub("proj/charts/web/templates"));
        File.WriteAllText(_tmp.Sub("proj/charts/web/Chart.yaml"), "apiVersion: v2\nname: web\nversion: 0.1.0\n");
        File.WriteAllText(_tmp.Sub("proj/charts/web/templates/deploy.yaml"), "kind: Deployment\n");
        // The base's rootfs carries 4 MiB that do not compress: the bulk a child's rebuild must not write again.
        File.WriteAllBytes(_tmp.Sub("proj/big.bin"), RandomNumberGenerator.GetBytes(BigBytes));
    }

    public void Dispose() => _tmp.Dispose();

    private static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }

    private async Task<BaseImage> BuildBaseAsync()
    {
        var spec = new ClusterImageSpec
        {
            RefName = "base:1.0",
            ImageCache = _cache,
            Images = [_images[1]],
            RootfsFiles = [new("files/big.bin", _tmp.Sub("proj/big.bin"))],
        };
        var r = await new ClusterImageBuilder().BuildAsync(spec, new ClusterImageOutput(_tmp.Sub("out/base")));
        return new BaseImage("registry.example/base:1.0", OciLayout.Open(r.LayoutPath), r.Descriptor);
    }

    private ClusterImageSpec Child(BaseImage baseImage) => new()
    {
        RefName = "child:1.0",
        ImageCache = _cache,
        BaseImage = baseImage,
        Images = [_images[0]],
        RootfsFiles =
        [
            new("charts/web/Chart.yaml", _tmp.Sub("proj/charts/web/Chart.yaml")),
            new("charts/web/templates/deploy.yaml", _tmp.Sub("proj/charts/web/templates/deploy.yaml")),
        ],
    };

    private Task<ClusterImageResult> Build(ClusterImageSpec spec, string name)
        => new ClusterImageBuilder().BuildAsync(spec, new ClusterImageOutput(_tmp.Sub($"out/{name}"), _tmp.Sub($"out/{name}.tar"), _tmp.Sub($"obj/{name}.layers.json")));

    [Fact]
    public async Task A_child_rebuild_after_one_chart_changed_writes_only_the_tail_and_equals_a_full_write()
    {
        var baseImage = await BuildBaseAsync();
        var first = await Build(Child(baseImage), "child");
        Assert.Equal(0, first.Archive!.BytesKept);
        Assert.Equal(first.Archive.Length, first.Archive.BytesWritten);
        Assert.True(first.Archive.Length > BigBytes);

        File.AppendAllText(_tmp.Sub("proj/charts/web/templates/deploy.yaml"), "# changed\n");
        var second = await Build(Child(baseImage), "child");
        Assert.NotEqual(first.Descriptor.Digest, second.Descriptor.Digest);
        var a = second.Archive!;
        Assert.True(a.BytesWritten < 64 * 1024, $"{a.BytesWritten} bytes written of {a.Length}");
        Assert.True(a.BytesKept > BigBytes, $"{a.BytesKept} bytes kept");
        Assert.False(File.Exists(ClusterImageArchive.UpdatingPath(second.ArchivePath!)));

        // The same inputs written from scratch: the very same bytes.
        var fresh = await Build(Child(baseImage), "fresh");
        Assert.Equal(0, fresh.Archive!.BytesKept);
        Assert.Equal(second.Descriptor.Digest, fresh.Descriptor.Digest);
        Assert.Equal(Sha256(fresh.ArchivePath!), Sha256(second.ArchivePath!));

        // A no-op rebuild writes nothing (and leaves the archive newer than the inputs).
        var before = File.GetLastWriteTimeUtc(second.ArchivePath!);
        var third = await Build(Child(baseImage), "child");
        Assert.Equal(0, third.Archive!.BytesWritten);
        Assert.True(File.GetLastWriteTimeUtc(second.ArchivePath!) >= before);
        Assert.Equal(Sha256(fresh.ArchivePath!), Sha256(third.ArchivePath!));

        // Entry order: oci-layout first, index.json last, the base's big layer before the child's own rootfs layer.
        var names = new List<string>();
        await using (var f = File.OpenRead(second.ArchivePath!))
        {
            using var tar = new TarReader(f);
            while (tar.GetNextEntry() is { } e) names.Add(e.Name);
        }
        Assert.Equal("oci-layout", names[0]);
        Assert.Equal("index.json", names[^1]);
        var manifest = ClusterImageReader.OpenLayout(second.LayoutPath).Platforms[0].Manifest;
        var rootfsLayers = manifest.Layers.Where(l => l.GetAnnotation(ClusterImageFormat.LayerKindAnnotation) == ClusterImageFormat.LayerKindRootfs).ToList();
        // base's (files/, 4 MiB: a layer of its own, and nothing else: no empty shared layer), child's
        Assert.Equal(2, rootfsLayers.Count);
        Assert.Equal("files", rootfsLayers[0].GetAnnotation(ClusterImageFormat.RootfsGroupAnnotation));
        Assert.Null(rootfsLayers[1].GetAnnotation(ClusterImageFormat.RootfsGroupAnnotation));
        int Position(Descriptor d) => names.IndexOf($"blobs/sha256/{d.ParsedDigest.Encoded}");
        Assert.True(Position(rootfsLayers[0]) < Position(rootfsLayers[1]));
        Assert.Equal(names.Count, names.Distinct().Count());

        // Readers: skopeo copies it (verifying every blob), `sealer load` loads it, our reader opens it.
        var (code, output) = Processes.RunCommandLine("skopeo", $"copy oci-archive:{second.ArchivePath} oci:{_tmp.Sub("skopeo-copy")}:child:1.0");
        Assert.True(code == 0, output);
        var loaded = await OciArchive.LoadAsync(ClusterImageStore.Open(_tmp.Sub("store")), second.ArchivePath!);
        Assert.Equal(second.Descriptor.Digest, Assert.Single(loaded).Descriptor.Digest);
        Assert.Equal(second.Descriptor.Digest, ClusterImageReader.OpenArchive(second.ArchivePath!).Descriptor.Digest);
    }

    [Fact]
    public async Task The_plan_from_the_manifests_the_build_wrote_is_the_plan_read_from_the_layout()
    {
        // The builder hands its manifests to the archive's plan (no second parse of a 627 KB manifest, no stat per blob):
        // the same entries, headers and sources as a plan that reads and checks everything from the layout.
        var baseImage = await BuildBaseAsync();
        var built = await Build(Child(baseImage), "child");
        Assert.Equal(built.Manifests.Values.Select(d => d.Digest), built.BuiltManifests!.Keys);
        var fromLayout = ClusterImageArchive.Plan(OciLayout.Open(built.LayoutPath), 0);
        var fromBuild = ClusterImageArchive.Plan(OciLayout.Open(built.LayoutPath), 0, built.BuiltManifests);
        Assert.Equal(fromLayout.Count, fromBuild.Count);
        for (int i = 0; i < fromLayout.Count; i++)
        {
            Assert.Equal(fromLayout[i].Name, fromBuild[i].Name);
            Assert.Equal(fromLayout[i].Header, fromBuild[i].Header);
            Assert.Equal(fromLayout[i].SourcePath, fromBuild[i].SourcePath);
            Assert.Equal(fromLayout[i].Bytes, fromBuild[i].Bytes);
        }
        Assert.Equal(ClusterImageArchive.Graph(OciLayout.Open(built.LayoutPath), built.Descriptor).Select(d => d.Digest),
            ClusterImageArchive.Graph(OciLayout.Open(built.LayoutPath), built.Descriptor, built.BuiltManifests).Select(d => d.Digest));

        // A layout blob cut short behind the build's back: a plan from the layout says so; one from the build trusts its own
        // check, and the copy that reads the file says so.
        var layer = OciLayout.Open(built.LayoutPath).BlobPath(built.BuiltManifests!.Values.Single().Layers[^1].ParsedDigest);
        using (var f = new FileStream(layer, FileMode.Open)) f.SetLength(f.Length - 1);
        var ex = Assert.Throws<SealerException>(() => ClusterImageArchive.Plan(OciLayout.Open(built.LayoutPath), 0));
        Assert.Equal(ErrorCodes.BlobNotFound, ex.Code);
        File.Delete(built.ArchivePath!);
        var copy = await Assert.ThrowsAsync<SealerException>(() => ClusterImageArchive.WriteAsync(built.LayoutPath, built.ArchivePath!, built: built.BuiltManifests));
        Assert.Equal(ErrorCodes.BlobNotFound, copy.Code);
    }

    [Fact]
    public async Task An_interrupted_update_is_found_and_completed_by_the_next_build()
    {
        var baseImage = await BuildBaseAsync();
        var first = await Build(Child(baseImage), "child");
        File.AppendAllText(_tmp.Sub("proj/charts/web/templates/deploy.yaml"), "# changed\n");
        var expected = await Build(Child(baseImage), "expected");
        byte[] full = File.ReadAllBytes(expected.ArchivePath!);

        // The crash: the archive was moved aside and the append stopped half way, with one kept blob damaged
        // (its header intact): the next build must re-hash what it keeps from there.
        string archive = first.ArchivePath!;
        string updating = ClusterImageArchive.UpdatingPath(archive);
        File.Delete(archive);
        byte[] partial = full.AsSpan(0, full.Length * 3 / 4).ToArray();
        partial[BigBytes / 2] ^= 0xFF; // inside the base's big rootfs layer, the first large blob
        File.WriteAllBytes(updating, partial);

        var repaired = await Build(Child(baseImage), "child");
        Assert.True(repaired.Archive!.Recovered);
        Assert.True(repaired.Archive.BytesKept < BigBytes / 2, $"{repaired.Archive.BytesKept} kept: the damaged blob must not be");
        Assert.False(File.Exists(updating));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(full)), Sha256(archive));

        // Undamaged, the interrupted file's whole blobs are kept and only the rest is appended.
        File.Move(archive, updating);
        using (var fs = new FileStream(updating, FileMode.Open)) fs.SetLength(full.Length - 3000);
        var resumed = await Build(Child(baseImage), "child");
        Assert.True(resumed.Archive!.Recovered);
        Assert.True(resumed.Archive.BytesKept > BigBytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(full)), Sha256(archive));
    }

    [Fact]
    public async Task Entries_written_at_once_and_interrupted_leave_a_hole_the_next_write_does_not_keep()
    {
        // Writers fill their entries at once, so an interrupted first write can hold complete entries after one that never
        // got its data: the planned header is there (written first), the data a hole. The next write keeps only what
        // comes before the hole and rewrites the rest: byte-identical to one whole write.
        var baseImage = await BuildBaseAsync();
        var first = await Build(Child(baseImage), "child");
        string archive = first.ArchivePath!;
        byte[] full = File.ReadAllBytes(archive);
        var plan = ClusterImageArchive.Plan(OciLayout.Open(first.LayoutPath), 0);
        Assert.True(Sealer.Core.IO.DedicatedWorkers.FileCopiers >= 1);
        // the entry with the most data that is not the last blob: complete entries follow it
        int big = Enumerable.Range(0, plan.Count - 2).Where(i => plan[i].SourcePath is not null).MaxBy(i => plan[i].Size);
        long offset = plan.Take(big).Sum(e => e.Span), data = offset + plan[big].Header.Length;
        byte[] interrupted = (byte[])full.Clone();
        interrupted.AsSpan((int)data, (int)plan[big].Size).Clear();
        string updating = ClusterImageArchive.UpdatingPath(archive);
        File.Delete(archive);
        File.WriteAllBytes(updating, interrupted);

        var r = await ClusterImageArchive.WriteAsync(first.LayoutPath, archive);
        Assert.True(r.Recovered);
        Assert.Equal(offset, r.BytesKept);
        Assert.Equal(big, r.EntriesKept);
        Assert.Equal(full.Length - offset, r.BytesWritten);
        Assert.False(File.Exists(updating));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(full)), Sha256(archive));
    }

    [Fact]
    public async Task Ctrl_C_mid_archive_returns_at_once_without_waiting_for_the_partial_file_on_disk_and_the_next_write_completes_it()
    {
        // A layout with one 512 MiB layer of random bytes: enough dirty pages that writing them back takes a measurable
        // time (ext4 did so on the way out after a truncate to zero: 2 s after Ctrl+C at 8 GiB, scale-bench).
        const long LayerBytes = 512L << 20;
        string layoutDir = _tmp.Sub("big");
        var layout = OciLayout.OpenOrCreate(layoutDir);
        string staged = _tmp.Sub("big.layer");
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        await using (var f = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            byte[] chunk = new byte[4 << 20];
            for (long done = 0; done < LayerBytes; done += chunk.Length)
            {
                RandomNumberGenerator.Fill(chunk);
                sha.AppendData(chunk);
                await f.WriteAsync(chunk);
            }
            string hex = Convert.ToHexStringLower(sha.GetHashAndReset());
            f.Close();
            File.Move(staged, Path.Combine(layoutDir, "blobs", "sha256", hex));
            var layer = new Descriptor { MediaType = MediaTypes.OciLayer, Digest = "sha256:" + hex, Size = LayerBytes };
            var config = layout.WriteBlob(OciJsonContext.ToBytes(new ImageConfig { Os = "linux", Architecture = "amd64", RootFs = new RootFs { DiffIds = [layer.Digest] } }, OciJsonContext.Default.ImageConfig), MediaTypes.OciConfig);
            var manifest = layout.WriteBlob(OciJsonContext.ToBytes(new ImageManifest { MediaType = MediaTypes.OciManifest, Config = config, Layers = [layer] }, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest);
            layout.SetRef("big:1.0", manifest);
        }

        // The whole archive, uncancelled: the yardstick (copy and flush to disk of 512 MiB).
        string archive = _tmp.Sub("out/big.tar");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var full = await ClusterImageArchive.WriteAsync(layoutDir, archive);
        var whole = clock.Elapsed;
        string expected = Sha256(archive);
        File.Delete(archive);

        // Ctrl+C once three quarters are written: the token is cancelled from the progress callback, between two copies.
        using var cts = new CancellationTokenSource();
        var cancelledAt = System.Diagnostics.Stopwatch.StartNew();
        var progress = new SyncProgress<(long Done, long Total)>(p =>
        {
            if (!cts.IsCancellationRequested && p.Done >= full.Length * 3 / 4)
            {
                cancelledAt.Restart();
                cts.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ClusterImageArchive.WriteAsync(layoutDir, archive, progress: progress, cancellationToken: cts.Token));
        var stop = cancelledAt.Elapsed;
        string updating = ClusterImageArchive.UpdatingPath(archive);
        Assert.False(File.Exists(archive)); // never a partial archive at its path
        long partial = new FileInfo(updating).Length;
        Assert.True(partial >= full.Length * 3 / 4, $"{partial} bytes in {updating}");
        // The bytes written so far are left to the kernel's write-back: nothing waits for them on the way out.
        var sync = System.Diagnostics.Stopwatch.StartNew();
        using (var h = File.OpenHandle(updating, FileMode.Open, FileAccess.ReadWrite)) RandomAccess.FlushToDisk(h);
        var flushAfter = sync.Elapsed;
        // The relation, not a tight bound (a loaded CI machine): the stop is a small part of the whole write.
        Assert.True(stop * 8 < whole, $"stopped {stop.TotalMilliseconds:F0} ms after the cancel; the whole archive took {whole.TotalMilliseconds:F0} ms (the partial file's flush afterwards {flushAfter.TotalMilliseconds:F0} ms)");

        // The next write keeps the prefix (re-hashed) and completes it: the same bytes as uncancelled.
        var resumed = await ClusterImageArchive.WriteAsync(layoutDir, archive);
        Assert.True(resumed.Recovered);
        Assert.True(resumed.BytesKept > 0, $"{resumed.BytesKept} kept");
        Assert.False(File.Exists(updating));
        Assert.Equal(expected, Sha256(archive));
    }

    [Fact]
    public void Long_blob_names_get_a_GNU_long_name_entry_that_tar_readers_follow()
    {
        string name = "blobs/sha512/" + new string('a', 128);
        byte[] header = PlannedTar.Header(name, '0', 3, (UnixFileMode)0b110_100_100, 0);
        using var ms = new MemoryStream();
        ms.Write(header);
        ms.Write("abc"u8);
        ms.Write(new byte[509 + 1024]);
        ms.Position = 0;
        using var tar = new TarReader(ms);
        var e = tar.GetNextEntry()!;
        Assert.Equal(name, e.Name);
        Assert.Equal(3, e.Length);
        Assert.Null(tar.GetNextEntry());
    }

    [Fact]
    public void Sizes_of_8_GiB_and_more_are_base_256_and_tar_readers_read_them()
    {
        // A ustar size field holds 11 octal digits (< 8 GiB); one app image layer, or a whole saved cluster image entry, can
        // be more. Header only: the readers must take the size from it, not from data that is not there.
        long size = 9L * 1024 * 1024 * 1024 + 5;
        byte[] header = PlannedTar.Header("blobs/sha256/" + new string('b', 64), '0', size, (UnixFileMode)0b110_100_100, 0);
        Assert.Equal(0x80, header[124]);
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.Sub("h.tar"), header);
        using (var tar = new TarReader(File.OpenRead(tmp.Sub("h.tar")))) // a file: seeking past its end to skip the data is allowed
        {
            Assert.Equal(size, tar.GetNextEntry(copyData: false)!.Length);
        }
        var (_, listing) = Processes.Run("tar", "-tvf", tmp.Sub("h.tar"));
        Assert.Contains($" {size} ", listing);
    }
}
