using System.Diagnostics;
using System.Formats.Tar;
using Sealer.Core.Artifacts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Oci;

namespace Sealer.Artifacts.Tests.Artifacts;

public class ArchiveTests
{
    [Theory]
    [InlineData(ArchiveCompression.None)]
    [InlineData(ArchiveCompression.Zstd)]
    public async Task Save_then_load_round_trips_with_equal_digests(ArchiveCompression compression)
    {
        using var tmp = new TempDir();
        var source = ClusterImageStore.Open(tmp.Sub("a"));
        var multi = TestImages.AddToStore(source, "registry.example.com/c/cluster:v1", multiArch: true);
        var single = TestImages.AddToStore(source, "registry.example.com/c/app:v1", seed: 5);
        string file = tmp.Sub("out.tar");
        await OciArchive.SaveAsync(source, [multi.Name, single.Name], file, new ArchiveSaveOptions { Compression = compression });

        byte[] head = new byte[4];
        using (var fs = File.OpenRead(file)) fs.ReadExactly(head);
        Assert.Equal(compression == ArchiveCompression.Zstd, head.SequenceEqual(new byte[] { 0x28, 0xB5, 0x2F, 0xFD }));
        Assert.Empty(Directory.GetFiles(tmp.Path, ".*.tmp"));

        var target = ClusterImageStore.Open(tmp.Sub("b"));
        var loaded = await OciArchive.LoadAsync(target, file);
        Assert.Equal(2, loaded.Count);
        Assert.Equal(multi.Digest, target.Resolve(multi.Name).Digest);
        Assert.Equal(single.Digest, target.Resolve(single.Name).Digest);
        Assert.Equal(["linux/amd64", "linux/arm64"], target.Resolve(multi.Name).Platforms);
        Assert.Equal(multi.Size, target.Resolve(multi.Name).Size);
        // Every blob arrived and re-hashes correctly.
        foreach (var d in ImageGraph.Load(target.Layout, target.Resolve(multi.Name).Descriptor).AllDigests)
        {
            Assert.True(await target.Layout.VerifyBlobAsync(d), $"{d} verifies");
        }
    }

