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
