using System.Formats.Tar;
using System.Security.Cryptography;
using Sealer.Core.ClusterImage;
using Sealer.Core.IO;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Sdk.Tests.ClusterImage;

/// <summary>
/// An image-blob layer as ClusterImageBuilder writes it (DeterministicTar into a hashing <see cref="FileAppendStream"/>,
/// the blob from <see cref="OciLayout.OpenBlobRegion"/>, copied in <see cref="FileRangeCopy.Chunk"/> chunks) is the
/// same tar, byte for byte and digest for digest, as TarWriter writes through plain streams (how layers were written before,
/// so existing layer maps and archives stay valid), at every chunk boundary.
/// </summary>
public sealed class ImageBlobLayerTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private const int C = FileRangeCopy.Chunk;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(511)]
    [InlineData(C - 1)]
    [InlineData(C)]
    [InlineData(C + 1)]
    [InlineData(2 * C + 513)]
    public void A_blob_layer_written_in_chunks_is_byte_identical_to_TarWriters_output(int size)
    {
        var cache = OciLayout.OpenOrCreate(_tmp.Sub("cache"));
        byte[] blob = RandomNumberGenerator.GetBytes(size);
        var digest = Digest.Sha256(blob);
        File.WriteAllBytes(cache.BlobPath(digest), blob);

        var (expected, expectedDigest) = Reference(digest, blob);
        var (actual, actualDigest, length) = Chunked(cache, digest, CancellationToken.None);

        Assert.Equal(expected.Length, length);
        Assert.True(expected.AsSpan().SequenceEqual(actual), $"the layer of a {size}-byte blob differs from TarWriter's");
        Assert.Equal(expectedDigest, actualDigest);
        Assert.Equal(Digest.Sha256(actual), actualDigest);
        Assert.Equal(0, length % 512);
    }

    [Fact]
    public void A_known_blob_keeps_its_layer_digest()
    {
        // 1 MiB + 1 bytes of a fixed pattern: the layer digest every earlier version wrote for it (a changed tar byte would
        // invalidate every layer map and archive already on disk).
        var cache = OciLayout.OpenOrCreate(_tmp.Sub("cache"));
        byte[] blob = new byte[C + 1];
        for (int i = 0; i < blob.Length; i++) blob[i] = (byte)(i * 31 % 251);
        var digest = Digest.Sha256(blob);
        File.WriteAllBytes(cache.BlobPath(digest), blob);
        var (_, layerDigest, _) = Chunked(cache, digest, CancellationToken.None);
        Assert.Equal(Reference(digest, blob).Digest, layerDigest);
        Assert.Equal(KnownLayerDigest, layerDigest.ToString());
    }

    private const string KnownLayerDigest = "sha256:fada48086aeeae4644479952b528fe74997064d9bb52eb497ca2760683e51ef2";

    [Fact]
    public void Ctrl_C_stops_a_blob_copy_though_TarWriter_takes_no_token()
    {
        var cache = OciLayout.OpenOrCreate(_tmp.Sub("cache"));
        byte[] blob = RandomNumberGenerator.GetBytes(3 * C);
        var digest = Digest.Sha256(blob);
        File.WriteAllBytes(cache.BlobPath(digest), blob);
        // TarWriter.WriteEntry takes no token: the blob stream carries it into the chunked copy.
        Assert.Throws<OperationCanceledException>(() => Chunked(cache, digest, new CancellationToken(true)));
    }

    /// <summary>TarWriter over plain streams: the blob from a plain stream (Stream.CopyTo's small buffers), hashed on the way to memory.</summary>
    private (byte[] Bytes, Digest Digest) Reference(Digest digest, byte[] blob)
    {
        var ms = new MemoryStream();
        using (var hashing = new HashingWriteStream(ms, leaveOpen: true))
        {
            using (var tar = new DeterministicTar(hashing, 0))
            using (var data = new MemoryStream(blob, writable: false))
            {
                tar.AddFile(ClusterImageFormat.RegistryBlobPath(digest), data, executable: false);
            }
            hashing.Flush();
            return (ms.ToArray(), hashing.GetDigest());
        }
    }

    /// <summary>As ClusterImageBuilder writes an image-blob layer.</summary>
    private (byte[] Bytes, Digest Digest, long Length) Chunked(OciLayout cache, Digest digest, CancellationToken cancellationToken)
    {
        string path = _tmp.Sub($"layer-{Guid.NewGuid():N}");
        Digest layerDigest;
        long length;
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        using (var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write))
        {
            using var file = new FileAppendStream(handle, 0, hash);
            using (var tar = new DeterministicTar(file, 0))
            using (var data = cache.OpenBlobRegion(digest, cancellationToken: cancellationToken))
            {
                tar.AddFile(ClusterImageFormat.RegistryBlobPath(digest), data, executable: false);
            }
            file.Flush();
            length = file.Length;
            layerDigest = Digest.FromHash("sha256", hash.GetCurrentHash());
        }
        return (File.ReadAllBytes(path), layerDigest, length);
    }
}
