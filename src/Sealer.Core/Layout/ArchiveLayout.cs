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
public sealed class ArchiveLayout
{
    private readonly Dictionary<string, (long Offset, long Length)> _entries;

    private ArchiveLayout(string path, long offset, long length, Dictionary<string, (long, long)> entries)
    {
        Path = path;
        Offset = offset;
        Length = length;
        _entries = entries;
    }

    /// <summary>The file holding the archive.</summary>
    public string Path { get; }

    /// <summary>Where the archive starts in <see cref="Path"/>.</summary>
    public long Offset { get; }

    /// <summary>The archive's length.</summary>
    public long Length { get; }

    /// <summary>The entries' names (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/sha256/…</c>).</summary>
    public IEnumerable<string> EntryNames => _entries.Keys;

    /// <summary>Maps the archive at [<paramref name="offset"/>, +<paramref name="length"/>) of <paramref name="path"/> (default: the whole file).</summary>
    public static ArchiveLayout Open(string path, long offset = 0, long? length = null)
    {
        long size = new FileInfo(path).Length;
        long len = length ?? size - offset;
        var entries = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        try
        {
            using var region = new FileRegionStream(path, offset, len, bufferSize: 4096);
            using var tar = new TarReader(region);
            TarEntry? e;
            while ((e = tar.GetNextEntry()) is not null)
            {
                if (e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile)) continue;
                string name = e.Name.StartsWith("./", StringComparison.Ordinal) ? e.Name[2..] : e.Name.TrimStart('/');
                if (e.DataOffset < 0 || e.DataOffset + e.Length > len)
                {
                    throw new SealerException(ErrorCodes.NotAClusterImage, $"'{path}': archive entry '{name}' runs past the end of the archive; the file is truncated. Copy it again.");
                }
                entries[name] = (offset + e.DataOffset, e.Length);
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
        return new ArchiveLayout(path, offset, len, entries);
    }

    /// <summary>The bytes of an entry (small ones: index.json, oci-layout).</summary>
    public byte[] ReadEntry(string name, long maxBytes = OciLimits.MaxManifestBytes)
    {
        if (!_entries.TryGetValue(name, out var at)) throw new SealerException(ErrorCodes.BlobNotFound, $"'{Path}' has no entry '{name}'.");
        if (at.Length > maxBytes) throw new SealerException(ErrorCodes.SizeMismatch, $"'{Path}': entry '{name}' is {at.Length} bytes, more than the {maxBytes} allowed for it.");
        var data = new byte[at.Length];
        using var fs = new FileRegionStream(Path, at.Offset, at.Length, bufferSize: 1);
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
            ? new BlobLocation(Path, at.Offset, at.Length)
            : throw new SealerException(ErrorCodes.BlobNotFound, $"Blob {digest} is missing from the archive '{Path}'; the image is incomplete. Build or save it again.");

    /// <summary>Reads a small blob (manifest, config) whole and checks its digest.</summary>
    public byte[] ReadBlobBytes(Digest digest, long maxBytes = OciLimits.MaxManifestBytes)
    {
        byte[] data = ReadEntry(BlobName(digest), maxBytes);
        OciLayout.VerifyBytes(data, digest, $"{Path}!{digest}");
        return data;
    }
}
