using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.ClusterImage;

/// <summary>What <see cref="ClusterImageArchive.WriteAsync"/> did.</summary>
/// <param name="BytesWritten">Bytes written to the archive file by this call (0 when it was already up to date).</param>
/// <param name="BytesKept">Bytes of the previous archive kept in place (its common prefix with the new one).</param>
/// <param name="Recovered">An interrupted update was found (<c>.&lt;name&gt;.updating</c>) and completed.</param>
public sealed record ArchiveWriteResult(long Length, long BytesWritten, long BytesKept, int EntriesKept, int EntriesWritten, bool Recovered);

/// <summary>
/// The build's OCI archive (<c>bin/&lt;Configuration&gt;/&lt;name&gt;.tar</c>): the output layout as a deterministic tar whose
/// entries are ordered from the most to the least stable, so a rebuild rewrites only the tail that changed.
/// <para>Entry order (docs/architecture.md): <c>oci-layout</c>, <c>blobs/</c> and <c>blobs/&lt;alg&gt;/</c>, then the layer blobs in
/// manifest order (FROM layers first, then app image blobs) except this build's own rootfs and registry layers, which come
/// next (registry, then rootfs: charts change most often), then configs, manifests, the index over platforms, and
/// <c>index.json</c> last. GNU tar headers, mode 0644/0755, uid/gid 0, one fixed mtime; two zero blocks at the end.</para>
/// <para>Rebuild: the existing archive's headers are read (seeking over the data) and compared, byte for byte, with the planned
/// headers; blob entries are named by their digest, so an equal header means equal content (the small non-blob files are
/// compared whole). The file is renamed to <c>.&lt;name&gt;.updating</c>, truncated after the common prefix, the rest written
/// (entries at once, each at its planned place, the disk write started as they are copied: <see cref="WriteEntriesAsync"/>),
/// flushed to disk, and renamed back: the archive path holds the old complete archive or the new complete one, never a
/// partial one (it is absent while the update runs). An update that was interrupted leaves <c>.&lt;name&gt;.updating</c>; the
/// next write finds it, re-hashes every blob it keeps from it, and completes it. The result is byte-identical to writing
/// the archive from scratch.</para>
/// </summary>
public static class ClusterImageArchive
{
    private const int Block = 512;
    private const UnixFileMode FileMode644 = (UnixFileMode)0b110_100_100;
    private const UnixFileMode DirMode755 = (UnixFileMode)0b111_101_101;

    /// <summary>One planned entry: a directory, a small file given as bytes, or a blob file of the layout.</summary>
    internal sealed record Entry(string Name, bool Directory, long Size, byte[]? Bytes, string? BlobPath, byte[] Header)
    {
        public long Padded => Size + (Block - Size % Block) % Block;

        public long Span => Header.Length + Padded;
    }

