using System.Formats.Tar;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;
using Sealer.Core.Oci;

namespace Sealer.Core.Layout;

/// <summary>Where a blob's bytes lie: a file and a byte range of it (a whole blob file of a layout, or a region of an archive).</summary>
public readonly record struct BlobLocation(string Path, long Offset, long Length)
{
    public Stream Open() => new FileRegionStream(Path, Offset, Length);
}

/// <summary>
/// An OCI image layout read in place from an uncompressed tar archive — a <c>.tar</c> file, or a region of a bigger file
/// such as a site bundle — without extracting it: one walk over the tar headers (data is skipped by seeking, so a
/// 20 GB archive opens in milliseconds) maps each entry to its byte range. Small blobs are read and verified on demand;
/// big ones are handed out as <see cref="BlobLocation"/>s whose readers verify them (the hosts' receive script does).
/// </summary>
public sealed class ArchiveLayout : IBlobSource
{
    private readonly Dictionary<string, BlobLocation> _entries;

    private ArchiveLayout(string path, long offset, long length, Dictionary<string, BlobLocation> entries, (long End, string Name)[] entryEnds, int parts)
    {
        Path = path;
        Offset = offset;
        Length = length;
        _entries = entries;
        EntryEnds = entryEnds;
        Parts = parts;
    }

    /// <summary>The file holding the archive (its first part, when it is split over several files).</summary>
    public string Path { get; }

    string IBlobSource.Name => Path;

    bool IBlobSource.BlobsVerified => false;

    /// <summary>Where the archive starts in <see cref="Path"/>.</summary>
    public long Offset { get; }

    /// <summary>The archive's length (all parts).</summary>
    public long Length { get; }

    /// <summary>How many files the archive is read from (1, or the parts of a split site bundle).</summary>
    public int Parts { get; }

    /// <summary>
    /// Where each tar entry ends (its padded data, as offsets into the archive, ascending): the places the archive can be
    /// cut so that every entry's bytes stay in one piece (Bundle/SiteBundle's <c>--split</c>).
    /// </summary>
    internal IReadOnlyList<(long End, string Name)> EntryEnds { get; }

    /// <summary>The entries' names (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/sha256/…</c>).</summary>
    public IEnumerable<string> EntryNames => _entries.Keys;

    /// <summary>Maps the archive at [<paramref name="offset"/>, +<paramref name="length"/>) of <paramref name="path"/> (default: the whole file).</summary>
    public static ArchiveLayout Open(string path, long offset = 0, long? length = null)
        => Open([(path, offset, length ?? new FileInfo(path).Length - offset)]);

    /// <summary>zstd's magic (28 B5 2F FD) at the start of <paramref name="head"/>.</summary>
    public static bool IsZstd(ReadOnlySpan<byte> head) => head.Length >= 4 && head[0] == 0x28 && head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD;

    /// <summary>gzip's magic (1F 8B) at the start of <paramref name="head"/>.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> head) => head.Length >= 2 && head[0] == 0x1F && head[1] == 0x8B;

    /// <summary>True when the file starts with zstd's or gzip's magic: a compressed archive, which cannot be read in place.</summary>
    public static bool IsCompressedFile(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var handle = File.OpenHandle(path);
        int n = RandomAccess.Read(handle, head, 0);
        return IsZstd(head[..n]) || IsGzip(head[..n]);
    }

