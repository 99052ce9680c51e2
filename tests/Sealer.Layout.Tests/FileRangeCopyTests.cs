using System.Formats.Tar;
using System.Security.Cryptography;
using Sealer.Core.IO;

namespace Sealer.Layout.Tests;

/// <summary>File-to-file copies of blob bytes through a buffer (optionally hashed): the same bytes at any offsets, with
/// progress, cancellation and a clear failure when the source is short.</summary>
public sealed class FileRangeCopyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sealer-frc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string RandomFile(string name, int size)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(size));
        return path;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_range_lands_at_the_given_offset_byte_for_byte_and_hashed_as_copied(bool hashed)
    {
        string src = RandomFile("src", 3 * 1024 * 1024 + 123);
        string dst = Path.Combine(_dir, "dst");
        File.WriteAllBytes(dst, new byte[100]);
        var reports = new List<long>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var s = File.OpenHandle(src))
        using (var d = File.OpenHandle(dst, FileMode.Open, FileAccess.ReadWrite))
        {
            if (hashed) FileRangeCopy.CopyHashed(s, 7, d, 100, 2 * 1024 * 1024 + 5, hash, reports.Add);
            else FileRangeCopy.CopyBuffered(s, 7, d, 100, 2 * 1024 * 1024 + 5, reports.Add);
        }
        byte[] expected = File.ReadAllBytes(src).AsSpan(7, 2 * 1024 * 1024 + 5).ToArray();
        byte[] actual = File.ReadAllBytes(dst);
        Assert.Equal(100 + expected.Length, actual.Length);
        Assert.True(actual.AsSpan(0, 100).IndexOfAnyExcept((byte)0) < 0);
        Assert.True(expected.AsSpan().SequenceEqual(actual.AsSpan(100)));
        Assert.Equal([1L << 20, 2L << 20, expected.Length], reports);
        if (hashed) Assert.Equal(SHA256.HashData(expected), hash.GetCurrentHash());
    }

    [Fact]
    public void A_file_written_front_to_back_has_its_write_back_started_as_it_grows_and_its_bytes_unchanged()
    {
        // 40 MiB in 1 MiB pieces, as the build archive is written: WriteBehind starts the disk write every Step bytes and
        // the rest at Finish; the bytes read back are the bytes written (it is only a hint to the kernel).
        const int Piece = 1 << 20, Pieces = 40;
        string path = Path.Combine(_dir, "archive");
        byte[] all = RandomNumberGenerator.GetBytes(Piece * Pieces);
        long before = WriteBack.StartedBytes;
        using (var h = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            var behind = new WriteBehind(h);
            for (int i = 0; i < Pieces; i++)
            {
                RandomAccess.Write(h, all.AsSpan(i * Piece, Piece), (long)i * Piece);
                behind.Advance((long)(i + 1) * Piece);
            }
            behind.Finish(all.Length);
            RandomAccess.FlushToDisk(h);
        }
        Assert.True(all.AsSpan().SequenceEqual(File.ReadAllBytes(path)));
        if (OperatingSystem.IsLinux())
        {
            Assert.True(WriteBack.Available, "sync_file_range is missing on this Linux");
            Assert.True(WriteBack.StartedBytes - before >= all.Length, $"write-back started for {WriteBack.StartedBytes - before} of {all.Length} bytes");
        }
        else
        {
            using var h = File.OpenHandle(path);
            Assert.False(WriteBack.Start(h, 0, 1), "no early write-back off Linux");
        }
    }

    [Fact]
    public void A_start_only_write_behind_empties_a_buffered_writer_before_each_start()
    {
        // A downloading blob's FileStream (64 KiB buffer) written in socket-sized 4 KiB pieces: with no lag the write-behind
        // only starts writes, and before each start it calls the writer's flush, so every range it starts is in the kernel.
        const int Piece = 4096;
        const int Size = 20 << 20;
        string path = Path.Combine(_dir, "download");
        byte[] all = RandomNumberGenerator.GetBytes(Size);
        var flushedAt = new List<long>();
        using (var fs = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
        {
            var handle = fs.SafeFileHandle; // taken once: its getter flushes the buffer, which only the write-behind may ask for here
            var behind = new WriteBehind(handle, lag: null, flush: () =>
            {
                flushedAt.Add(fs.Position);
                fs.Flush();
            });
            for (int at = 0; at < Size; at += Piece)
            {
                fs.Write(all, at, Piece);
                behind.Advance(fs.Position);
            }
        }
        // the writer is flushed once per WriteBehind.Step gathered (at 8 and 16 MiB), where each start is made
        Assert.Equal([WriteBehind.Step, 2 * WriteBehind.Step], flushedAt);
        Assert.True(all.AsSpan().SequenceEqual(File.ReadAllBytes(path)));
    }

    [Fact]
    public void A_short_source_fails_and_a_cancelled_copy_stops()
    {
        string src = RandomFile("short", 4096);
        string dst = Path.Combine(_dir, "out");
        using var s = File.OpenHandle(src);
        using var d = File.OpenHandle(dst, FileMode.Create, FileAccess.ReadWrite);
        Assert.Throws<EndOfStreamException>(() => FileRangeCopy.CopyBuffered(s, 0, d, 0, 8192));
        Assert.Throws<OperationCanceledException>(() => FileRangeCopy.CopyBuffered(s, 0, d, 0, 4096, null, new CancellationToken(true)));
    }

    [Fact]
    public void A_tar_written_through_the_append_stream_holds_the_blob_after_its_header_like_any_tar()
    {
        string blob = RandomFile("blob", 1024 * 1024 + 17);
        string tarPath = Path.Combine(_dir, "a.tar");
        using (var handle = File.OpenHandle(tarPath, FileMode.CreateNew, FileAccess.Write))
        using (var output = new FileAppendStream(handle))
        {
            using (var tar = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true))
            {
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "small") { DataStream = new MemoryStream([1, 2, 3]) });
                using var source = FileRegionStream.OpenWhole(blob);
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "blobs/sha256/x") { DataStream = source });
            }
            output.Flush();
        }
        using var reader = new TarReader(File.OpenRead(tarPath));
        var small = reader.GetNextEntry(copyData: true)!;
        Assert.Equal("small", small.Name);
        var big = reader.GetNextEntry(copyData: true)!;
        Assert.Equal("blobs/sha256/x", big.Name);
        using var ms = new MemoryStream();
        big.DataStream!.CopyTo(ms);
        Assert.True(File.ReadAllBytes(blob).AsSpan().SequenceEqual(ms.ToArray()));
        Assert.Null(reader.GetNextEntry());
    }
}