    /// <summary>The name of the file an update in progress uses next to <paramref name="archivePath"/>.</summary>
    public static string UpdatingPath(string archivePath)
        => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(archivePath))!, "." + Path.GetFileName(archivePath) + ".updating");

    /// <summary>Writes (or brings up to date) the archive of the layout at <paramref name="layoutDir"/>.</summary>
    /// <param name="progress">(bytes of the archive in place, its length), after every MiB written.</param>
    public static async Task<ArchiveWriteResult> WriteAsync(string layoutDir, string archivePath, long sourceDateEpoch = 0, IProgress<(long Done, long Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        archivePath = Path.GetFullPath(archivePath);
        var plan = Plan(OciLayout.Open(layoutDir), sourceDateEpoch);
        long total = plan.Sum(e => e.Span) + 2 * Block;
        string updating = UpdatingPath(archivePath);
        Directory.CreateDirectory(Path.GetDirectoryName(archivePath)!);

        bool recovered = false;
        (int Entries, long Offset) keep = (0, 0);
        if (File.Exists(archivePath))
        {
            keep = await CommonPrefixAsync(archivePath, plan, verifyBlobs: false, cancellationToken).ConfigureAwait(false);
            if (keep.Entries == plan.Count && new FileInfo(archivePath).Length == total && await IsTrailerAsync(archivePath, keep.Offset, cancellationToken).ConfigureAwait(false))
            {
                File.SetLastWriteTimeUtc(archivePath, DateTime.UtcNow); // up to date; newer than the inputs for MSBuild
                return new ArchiveWriteResult(total, 0, total, plan.Count, 0, false);
            }
            AtomicFile.Replace(archivePath, updating);
        }
        else if (File.Exists(updating))
        {
            // A previous update stopped half way: keep only what re-hashes to its name.
            recovered = true;
            keep = await CommonPrefixAsync(updating, plan, verifyBlobs: true, cancellationToken).ConfigureAwait(false);
        }

        // Nothing to keep: a new file rather than one truncated to zero. ext4 (auto_da_alloc) writes back every dirty page of
        // a file truncated to zero when it is closed: after Ctrl+C a close, or the process exit, then waits seconds for GBs
        // of a partial archive nobody needs on the disk yet (the complete one is flushed before its rename anyway).
        if (keep.Offset == 0) File.Delete(updating);
        long written;
        using (var fs = File.OpenHandle(updating, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            if (RandomAccess.GetLength(fs) != keep.Offset) RandomAccess.SetLength(fs, keep.Offset);
            written = await WriteEntriesAsync(fs, plan, keep, total, progress, cancellationToken).ConfigureAwait(false);
            RandomAccess.Write(fs, new byte[2 * Block], total - 2 * Block);
            written += 2 * Block;
            if (RandomAccess.GetLength(fs) != total) throw new SealerException(ErrorCodes.Internal, $"The archive '{updating}' has {RandomAccess.GetLength(fs)} bytes, not the {total} planned.");
            RandomAccess.FlushToDisk(fs); // on the disk before the rename
        }
        try
        {
            AtomicFile.Replace(updating, archivePath);
        }
        catch (SealerException ex) when (ex.Code == ErrorCodes.FileInUse)
        {
            throw new SealerException(ErrorCodes.FileInUse, $"The updated archive is complete in '{updating}' but could not be renamed to '{archivePath}': another process holds it. Close it and build again (the next build checks and completes it).", archivePath, 0, inner: ex);
        }
        return new ArchiveWriteResult(total, written, keep.Offset, keep.Entries, plan.Count - keep.Entries, recovered);
    }

    /// <summary>
    /// Writes the entries after <paramref name="keep"/>: every entry's place is known from the plan, so
    /// <see cref="DedicatedWorkers.FileCopiers"/> writers each take the next entry and write its header, data and padding there. Blob
    /// bytes go through a 1 MiB buffer (<see cref="FileRangeCopy.CopyBuffered"/>), their disk writes started as they go
    /// (<see cref="WriteBehind"/>, each writer with its share of the lag), so the flush before the rename finds little left.
    /// On ext4 the kernel's copy_file_range is a page-by-page splice: an 8 GiB archive from a cold page cache took 19–37 s
    /// that way, 15–18 s through the buffer on one thread and 11–13 s on two (build/bench/RESULTS.md, 2026-12-03), under
    /// <c>cat</c> + <c>sync</c> of the same files (16 s). An interrupted write may leave holes after the first missing entry: the
    /// next write keeps only the prefix whose blobs re-hash to their names (<see cref="CommonPrefixAsync"/>).
    /// </summary>
    /// <returns>Bytes written.</returns>
    private static async Task<long> WriteEntriesAsync(SafeFileHandle fs, List<Entry> plan, (int Entries, long Offset) keep, long total,
        IProgress<(long Done, long Total)>? progress, CancellationToken cancellationToken)
    {
        int count = plan.Count - keep.Entries;
        var at = new long[count];
        long end = keep.Offset;
        for (int i = 0; i < count; i++)
        {
            at[i] = end;
            end += plan[keep.Entries + i].Span;
        }
        if (end + 2 * Block != total) throw new SealerException(ErrorCodes.Internal, $"The archive plan has {end + 2 * Block} bytes, not the {total} planned.");

        var gate = new Lock();
        long done = keep.Offset;
        void Report(long bytes)
        {
            lock (gate)
            {
                done += bytes;
                progress?.Report((done, total));
            }
        }

        int writers = Math.Max(1, Math.Min(DedicatedWorkers.FileCopiers, count));
        // Each writer on a thread of its own (DedicatedWorkers: they block in I/O for the whole archive).
        await DedicatedWorkers.RunAsync(writers, count, (next, stop) =>
        {
            var behind = new WriteBehind(fs, keep.Offset, WriteBehind.Lag / writers, stop);
            byte[] zeros = new byte[Block];
            long last = keep.Offset;
            for (int i = next(); i >= 0; i = next())
            {
                stop.ThrowIfCancellationRequested();
                var e = plan[keep.Entries + i];
                long pos = at[i];
                behind.MoveTo(pos);
                RandomAccess.Write(fs, e.Header, pos);
                pos += e.Header.Length;
                long reported = 0;
                if (e.Bytes is not null)
                {
                    RandomAccess.Write(fs, e.Bytes, pos);
                }
                else if (e.BlobPath is not null)
                {
                    using var src = File.OpenHandle(e.BlobPath, FileMode.Open, FileAccess.Read, FileShare.Read);
                    long length = RandomAccess.GetLength(src);
                    if (length != e.Size) throw new SealerException(ErrorCodes.BlobNotFound, $"Blob '{e.BlobPath}' has {length} bytes, not the {e.Size} its descriptor says. Rebuild (dotnet build --no-incremental).");
                    long dataStart = pos;
                    // Bytes as they go: one big blob is minutes of a slow disk, and the reader wants to see them move.
                    FileRangeCopy.CopyBuffered(src, 0, fs, pos, e.Size, copied =>
                    {
                        behind.Advance(dataStart + copied);
                        Report(copied - reported);
                        reported = copied;
                    }, stop);
                }
                pos += e.Size;
                int pad = (int)(e.Padded - e.Size);
                if (pad > 0) RandomAccess.Write(fs, zeros.AsSpan(0, pad), pos);
                pos += pad;
                behind.Advance(pos);
                last = pos;
                Report(e.Span - reported);
            }
            behind.Finish(last);
        }, cancellationToken).ConfigureAwait(false);
        return end - keep.Offset;
    }

    /// <summary>The entries of the archive of the single image in <paramref name="layout"/>'s index.json, in archive order.</summary>
    internal static List<Entry> Plan(OciLayout layout, long epoch)
    {
        var index = layout.ReadIndex();
        var stable = new List<Descriptor>();
        var own = new List<Descriptor>();
        var configs = new List<Descriptor>();
        var manifests = new List<Descriptor>();
        var indexes = new List<Descriptor>();
        foreach (var top in index.Manifests) Walk(layout, top, stable, own, configs, manifests, indexes);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var blobs = stable.Concat(own.Where(d => d.GetAnnotation(ClusterImageFormat.LayerKindAnnotation) == ClusterImageFormat.LayerKindRegistry))
            .Concat(own.Where(d => d.GetAnnotation(ClusterImageFormat.LayerKindAnnotation) != ClusterImageFormat.LayerKindRegistry))
            .Concat(configs).Concat(manifests).Concat(indexes)
            .Where(d => seen.Add(d.Digest))
            .ToList();

        var entries = new List<Entry>();
        byte[] ociLayout = File.ReadAllBytes(Path.Combine(layout.Root, "oci-layout"));
        entries.Add(FileEntry("oci-layout", ociLayout, epoch));
        entries.Add(DirEntry("blobs/", epoch));
        foreach (var alg in blobs.Select(b => b.ParsedDigest.Algorithm).Distinct().Order(StringComparer.Ordinal)) entries.Add(DirEntry($"blobs/{alg}/", epoch));
        foreach (var b in blobs)
        {
            var d = b.ParsedDigest;
            string path = layout.BlobPath(d);
            long size = new FileInfo(path).Length;
            if (size != b.Size) throw new SealerException(ErrorCodes.BlobNotFound, $"Blob {d} in '{layout.Root}' has {size} bytes, not the {b.Size} its descriptor says. Rebuild (dotnet build --no-incremental).");
            entries.Add(new Entry($"blobs/{d.Algorithm}/{d.Encoded}", false, size, null, path, Header($"blobs/{d.Algorithm}/{d.Encoded}", '0', size, FileMode644, epoch)));
        }
        entries.Add(FileEntry("index.json", File.ReadAllBytes(Path.Combine(layout.Root, "index.json")), epoch));
        return entries;
    }

    /// <summary>Every descriptor <paramref name="top"/>'s graph names in <paramref name="layout"/> (layers it holds, configs,
    /// manifests, indexes): the same walk as the archive's plan.</summary>
    internal static IEnumerable<Descriptor> Graph(OciLayout layout, Descriptor top)
    {
        List<Descriptor> stable = [], own = [], configs = [], manifests = [], indexes = [];
        Walk(layout, top, stable, own, configs, manifests, indexes);
        return stable.Concat(own).Concat(configs).Concat(manifests).Concat(indexes);
    }

    /// <summary>Sorts a top descriptor's graph: layers (this build's own rootfs/registry layers apart), configs, manifests, indexes.</summary>
    private static void Walk(OciLayout layout, Descriptor top, List<Descriptor> stable, List<Descriptor> own, List<Descriptor> configs, List<Descriptor> manifests, List<Descriptor> indexes)
    {
        byte[] bytes = layout.ReadBlobBytes(top.ParsedDigest, OciLimits.MaxManifestBytes);
        if (MediaTypes.IsIndex(top.MediaType))
        {
            var idx = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, $"index {top.Digest}");
            foreach (var child in idx.Manifests) Walk(layout, child, stable, own, configs, manifests, indexes);
            indexes.Add(top);
            return;
        }
        var manifest = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageManifest, $"manifest {top.Digest}");
        // This build's own layers are the last rootfs and the last registry layer (FROM layers keep their annotations too).
        var kinds = manifest.Layers.Select(l => l.GetAnnotation(ClusterImageFormat.LayerKindAnnotation)).ToList();
        int lastRootfs = kinds.LastIndexOf(ClusterImageFormat.LayerKindRootfs);
        int lastRegistry = kinds.LastIndexOf(ClusterImageFormat.LayerKindRegistry);
        for (int i = 0; i < manifest.Layers.Count; i++)
        {
            if (manifest.Layers[i].Urls is { Count: > 0 } && !layout.HasBlob(manifest.Layers[i].ParsedDigest)) continue; // foreign layer
            (i == lastRootfs || i == lastRegistry ? own : stable).Add(manifest.Layers[i]);
        }
        configs.Add(manifest.Config);
        manifests.Add(top);
    }

    private static Entry FileEntry(string name, byte[] bytes, long epoch) => new(name, false, bytes.Length, bytes, null, Header(name, '0', bytes.Length, FileMode644, epoch));

    private static Entry DirEntry(string name, long epoch) => new(name, true, 0, null, null, Header(name, '5', 0, DirMode755, epoch));

    /// <summary>
    /// The longest prefix of <paramref name="plan"/> the file at <paramref name="path"/> already holds: headers equal byte for
    /// byte, small files equal whole, the data present (and, with <paramref name="verifyBlobs"/>, hashing to its name).
    /// Reads headers only (it seeks over blob data) unless verifying.
    /// </summary>
    internal static async Task<(int Entries, long Offset)> CommonPrefixAsync(string path, IReadOnlyList<Entry> plan, bool verifyBlobs, CancellationToken cancellationToken)
    {
        await using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, FileOptions.RandomAccess | FileOptions.Asynchronous);
        long length = fs.Length, offset = 0;
        int n = 0;
        foreach (var e in plan)
        {
            if (offset + e.Span > length) break;
            byte[] header = new byte[e.Header.Length];
            fs.Seek(offset, SeekOrigin.Begin);
            await fs.ReadExactlyAsync(header, cancellationToken).ConfigureAwait(false);
            if (!header.AsSpan().SequenceEqual(e.Header)) break;
            if (e.Bytes is not null)
            {
                byte[] data = new byte[e.Bytes.Length];
                await fs.ReadExactlyAsync(data, cancellationToken).ConfigureAwait(false);
                if (!data.AsSpan().SequenceEqual(e.Bytes)) break;
            }
            else if (verifyBlobs && e.BlobPath is not null && !await HashesToNameAsync(fs, e, cancellationToken).ConfigureAwait(false))
            {
                break;
            }
            offset += e.Span;
            n++;
        }
        return (n, offset);
    }

    private static async Task<bool> HashesToNameAsync(FileStream fs, Entry e, CancellationToken cancellationToken)
    {
        var digest = Digest.Parse(e.Name["blobs/".Length..].Replace('/', ':'));
        if (digest.Algorithm != "sha256") return false;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[1 << 20];
        long left = e.Size;
        while (left > 0)
        {
            int r = await fs.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
            if (r == 0) return false;
            hash.AppendData(buffer, 0, r);
            left -= r;
        }
        return Convert.ToHexStringLower(hash.GetCurrentHash()) == digest.Encoded;
    }

    private static async Task<bool> IsTrailerAsync(string path, long offset, CancellationToken cancellationToken)
    {
        await using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, FileOptions.Asynchronous);
        if (fs.Length != offset + 2 * Block) return false;
        fs.Seek(offset, SeekOrigin.Begin);
        byte[] tail = new byte[2 * Block];
        await fs.ReadExactlyAsync(tail, cancellationToken).ConfigureAwait(false);
        return !tail.AsSpan().ContainsAnyExcept((byte)0);
    }

    /// <summary>A GNU tar header (with a <c>././@LongLink</c> entry first when the name exceeds 100 bytes).</summary>
    internal static byte[] Header(string name, char type, long size, UnixFileMode mode, long epoch)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length <= 100) return OneHeader(nameBytes, type, size, mode, epoch);
        byte[] longName = [.. nameBytes, 0];
        byte[] link = OneHeader(Encoding.ASCII.GetBytes("././@LongLink"), 'L', longName.Length, FileMode644, 0);
        int padded = (longName.Length + Block - 1) / Block * Block;
        var result = new byte[Block + padded + Block];
        link.CopyTo(result, 0);
        longName.CopyTo(result, Block);
        OneHeader(nameBytes.AsSpan(0, 100).ToArray(), type, size, mode, epoch).CopyTo(result, Block + padded);
        return result;
    }

    private static byte[] OneHeader(byte[] name, char type, long size, UnixFileMode mode, long epoch)
    {
        var h = new byte[Block];
        name.CopyTo(h, 0);
        Octal(h.AsSpan(100, 8), (long)mode);
        Octal(h.AsSpan(108, 8), 0);
        Octal(h.AsSpan(116, 8), 0);
        if (size < 1L << 33) Octal(h.AsSpan(124, 12), size);
        else
        {
            // GNU base-256 for sizes of 8 GiB and more.
            h[124] = 0x80;
            for (int i = 0; i < 8; i++) h[135 - i] = (byte)(size >> (8 * i));
        }
        Octal(h.AsSpan(136, 12), epoch);
        h[156] = (byte)type;
        Encoding.ASCII.GetBytes("ustar  \0").CopyTo(h, 257); // GNU magic + version
        h.AsSpan(148, 8).Fill((byte)' ');
        long sum = 0;
        foreach (byte b in h) sum += b;
        Octal(h.AsSpan(148, 7), sum); // six digits, NUL, then the space already there
        return h;
    }

    /// <summary>Zero-padded octal with a trailing NUL, filling the field.</summary>
    private static void Octal(Span<byte> field, long value)
    {
        string s = Convert.ToString(value, 8).PadLeft(field.Length - 1, '0');
        Encoding.ASCII.GetBytes(s).CopyTo(field);
        field[^1] = 0;
    }
}