    [Fact]
    public async Task Cancelled_save_leaves_no_file()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("a"));
        var img = TestImages.AddToStore(store, "x/cluster:v1", blobBytes: 4 * 1024 * 1024);
        using var cts = new CancellationTokenSource();
        var options = new ArchiveSaveOptions { Progress = new SyncProgress<long>(_ => cts.Cancel()) };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => OciArchive.SaveAsync(store, [img.Name], tmp.Sub("out/c.tar"), options, cts.Token));
        Assert.Empty(Directory.GetFiles(tmp.Sub("out")));
    }

    [Fact]
    public async Task Save_starts_the_disk_write_as_the_archive_grows_and_the_archive_loads()
    {
        // A big blob is copied chunk by chunk (by several writers, each entry at its place): the early write-back
        // (sync_file_range) must follow it, so the fsync before the rename finds little left to write; the bytes are
        // unchanged (it is only a hint).
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("a"));
        var img = TestImages.AddToStore(store, "x/cluster:v1", blobBytes: 24 * 1024 * 1024);
        long before = Sealer.Core.IO.WriteBack.StartedBytes;
        string file = tmp.Sub("out.tar");
        await OciArchive.SaveAsync(store, [img.Name], file);
        long archive = new FileInfo(file).Length;
        if (OperatingSystem.IsLinux())
        {
            Assert.True(Sealer.Core.IO.WriteBack.Available, "sync_file_range is missing on this Linux");
            // Every entry's bytes; the tar's two closing zero blocks are written after the entries, and the fsync takes them.
            Assert.True(Sealer.Core.IO.WriteBack.StartedBytes - before >= archive - 1024, $"write-back started for {Sealer.Core.IO.WriteBack.StartedBytes - before} of {archive} bytes");
        }
        var target = ClusterImageStore.Open(tmp.Sub("b"));
        await OciArchive.LoadAsync(target, file);
        Assert.Equal(img.Digest, target.Resolve(img.Name).Digest);
        foreach (var d in ImageGraph.Load(target.Layout, target.Resolve(img.Name).Descriptor).AllDigests)
        {
            Assert.True(await target.Layout.VerifyBlobAsync(d), $"{d} verifies");
        }
    }

    [SkippableFactIfNoSkopeo]
    public async Task Zstd_archive_is_plain_zstd_of_an_oci_archive()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("a"));
        var img = TestImages.AddToStore(store, "x/cluster:v1", multiArch: true);
        await OciArchive.SaveAsync(store, [img.Name], tmp.Sub("c.tar.zst"), new ArchiveSaveOptions { Compression = ArchiveCompression.Zstd, ZstdLevel = 9 });
        var (rc, output) = Processes.Run("zstd", "-q", "-d", tmp.Sub("c.tar.zst"), "-o", tmp.Sub("c.tar"));
        Assert.True(rc == 0, output);
        (rc, output) = Processes.Run("skopeo", "inspect", "--raw", $"oci-archive:{tmp.Sub("c.tar")}");
        Assert.True(rc == 0, output);
        Assert.Equal(img.Descriptor.ParsedDigest, Digest.Sha256(System.Text.Encoding.UTF8.GetBytes(output.TrimEnd('\n'))));
    }

    [Fact]
    public async Task Saved_archive_is_deterministic()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("a"));
        var img = TestImages.AddToStore(store, "x/cluster:v1", multiArch: true);
        await OciArchive.SaveAsync(store, [img.Name], tmp.Sub("1.tar"));
        await OciArchive.SaveAsync(store, [img.Name], tmp.Sub("2.tar"));
        Assert.Equal(OciImages.Sha256Hex(File.ReadAllBytes(tmp.Sub("1.tar"))), OciImages.Sha256Hex(File.ReadAllBytes(tmp.Sub("2.tar"))));
    }

    [Fact]
    public async Task A_file_written_by_several_writers_and_a_stream_written_in_order_hold_the_same_bytes()
    {
        // To a file every entry is written at its planned place by a few writers at once; to a pipe (save -o -, a bundle,
        // zstd) in order. Same archive either way, blob bytes included, and GNU tar lists it as one.
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("a"));
        var big = TestImages.AddToStore(store, "x/cluster:v1", multiArch: true, blobBytes: 3 * 1024 * 1024 + 7);
        var small = TestImages.AddToStore(store, "x/app:v1", seed: 9);
        await OciArchive.SaveAsync(store, [big.Name, small.Name], tmp.Sub("f.tar"));
        using var piped = new MemoryStream();
        await OciArchive.SaveToStreamAsync(store, [big.Name, small.Name], piped);
        Assert.Equal(OciImages.Sha256Hex(piped.ToArray()), OciImages.Sha256Hex(File.ReadAllBytes(tmp.Sub("f.tar"))));

        var (rc, listing) = Processes.Run("tar", "-tf", tmp.Sub("f.tar"));
        Assert.True(rc == 0, listing);
        var names = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["oci-layout", "index.json"], names.Take(2));
        var blobs = ImageGraph.Load(store.Layout, big.Descriptor).AllDigests.Concat(ImageGraph.Load(store.Layout, small.Descriptor).AllDigests)
            .Select(d => $"blobs/{d.Algorithm}/{d.Encoded}").ToHashSet();
        Assert.Equal(blobs.Order(), names.Skip(2).Order());
    }

    [SkippableFactIfNoSkopeo]
    public async Task Skopeo_reads_the_saved_archive_and_its_own_archive_loads()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("a"));
        var img = TestImages.AddToStore(store, "x/cluster:v1", multiArch: true);
        await OciArchive.SaveAsync(store, [img.Name], tmp.Sub("c.tar"));

        var (rc, output) = Processes.Run("skopeo", "inspect", "--raw", $"oci-archive:{tmp.Sub("c.tar")}");
        Assert.True(rc == 0, output);
        Assert.Equal(OciImages.Sha256Hex(store.Layout.ReadBlobBytes(img.Descriptor.ParsedDigest)), OciImages.Sha256Hex(System.Text.Encoding.UTF8.GetBytes(output.TrimEnd('\n'))));

        // skopeo writes its own archive naming the image by tag only: load needs --name, and keeps the digest.
        (rc, output) = Processes.Run("skopeo", "copy", "--all", "--preserve-digests", "--quiet", $"oci-archive:{tmp.Sub("c.tar")}", $"oci-archive:{tmp.Sub("s.tar")}:v9");
        Assert.True(rc == 0, output);
        var target = ClusterImageStore.Open(tmp.Sub("b"));
        var ex = await Assert.ThrowsAsync<SealerException>(() => OciArchive.LoadAsync(target, tmp.Sub("s.tar")));
        Assert.Equal(ErrorCodes.ArchiveImageUnnamed, ex.Code);
        var loaded = await OciArchive.LoadAsync(target, tmp.Sub("s.tar"), new OciArchive.LoadOptions { Name = "y/cluster:v9" });
        Assert.Equal(img.Digest, Assert.Single(loaded).Digest);
    }

    [Fact]
    public async Task Plain_archive_file_loads_in_place_and_as_a_stream_the_same()
    {
        using var tmp = new TempDir();
        var source = ClusterImageStore.Open(tmp.Sub("a"));
        // 40 MiB: more than two of ImportRegion's 16 MiB steps (copy, hash, check cancellation).
        var img = TestImages.AddToStore(source, "x/cluster:v1", blobBytes: 40 * 1024 * 1024 + 123);
        string file = tmp.Sub("p.tar");
        await OciArchive.SaveAsync(source, [img.Name], file);

        var target = ClusterImageStore.Open(tmp.Sub("b"));
        var reports = new List<long>();
        var loaded = await OciArchive.LoadAsync(target, file, new OciArchive.LoadOptions { Progress = new SyncProgress<long>(reports.Add) });
        Assert.Equal(img.Digest, Assert.Single(loaded).Digest);
        Assert.True(reports.Count >= 3, $"progress within the big blob ({reports.Count} reports)");
        Assert.Equal(reports.Order().ToList(), reports);
        var digests = ImageGraph.Load(target.Layout, target.Resolve(img.Name).Descriptor).AllDigests.ToList();
        foreach (var d in digests) Assert.True(await target.Layout.VerifyBlobAsync(d), $"{d} verifies");
        Assert.Empty(Directory.GetFiles(Path.Combine(target.Layout.Root, "ingest")));

        // The same archive through a stream that is not a file (stdin, ssh) takes the buffered path to the same blobs.
        var viaStream = ClusterImageStore.Open(tmp.Sub("c"));
        await using (var ms = new MemoryStream(File.ReadAllBytes(file), writable: false))
        {
            Assert.Equal(img.Digest, Assert.Single(await OciArchive.LoadFromStreamAsync(viaStream, ms, "stdin")).Digest);
        }
        foreach (var d in digests) Assert.True(await viaStream.Layout.VerifyBlobAsync(d), $"{d} verifies (stream)");
    }

    [Fact]
    public async Task Cancelled_load_of_a_plain_archive_leaves_no_half_blob_and_names_nothing()
    {
        using var tmp = new TempDir();
        var source = ClusterImageStore.Open(tmp.Sub("a"));
        var img = TestImages.AddToStore(source, "x/cluster:v1", blobBytes: 40 * 1024 * 1024);
        await OciArchive.SaveAsync(source, [img.Name], tmp.Sub("p.tar"));
        var target = ClusterImageStore.Open(tmp.Sub("b"));
        using var cts = new CancellationTokenSource();
        // Cancelled once the first 16 MiB step of the big blob is in: the import stops before the next one.
        var options = new OciArchive.LoadOptions { Progress = new SyncProgress<long>(n => { if (n >= 16L * 1024 * 1024) cts.Cancel(); }) };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => OciArchive.LoadAsync(target, tmp.Sub("p.tar"), options, cts.Token));
        Assert.Empty(target.List());
        Assert.Empty(Directory.GetFiles(Path.Combine(target.Layout.Root, "ingest")));
        var big = ImageGraph.Load(source.Layout, source.Resolve(img.Name).Descriptor).Blobs.MaxBy(b => b.Size)!;
        Assert.False(target.Layout.HasBlob(big), "the cancelled blob is not in the store");
    }

    [Fact]
    public async Task Corrupt_blob_is_rejected_and_nothing_is_named()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("a"));
        var img = TestImages.AddToStore(store, "x/cluster:v1", blobBytes: 200_000);
        await OciArchive.SaveAsync(store, [img.Name], tmp.Sub("c.tar"));
        // Flip a byte in the middle of the largest blob's data.
        byte[] bytes = File.ReadAllBytes(tmp.Sub("c.tar"));
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(tmp.Sub("bad.tar"), bytes);
        var target = ClusterImageStore.Open(tmp.Sub("b"));
        var ex = await Assert.ThrowsAsync<SealerException>(() => OciArchive.LoadAsync(target, tmp.Sub("bad.tar")));
        Assert.Equal(ErrorCodes.ArchiveBlobCorrupt, ex.Code);
        Assert.Empty(target.List());
    }

    [Fact]
    public async Task A_plain_archive_of_many_blobs_is_imported_several_at_once_and_one_corrupt_blob_stops_all()
    {
        // The walk finds every blob's place, then a few writers import them at once: all verify, progress only grows and
        // ends at the sum; a corrupt blob early in the archive (the others in flight) leaves nothing named, no temp file,
        // no blob that did not verify.
        using var tmp = new TempDir();
        var source = ClusterImageStore.Open(tmp.Sub("a"));
        var images = Enumerable.Range(1, 4).Select(i => TestImages.AddToStore(source, $"x/cluster{i}:v1", multiArch: true, seed: i, blobBytes: 300_000 + i)).ToList();
        string file = tmp.Sub("p.tar");
        await OciArchive.SaveAsync(source, images.Select(i => i.Name).ToList(), file);
        var graphs = images.Select(i => ImageGraph.Load(source.Layout, i.Descriptor)).ToList();
        var blobs = graphs.SelectMany(g => g.Blobs).DistinctBy(b => b.Digest).ToList();
        Assert.True(blobs.Count >= 8, $"{blobs.Count} blobs");
        // Every blobs/ entry is stored: layers and configs, and the manifests and indexes.
        var entries = graphs.SelectMany(g => g.Manifests.Select(m => m.Descriptor).Concat(g.Blobs)).DistinctBy(d => d.Digest).ToList();

        var target = ClusterImageStore.Open(tmp.Sub("b"));
        var reports = new List<long>();
        var result = await OciArchive.LoadArchiveAsync(target, file, new OciArchive.LoadOptions { Progress = new SyncProgress<long>(n => { lock (reports) reports.Add(n); }) });
        Assert.Equal(images.Select(i => i.Digest).Order(), result.Images.Select(i => i.Digest).Order());
        Assert.Equal(entries.Count, result.BlobsLoaded);
        Assert.Equal(entries.Sum(b => b.Size), result.BytesLoaded);
        Assert.Equal(reports.Order().ToList(), reports);
        Assert.Equal(entries.Sum(b => b.Size), reports[^1]);
        foreach (var d in graphs.SelectMany(g => g.AllDigests)) Assert.True(await target.Layout.VerifyBlobAsync(d), $"{d} verifies");
        Assert.Empty(Directory.GetFiles(Path.Combine(target.Layout.Root, "ingest")));

        byte[] bytes = File.ReadAllBytes(file);
        var bad = blobs.First(b => b.Size >= 300_000);
        int header = System.Text.Encoding.ASCII.GetString(bytes).IndexOf($"blobs/sha256/{bad.ParsedDigest.Encoded}", StringComparison.Ordinal);
        Assert.True(header > 0 && header % 512 == 0, $"header at {header}");
        bytes[header + 512 + 1000] ^= 0xFF;
        File.WriteAllBytes(tmp.Sub("bad.tar"), bytes);
        var other = ClusterImageStore.Open(tmp.Sub("c"));
        var ex = await Assert.ThrowsAsync<SealerException>(() => OciArchive.LoadAsync(other, tmp.Sub("bad.tar")));
        Assert.Equal(ErrorCodes.ArchiveBlobCorrupt, ex.Code);
        Assert.Contains(bad.Digest, ex.Message);
        Assert.Empty(other.List());
        Assert.False(other.Layout.HasBlob(bad), "the corrupt blob is not in the store");
        Assert.Empty(Directory.GetFiles(Path.Combine(other.Layout.Root, "ingest")));
    }

    [Fact]
    public async Task Truncated_archive_and_non_archives_are_rejected_with_codes()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("a"));
        var img = TestImages.AddToStore(store, "x/cluster:v1", blobBytes: 200_000);
        await OciArchive.SaveAsync(store, [img.Name], tmp.Sub("c.tar"));
        byte[] bytes = File.ReadAllBytes(tmp.Sub("c.tar"));
        File.WriteAllBytes(tmp.Sub("cut.tar"), bytes[..(bytes.Length * 2 / 3)]);
        var target = ClusterImageStore.Open(tmp.Sub("b"));
        var ex = await Assert.ThrowsAsync<SealerException>(() => OciArchive.LoadAsync(target, tmp.Sub("cut.tar")));
        Assert.True(ex.Code is ErrorCodes.NotAnOciArchive or ErrorCodes.ArchiveBlobCorrupt, ex.ToDiagnosticString());
        Assert.Empty(target.List());

        File.WriteAllText(tmp.Sub("text.tar"), "this is not a tar at all, just some text that is long enough to fill a header block?");
        Assert.Equal(ErrorCodes.NotAnOciArchive, (await Assert.ThrowsAsync<SealerException>(() => OciArchive.LoadAsync(target, tmp.Sub("text.tar")))).Code);
        Assert.Equal(ErrorCodes.NotAnOciArchive, (await Assert.ThrowsAsync<SealerException>(() => OciArchive.LoadAsync(target, tmp.Sub("missing.tar")))).Code);
        File.WriteAllBytes(tmp.Sub("empty-layout.tar"), OciImages.Tar(("index.json", """{"schemaVersion":2,"manifests":[]}"""u8.ToArray())));
        Assert.Equal(ErrorCodes.NotAnOciArchive, (await Assert.ThrowsAsync<SealerException>(() => OciArchive.LoadAsync(target, tmp.Sub("empty-layout.tar")))).Code);
    }

    [Fact]
    public async Task Archive_missing_a_blob_is_incomplete()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("a"));
        var img = TestImages.AddToStore(store, "x/cluster:v1");
        await OciArchive.SaveAsync(store, [img.Name], tmp.Sub("c.tar"));
        // Rewrite the tar without one layer blob.
        var manifest = OciJsonContext.FromBytes(store.Layout.ReadBlobBytes(img.Descriptor.ParsedDigest), OciJsonContext.Default.ImageManifest, "m");
        string drop = "blobs/sha256/" + manifest.Layers[0].ParsedDigest.Encoded;
        var files = new List<(string, byte[])>();
        using (var r = new TarReader(File.OpenRead(tmp.Sub("c.tar"))))
        {
            while (r.GetNextEntry() is { } e)
            {
                if (e.Name == drop) continue;
                var ms = new MemoryStream();
                e.DataStream?.CopyTo(ms);
                files.Add((e.Name, ms.ToArray()));
            }
        }
        File.WriteAllBytes(tmp.Sub("partial.tar"), OciImages.Tar(files.ToArray()));
        var target = ClusterImageStore.Open(tmp.Sub("b"));
        var ex = await Assert.ThrowsAsync<SealerException>(() => OciArchive.LoadAsync(target, tmp.Sub("partial.tar")));
        Assert.Equal(ErrorCodes.ArchiveIncomplete, ex.Code);
        Assert.Empty(target.List());
    }

    [Fact]
    public async Task Unsafe_entries_are_refused()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.Sub("evil.tar"), OciImages.Tar(("oci-layout", """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray()), ("../../etc/passwd", "x"u8.ToArray())));
        var target = ClusterImageStore.Open(tmp.Sub("b"));
        Assert.Equal(ErrorCodes.ArchiveUnsafeEntry, (await Assert.ThrowsAsync<SealerException>(() => OciArchive.LoadAsync(target, tmp.Sub("evil.tar")))).Code);
        File.WriteAllBytes(tmp.Sub("evil2.tar"), OciImages.Tar(("blobs/sha256/notadigest", "x"u8.ToArray())));
        Assert.Equal(ErrorCodes.ArchiveUnsafeEntry, (await Assert.ThrowsAsync<SealerException>(() => OciArchive.LoadAsync(target, tmp.Sub("evil2.tar")))).Code);
    }

    [Fact]
    public async Task Load_from_a_layout_directory_imports_it()
    {
        using var tmp = new TempDir();
        var build = Sealer.Core.Layout.OciLayout.OpenOrCreate(tmp.Sub("bin"));
        var root = TestImages.BuildMultiArch(build);
        build.SetRef("example.com/built/cluster:v1", root);
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var loaded = Assert.Single(await OciArchive.LoadAsync(store, tmp.Sub("bin")));
        Assert.Equal(root.Digest, loaded.Digest);
        Assert.Equal("example.com/built/cluster:v1", loaded.Name);
    }
}

public class GcTests
{
    [Fact]
    public async Task Prune_keeps_referenced_blobs_and_frees_the_rest()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var keep = TestImages.AddToStore(store, "x/keep:v1", multiArch: true, seed: 1);
        var drop = TestImages.AddToStore(store, "x/drop:v1", seed: 2, blobBytes: 300_000);
        var keepDigests = ImageGraph.Load(store.Layout, keep.Descriptor).AllDigests.ToList();
        var dropOnly = ImageGraph.Load(store.Layout, drop.Descriptor).AllDigests.Except(keepDigests).ToList();
        // A stale partial download too.
        File.WriteAllBytes(Path.Combine(store.Root, "ingest", new string('a', 64) + ".partial"), new byte[1000]);

        var none = GarbageCollector.Collect(store.Layout, TimeSpan.Zero);
        Assert.Equal(0, none.BlobsRemoved);
        Assert.Equal(1, none.PartialsRemoved);

        store.Remove(drop.Name);
        var recent = GarbageCollector.Collect(store.Layout); // default grace: just-written blobs survive
        Assert.Equal(0, recent.BlobsRemoved);

        var dry = GarbageCollector.Collect(store.Layout, TimeSpan.Zero, dryRun: true);
        Assert.Equal(dropOnly.Count, dry.BlobsRemoved);
        Assert.All(dropOnly, d => Assert.True(store.Layout.HasBlob(d)));

        var report = GarbageCollector.Collect(store.Layout, TimeSpan.Zero);
        Assert.Equal(dropOnly.Count, report.BlobsRemoved);
        Assert.True(report.BytesFreed > 300_000, $"freed {report.BytesFreed}");
        Assert.All(dropOnly, d => Assert.False(store.Layout.HasBlob(d)));
        Assert.All(keepDigests, d => Assert.True(store.Layout.HasBlob(d)));
        Assert.Equal(keepDigests.Count, report.BlobsKept);
        // The kept image is still whole.
        var saved = tmp.Sub("k.tar");
        await OciArchive.SaveAsync(store, [keep.Name], saved);
    }
}
