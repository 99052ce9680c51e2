using System.Security.Cryptography;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Layout.Tests;

/// <summary>
/// The on-disk OCI layout every cache and store is made of: blobs are verified before they are named, an interrupted
/// write resumes where it stopped, content altered on disk is caught when read, and index.json edits are atomic.
/// </summary>
public sealed class OciLayoutTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly OciLayout _layout;

    public OciLayoutTests() => _layout = OciLayout.OpenOrCreate(_tmp.Sub("layout"));

    public void Dispose() => _tmp.Dispose();

    private static (byte[] Bytes, Digest Digest) RandomBlob(int size)
    {
        byte[] bytes = RandomNumberGenerator.GetBytes(size);
        return (bytes, Digest.Sha256(bytes));
    }

    private string[] IngestFiles() => Directory.GetFiles(Path.Combine(_layout.Root, "ingest"));

    [Fact]
    public async Task A_region_of_a_file_is_imported_verified_and_only_a_matching_one_is_named()
    {
        // A file as an archive holds blobs: some bytes, the blob (over two of ImportRegion's 16 MiB steps), more bytes.
        var (blob, digest) = RandomBlob(33 * 1024 * 1024 + 17);
        string source = _tmp.Sub("archive");
        using (var f = File.Create(source))
        {
            f.Write(new byte[1000]);
            f.Write(blob);
            f.Write(new byte[512]);
        }
        var (_, other) = RandomBlob(10);
        using var handle = File.OpenHandle(source);

        // Wrong digest, and a region running past the file's end: refused, nothing named, no temp file left.
        var wrong = Assert.Throws<SealerException>(() => _layout.ImportRegion(handle, 1000, other, blob.Length));
        Assert.Equal(ErrorCodes.DigestMismatch, wrong.Code);
        var shortSource = Assert.Throws<SealerException>(() => _layout.ImportRegion(handle, 2000, digest, blob.Length));
        Assert.Equal(ErrorCodes.SizeMismatch, shortSource.Code);
        Assert.False(_layout.HasBlob(other));
        Assert.False(_layout.HasBlob(digest));
        Assert.Empty(IngestFiles());

        // Cancelled: stops between steps, leaves nothing.
        using (var cts = new CancellationTokenSource())
        {
            Assert.ThrowsAny<OperationCanceledException>(() => _layout.ImportRegion(handle, 1000, digest, blob.Length, _ => cts.Cancel(), cts.Token));
        }
        Assert.False(_layout.HasBlob(digest));
        Assert.Empty(IngestFiles());

        var reports = new List<long>();
        Assert.True(_layout.ImportRegion(handle, 1000, digest, blob.Length, reports.Add));
        Assert.Equal(blob.Length, reports[^1]);
        Assert.True(reports.Count >= 3);
        Assert.True(await _layout.VerifyBlobAsync(digest, blob.Length));
        Assert.False(_layout.ImportRegion(handle, 1000, digest, blob.Length), "already present");
        Assert.Empty(IngestFiles());
    }

    [Fact]
    public async Task Regions_imported_in_a_batch_are_named_only_at_its_commit_and_a_dropped_batch_leaves_nothing()
    {
        // An archive-like file: three blobs back to back (one over two of ImportRegion's 16 MiB steps).
        var blobs = new[] { RandomBlob(17 * 1024 * 1024 + 3), RandomBlob(4096), RandomBlob(70_000) };
        string source = _tmp.Sub("archive");
        var offsets = new List<long>();
        using (var f = File.Create(source))
        {
            foreach (var (bytes, _) in blobs)
            {
                offsets.Add(f.Position);
                f.Write(bytes);
            }
        }
        using var handle = File.OpenHandle(source);
        long startedBefore = Sealer.Core.IO.WriteBack.StartedBytes;

        // A batch that is dropped (a failed or cancelled load): verified blobs never reach their final names, no temp is left.
        using (var dropped = _layout.BeginImportBatch())
        {
            Assert.True(_layout.ImportRegion(handle, offsets[0], blobs[0].Digest, blobs[0].Bytes.Length, batch: dropped));
            Assert.True(_layout.ImportRegion(handle, offsets[1], blobs[1].Digest, blobs[1].Bytes.Length, batch: dropped));
            Assert.Equal(2, dropped.Pending);
            Assert.False(File.Exists(_layout.BlobPath(blobs[0].Digest)));
            Assert.False(_layout.HasBlob(blobs[1].Digest));
            Assert.Equal(2, IngestFiles().Length);
            // A corrupt one is refused at once and is not added.
            var (_, other) = RandomBlob(10);
            var wrong = Assert.Throws<SealerException>(() => _layout.ImportRegion(handle, offsets[2], other, blobs[2].Bytes.Length, batch: dropped));
            Assert.Equal(ErrorCodes.DigestMismatch, wrong.Code);
            Assert.Equal(2, dropped.Pending);
            // Cancelled mid-blob: nothing added, its temp gone.
            using var cts = new CancellationTokenSource();
            Assert.ThrowsAny<OperationCanceledException>(() => _layout.ImportRegion(handle, offsets[0], blobs[0].Digest, blobs[0].Bytes.Length, _ => cts.Cancel(), cts.Token, dropped));
            Assert.Equal(2, dropped.Pending);
        }
        Assert.Empty(IngestFiles());
        foreach (var (_, d) in blobs) Assert.False(File.Exists(_layout.BlobPath(d)), $"{d} named without a commit");

        // Committed: every blob under its final name, verified; the early write-back was asked for the copied bytes.
        using (var batch = _layout.BeginImportBatch())
        {
            for (int i = 0; i < blobs.Length; i++) Assert.True(_layout.ImportRegion(handle, offsets[i], blobs[i].Digest, blobs[i].Bytes.Length, batch: batch));
            Assert.Equal(3, batch.Pending);
            Assert.All(blobs, b => Assert.False(File.Exists(_layout.BlobPath(b.Digest))));
            batch.Commit();
            Assert.Equal(0, batch.Pending);
            Assert.Equal(3, batch.Committed);
        }
        foreach (var (bytes, d) in blobs) Assert.True(await _layout.VerifyBlobAsync(d, bytes.Length));
        Assert.Empty(IngestFiles());
        if (OperatingSystem.IsLinux())
        {
            // blob 0 was copied twice (the dropped batch and the committed one): its write-back was started both times
            Assert.True(Sealer.Core.IO.WriteBack.StartedBytes - startedBefore >= blobs[0].Bytes.Length * 2L, "sync_file_range was not used");
        }
    }

    [Fact]
    public void A_batch_commits_by_itself_when_it_holds_its_most_files()
    {
        string source = _tmp.Sub("many");
        var blobs = Enumerable.Range(0, ImportBatch.MaxFiles + 5).Select(_ => RandomBlob(600)).ToList();
        using (var f = File.Create(source)) foreach (var (bytes, _) in blobs) f.Write(bytes);
        using var handle = File.OpenHandle(source);
        using var batch = _layout.BeginImportBatch();
        for (int i = 0; i < blobs.Count; i++) _layout.ImportRegion(handle, i * 600L, blobs[i].Digest, 600, batch: batch);
        Assert.Equal(ImportBatch.MaxFiles, batch.Committed);
        Assert.Equal(5, batch.Pending);
        Assert.True(_layout.HasBlob(blobs[0].Digest, 600));
        Assert.False(File.Exists(_layout.BlobPath(blobs[^1].Digest)));
        batch.Commit();
        Assert.All(blobs, b => Assert.True(_layout.HasBlob(b.Digest, 600)));
    }

    [Fact]
    public async Task A_blob_whose_bytes_do_not_match_its_digest_is_refused_and_never_named()
    {
        var (bytes, _) = RandomBlob(300_000);
        var (_, other) = RandomBlob(300_000);

        var ex = await Assert.ThrowsAsync<SealerException>(() => _layout.WriteBlobAsync(new MemoryStream(bytes), other, bytes.Length));

        Assert.Equal(ErrorCodes.DigestMismatch, ex.Code);
        Assert.False(_layout.HasBlob(other));
        Assert.False(File.Exists(_layout.BlobPath(other)));
        Assert.All(IngestFiles(), f => Assert.Equal(0, new FileInfo(f).Length)); // no half blob kept either
    }

    [Fact]
    public async Task A_blob_longer_than_its_descriptor_is_refused_while_it_streams()
    {
        var (bytes, digest) = RandomBlob(200_000);

        var ex = await Assert.ThrowsAsync<SealerException>(() => _layout.WriteBlobAsync(new MemoryStream(bytes), digest, bytes.Length - 1));

        Assert.Equal(ErrorCodes.SizeMismatch, ex.Code);
        Assert.False(_layout.HasBlob(digest));
    }

    [Fact]
    public async Task An_interrupted_ingest_resumes_from_its_offset_and_commits_the_whole_blob()
    {
        var (bytes, digest) = RandomBlob(1_000_000);
        await using (var first = _layout.BeginIngest(digest, bytes.Length))
        {
            await first.AppendAsync(new MemoryStream(bytes, 0, 400_000));
        } // disposed without commit: a dropped download

        Assert.False(_layout.HasBlob(digest));
        await using (var second = _layout.BeginIngest(digest, bytes.Length))
        {
            Assert.Equal(400_000, second.Offset);
            await second.AppendAsync(new MemoryStream(bytes, 400_000, bytes.Length - 400_000));
            var committed = await second.CommitAsync();
            Assert.Equal(digest.ToString(), committed.Digest);
        }

        Assert.True(_layout.HasBlob(digest, bytes.Length));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(_layout.BlobPath(digest)));
        Assert.Empty(IngestFiles());
    }

    [Fact]
    public async Task A_downloading_blob_has_its_disk_write_started_as_it_grows_and_a_ranged_one_as_its_prefix_joins()
    {
        if (!OperatingSystem.IsLinux()) return; // sync_file_range is Linux's; elsewhere the commit's flush writes it all
        // One stream: 20 MiB appended in the reads a socket gives; its write is started every 8 MiB (WriteBehind.Step),
        // so the commit's flush has only the tail left.
        var (bytes, digest) = RandomBlob(20 << 20);
        long before = Sealer.Core.IO.WriteBack.StartedBytes;
        await using (var ingest = _layout.BeginIngest(digest, bytes.Length))
        {
            await ingest.AppendAsync(new MemoryStream(bytes));
            long started = Sealer.Core.IO.WriteBack.StartedBytes - before;
            Assert.True(started >= 2 * Sealer.Core.IO.WriteBehind.Step, $"write-back started for {started} of {bytes.Length} bytes before the commit");
            await ingest.CommitAsync();
        }
        Assert.Equal(bytes, await File.ReadAllBytesAsync(_layout.BlobPath(digest)));

        // Ranges, the second half first: nothing joins the prefix until the first half lands, then all of it is started.
        var (ranged, rangedDigest) = RandomBlob(20 << 20);
        int half = ranged.Length / 2;
        await using (var ingest = _layout.BeginRangedIngest(rangedDigest, ranged.Length))
        {
            await ingest.WriteAsync(half, ranged.AsMemory(half));
            ingest.MarkWritten(half, ranged.Length - half);
            before = Sealer.Core.IO.WriteBack.StartedBytes;
            await ingest.WriteAsync(0, ranged.AsMemory(0, half));
            ingest.MarkWritten(0, half);
            long started = Sealer.Core.IO.WriteBack.StartedBytes - before;
            Assert.True(started >= ranged.Length, $"write-back started for {started} of {ranged.Length} bytes once the prefix joined");
            await ingest.CommitAsync();
        }
        Assert.Equal(ranged, await File.ReadAllBytesAsync(_layout.BlobPath(rangedDigest)));
        Assert.Empty(IngestFiles());
    }

    [Fact]
    public async Task A_blob_altered_on_disk_is_refused_when_read_and_deleted_by_verify()
    {
        var descriptor = _layout.WriteBlob("""{"schemaVersion":2}"""u8, MediaTypes.OciManifest);
        var digest = descriptor.ParsedDigest;
        await File.WriteAllTextAsync(_layout.BlobPath(digest), """{"schemaVersion":3}""");

        var ex = Assert.Throws<SealerException>(() => _layout.ReadBlobBytes(digest));
        Assert.Equal(ErrorCodes.DigestMismatch, ex.Code);
        Assert.False(await _layout.VerifyBlobAsync(digest, descriptor.Size));
        Assert.False(File.Exists(_layout.BlobPath(digest)));
    }

    [Fact]
    public async Task Refs_set_at_once_from_many_writers_all_land_in_index_json_sorted_and_a_ref_set_again_is_replaced()
    {
        var blobs = Enumerable.Range(0, 16).Select(i => _layout.WriteBlob(RandomBlob(64).Bytes, MediaTypes.OciManifest)).ToArray();

        await Task.WhenAll(blobs.Select((b, i) => Task.Run(() => _layout.SetRef($"example.com/app:{i:D2}", b))));
        _layout.SetRef("example.com/app:00", blobs[15]);

        var names = _layout.ReadIndex().Manifests.Select(d => d.GetAnnotation(Annotations.RefName)).ToList();
        Assert.Equal(Enumerable.Range(0, 16).Select(i => $"example.com/app:{i:D2}"), names);
        Assert.Equal(blobs[15].Digest, _layout.FindRef("example.com/app:00")!.Digest);
        Assert.Empty(IngestFiles()); // every index.json write went through a temp file that is gone
    }
}