    /// <summary>
    /// Maps an archive whose bytes are <paramref name="parts"/> one after the other (a site bundle split over several
    /// files). Every entry's data must lie inside one part (the bundle cuts only between entries), so each blob is still
    /// one <see cref="BlobLocation"/>.
    /// </summary>
    public static ArchiveLayout Open(IReadOnlyList<(string Path, long Offset, long Length)> parts)
    {
        string path = parts[0].Path;
        long len = parts.Sum(p => p.Length);
        var starts = new long[parts.Count];
        for (int i = 1; i < parts.Count; i++) starts[i] = starts[i - 1] + parts[i - 1].Length;
        var entries = new Dictionary<string, BlobLocation>(StringComparer.Ordinal);
        var ends = new List<(long, string)>();
        try
        {
            using Stream region = parts.Count == 1 ? new FileRegionStream(path, parts[0].Offset, parts[0].Length, bufferSize: 4096) : new ConcatRegionStream(parts, bufferSize: 4096);
            using var tar = new TarReader(region);
            TarEntry? e;
            while ((e = tar.GetNextEntry()) is not null)
            {
                string name = e.Name.StartsWith("./", StringComparison.Ordinal) ? e.Name[2..] : e.Name.TrimStart('/');
                if (e.DataOffset >= 0) ends.Add((e.DataOffset + (e.Length + 511) / 512 * 512, name));
                if (e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile)) continue;
                if (e.DataOffset < 0 || e.DataOffset + e.Length > len)
                {
                    throw new SealerException(ErrorCodes.NotAClusterImage, $"'{path}': archive entry '{name}' runs past the end of the archive; the file is truncated. Copy it again.");
                }
                int part = Array.BinarySearch(starts, e.DataOffset);
                if (part < 0) part = ~part - 1;
                while (part + 1 < parts.Count && starts[part + 1] <= e.DataOffset && e.Length > 0) part++;
                long within = e.DataOffset - starts[part];
                if (within + e.Length > parts[part].Length)
                {
                    throw new SealerException(ErrorCodes.NotAClusterImage, $"'{path}': archive entry '{name}' runs from part {part + 1} into part {part + 2} ('{parts[part + 1].Path}'); the parts were not cut by sealer or are out of order. Make the bundle again.");
                }
                entries[name] = new BlobLocation(parts[part].Path, parts[part].Offset + within, e.Length);
            }
        }
        catch (Exception ex) when (CorruptData.Is(ex))
        {
            throw new SealerException(ErrorCodes.NotAClusterImage, $"'{path}' is not a readable tar archive ({ex.Message}); it may be truncated or compressed. Copy it again, or decompress it first.", inner: ex);
        }
        if (!entries.ContainsKey("oci-layout") || !entries.ContainsKey("index.json"))
        {
            throw new SealerException(ErrorCodes.NotAClusterImage, $"'{path}' is not an OCI archive (no oci-layout or index.json at its root).");
        }
        return new ArchiveLayout(path, parts[0].Offset, len, entries, [.. ends], parts.Count);
    }

    /// <summary>The bytes of an entry (small ones: index.json, oci-layout).</summary>
    public byte[] ReadEntry(string name, long maxBytes = OciLimits.MaxManifestBytes)
    {
        if (!_entries.TryGetValue(name, out var at)) throw new SealerException(ErrorCodes.BlobNotFound, $"'{Path}' has no entry '{name}'.");
        if (at.Length > maxBytes) throw new SealerException(ErrorCodes.SizeMismatch, $"'{Path}': entry '{name}' is {at.Length} bytes, more than the {maxBytes} allowed for it.");
        var data = new byte[at.Length];
        using var fs = new FileRegionStream(at.Path, at.Offset, at.Length, bufferSize: 1);
        fs.ReadExactly(data);
        return data;
    }

    public ImageIndex ReadIndex() => OciJsonContext.FromBytes(ReadEntry("index.json"), OciJsonContext.Default.ImageIndex, $"{Path}!index.json");

    private static string BlobName(Digest digest) => $"blobs/{digest.Algorithm}/{digest.Encoded}";

    /// <summary>True when the archive holds the blob (with the expected size, when given).</summary>
    public bool HasBlob(Digest digest, long? size = null)
        => _entries.TryGetValue(BlobName(digest), out var at) && (size is null || at.Length == size);

    /// <summary>Where the blob's bytes lie in <see cref="Path"/>. Throws <see cref="ErrorCodes.BlobNotFound"/> if absent.</summary>
    public BlobLocation Locate(Digest digest)
        => _entries.TryGetValue(BlobName(digest), out var at)
            ? at
            : throw new SealerException(ErrorCodes.BlobNotFound, $"Blob {digest} is missing from the archive '{Path}'; the image is incomplete. Build or save it again.");

    /// <summary>Reads a small blob (manifest, config) whole and checks its digest.</summary>
    public byte[] ReadBlobBytes(Digest digest, long maxBytes = OciLimits.MaxManifestBytes)
    {
        byte[] data = ReadEntry(BlobName(digest), maxBytes);
        OciLayout.VerifyBytes(data, digest, $"{Path}!{digest}");
        return data;
    }
}
