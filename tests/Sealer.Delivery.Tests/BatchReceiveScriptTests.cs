using System.Security.Cryptography;
using Sealer.Core.Delivery;
using Sealer.Core.Oci;

namespace Sealer.Delivery.Tests;

/// <summary>
/// A batch of small blobs as <see cref="BlobDistributor.WriteBatchAsync"/> writes it, received by
/// <see cref="BlobDistributor.BatchReceiveScript"/> under this machine's sh (dash), GNU tar and openssl: whole, cut inside a
/// blob, cut before its end entry, and with a blob whose bytes are not its digest's. (DistributionTests sends batches to real
/// sshd hosts; here the stream is cut exactly where the test says.)
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BatchReceiveScriptTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sealer-batch-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string Store => Path.Combine(_work, "store");

    private string InStore(Descriptor d) => Path.Combine(Store, "blobs", "sha256", d.ParsedDigest.Encoded);

    /// <summary>A distributor over a fixture image with 120 more blobs (one empty, one of 512 bytes exactly), and the batch's bytes.</summary>
    private async Task<(BlobDistributor Distributor, List<Descriptor> Blobs, byte[] Stream)> BatchAsync()
    {
        var image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 1024);
        var blobs = DistributionTests.AddBlobs(image, Enumerable.Range(0, 120).Select(i => i switch { 0 => 0, 1 => 512, _ => 1 + RandomNumberGenerator.GetInt32(20_000) }));
        var distributor = new BlobDistributor(ClusterImageSource.Open(image.Dir), Store);
        using var stream = new MemoryStream();
        long told = 0;
        await distributor.WriteBatchAsync(stream, blobs, n => told += n, CancellationToken.None);
        Assert.Equal(blobs.Sum(b => b.Size), told);
        return (distributor, blobs, stream.ToArray());
    }

    private static (int Exit, string Stderr) Receive(BlobDistributor distributor, byte[] input)
    {
        var r = Processes.RunWithInput("sh", ["-c", distributor.BatchReceiveScript()], input);
        return (r.ExitCode, r.StdErr);
    }

    private void AssertNothingLeftInIngest() => Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Store, "ingest")));

    [Fact]
    public async Task A_whole_batch_lands_every_blob_verified_by_one_tar_and_one_hash_process()
    {
        var (distributor, blobs, stream) = await BatchAsync();
        var (exit, stderr) = Receive(distributor, stream);
        Assert.True(exit == 0, stderr);
        foreach (var b in blobs) Assert.Equal(b.ParsedDigest.Encoded, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(InStore(b)))));
        Assert.Equal(blobs.Count, Directory.GetFiles(Path.Combine(Store, "blobs", "sha256")).Length); // the end entry is not a blob
        AssertNothingLeftInIngest();
    }

    [Fact]
    public async Task A_stream_cut_inside_a_blob_or_before_its_end_entry_is_exit_74_and_keeps_the_whole_blobs_before_the_cut()
    {
        var (distributor, blobs, stream) = await BatchAsync();
        // where each blob's data starts: after its 512-byte header, every entry padded to 512
        var starts = new List<long>();
        long at = 0;
        foreach (var b in blobs)
        {
            starts.Add(at + 512);
            at += 512 + (b.Size + 511) / 512 * 512;
        }

        // cut in the middle of blob 60's bytes
        int k = Enumerable.Range(60, 60).First(i => blobs[i].Size > 2);
        var (exit, stderr) = Receive(distributor, stream[..(int)(starts[k] + blobs[k].Size / 2)]);
        Assert.Equal(74, exit);
        Assert.Contains("the stream ended early", stderr, StringComparison.Ordinal);
        foreach (var b in blobs.Take(k)) Assert.True(File.Exists(InStore(b)), $"blob {blobs.IndexOf(b)} before the cut was not kept");
        foreach (var b in blobs.Skip(k)) Assert.False(File.Exists(InStore(b)));
        AssertNothingLeftInIngest();

        // cut after the last blob, before the end entry: every blob is whole, and still the stream is known to be short
        Directory.Delete(Store, recursive: true);
        (exit, stderr) = Receive(distributor, stream[..(int)at]);
        Assert.Equal(74, exit);
        Assert.Contains($"{blobs.Count} blob(s) of the batch arrived whole", stderr, StringComparison.Ordinal);
        foreach (var b in blobs) Assert.True(File.Exists(InStore(b)));
        AssertNothingLeftInIngest();
    }

    [Fact]
    public async Task A_blob_whose_bytes_are_not_its_digests_is_exit_73_named_and_removed_and_the_rest_land()
    {
        var (distributor, blobs, stream) = await BatchAsync();
        long offset = 0;
        int wrong = 30;
        foreach (var b in blobs.Take(wrong)) offset += 512 + (b.Size + 511) / 512 * 512;
        Assert.True(blobs[wrong].Size > 0);
        stream[offset + 512] ^= 0xff; // the first byte of its data
        var (exit, stderr) = Receive(distributor, stream);
        Assert.Equal(73, exit);
        Assert.Contains($"blob {blobs[wrong].Digest} arrived with digest sha256:", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(InStore(blobs[wrong])));
        foreach (var b in blobs.Where((_, i) => i != wrong)) Assert.True(File.Exists(InStore(b)));
        AssertNothingLeftInIngest();
    }
}
