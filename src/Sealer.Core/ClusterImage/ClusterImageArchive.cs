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
/// (entries at once, each at its planned place, the disk write started as they are copied: <see cref="PlannedTar.WriteAtPlacesAsync"/>),
/// flushed to disk, and renamed back: the archive path holds the old complete archive or the new complete one, never a
/// partial one (it is absent while the update runs). An update that was interrupted leaves <c>.&lt;name&gt;.updating</c>; the
/// next write finds it, re-hashes every blob it keeps from it, and completes it. The result is byte-identical to writing
/// the archive from scratch.</para>
/// </summary>
public static class ClusterImageArchive
{
    private const int Block = PlannedTar.Block;

    /// <summary>The name of the file an update in progress uses next to <paramref name="archivePath"/>.</summary>
    public static string UpdatingPath(string archivePath)
        => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(archivePath))!, "." + Path.GetFileName(archivePath) + ".updating");

    /// <summary>Writes (or brings up to date) the archive of the layout at <paramref name="layoutDir"/>.</summary>
    /// <param name="progress">(bytes of the archive in place, its length), after every MiB written.</param>
    /// <param name="built">The manifests the build just wrote (<see cref="ClusterImageResult.BuiltManifests"/>): not parsed
    /// again, and their blobs not stat'ed again (the build wrote each or found it with its size).</param>
    public static async Task<ArchiveWriteResult> WriteAsync(string layoutDir, string archivePath, long sourceDateEpoch = 0, IProgress<(long Done, long Total)>? progress = null,
        IReadOnlyDictionary<string, ImageManifest>? built = null, CancellationToken cancellationToken = default)
    {
        archivePath = Path.GetFullPath(archivePath);
        var plan = Plan(OciLayout.Open(layoutDir), sourceDateEpoch, built);
        long total = PlannedTar.Length(plan);
        string updating = UpdatingPath(archivePath);
        Directory.CreateDirectory(Path.GetDirectoryName(archivePath)!);

        bool recovered = false;
        (int Entries, long Offset) keep = (0, 0);
        if (File.Exists(archivePath))
        {
            keep = CommonPrefix(archivePath, plan, verifyBlobs: false, cancellationToken);
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
            keep = CommonPrefix(updating, plan, verifyBlobs: true, cancellationToken);
        }

        // Nothing to keep: a new file rather than one truncated to zero. ext4 (auto_da_alloc) writes back every dirty page of
        // a file truncated to zero when it is closed: after Ctrl+C a close, or the process exit, then waits seconds for GBs
        // of a partial archive nobody needs on the disk yet (the complete one is flushed before its rename anyway).
        if (keep.Offset == 0) File.Delete(updating);
        long written;
        using (var fs = File.OpenHandle(updating, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            if (RandomAccess.GetLength(fs) != keep.Offset) RandomAccess.SetLength(fs, keep.Offset);
            written = await PlannedTar.WriteAtPlacesAsync(fs, plan, keep, total, progress, cancellationToken).ConfigureAwait(false);
            PlannedTar.WriteTrailer(fs, total);
            written += 2 * Block;
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

    /// <summary>The entries of the archive of the single image in <paramref name="layout"/>'s index.json, in archive order.</summary>
    internal static List<PlannedTar.Entry> Plan(OciLayout layout, long epoch, IReadOnlyDictionary<string, ImageManifest>? built = null)
    {
        var index = layout.ReadIndex();
        var stable = new List<Descriptor>();
        var own = new List<Descriptor>();
        var configs = new List<Descriptor>();
        var manifests = new List<Descriptor>();
        var indexes = new List<Descriptor>();
        bool allBuilt = true;
        foreach (var top in index.Manifests) Walk(layout, top, built, stable, own, configs, manifests, indexes, ref allBuilt);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var blobs = stable.Concat(own.Where(d => d.GetAnnotation(ClusterImageFormat.LayerKindAnnotation) == ClusterImageFormat.LayerKindRegistry))
            .Concat(own.Where(d => d.GetAnnotation(ClusterImageFormat.LayerKindAnnotation) != ClusterImageFormat.LayerKindRegistry))
            .Concat(configs).Concat(manifests).Concat(indexes)
            .Where(d => seen.Add(d.Digest))
            .ToList();

        var entries = new List<PlannedTar.Entry>();
        byte[] ociLayout = File.ReadAllBytes(Path.Combine(layout.Root, "oci-layout"));
        entries.Add(PlannedTar.File("oci-layout", ociLayout, epoch));
        entries.Add(PlannedTar.Directory("blobs/", epoch));
        foreach (var alg in blobs.Select(b => b.ParsedDigest.Algorithm).Distinct().Order(StringComparer.Ordinal)) entries.Add(PlannedTar.Directory($"blobs/{alg}/", epoch));
        foreach (var b in blobs)
        {
            var d = b.ParsedDigest;
            string path = layout.BlobPath(d);
            // The sizes of what the build just wrote or found were checked then (a stat each: 2,105 at 600 images); any other
            // layout's blobs are checked here. Either way the copy checks each file it writes from (PlannedTar).
            long size = allBuilt ? b.Size : new FileInfo(path).Length;
            if (size != b.Size) throw new SealerException(ErrorCodes.BlobNotFound, $"Blob {d} in '{layout.Root}' has {size} bytes, not the {b.Size} its descriptor says. Rebuild (dotnet build --no-incremental).");
            entries.Add(PlannedTar.CopyOf($"blobs/{d.Algorithm}/{d.Encoded}", path, size, epoch));
        }
        entries.Add(PlannedTar.File("index.json", File.ReadAllBytes(Path.Combine(layout.Root, "index.json")), epoch));
        return entries;
    }

    /// <summary>Every descriptor <paramref name="top"/>'s graph names in <paramref name="layout"/> (layers it holds, configs,
    /// manifests, indexes): the same walk as the archive's plan.</summary>
    internal static IEnumerable<Descriptor> Graph(OciLayout layout, Descriptor top, IReadOnlyDictionary<string, ImageManifest>? built = null)
    {
        List<Descriptor> stable = [], own = [], configs = [], manifests = [], indexes = [];
        bool allBuilt = true;
        Walk(layout, top, built, stable, own, configs, manifests, indexes, ref allBuilt);
        return stable.Concat(own).Concat(configs).Concat(manifests).Concat(indexes);
    }

    /// <summary>Sorts a top descriptor's graph: layers (this build's own rootfs/registry layers apart), configs, manifests, indexes.
    /// A manifest in <paramref name="built"/> is taken from there; <paramref name="allBuilt"/> turns false on any other.</summary>
    private static void Walk(OciLayout layout, Descriptor top, IReadOnlyDictionary<string, ImageManifest>? built, List<Descriptor> stable, List<Descriptor> own,
        List<Descriptor> configs, List<Descriptor> manifests, List<Descriptor> indexes, ref bool allBuilt)
    {
        ImageManifest? manifest = null;
        if (MediaTypes.IsIndex(top.MediaType))
        {
            byte[] bytes = layout.ReadBlobBytes(top.ParsedDigest, OciLimits.MaxManifestBytes);
            var idx = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, $"index {top.Digest}");
            foreach (var child in idx.Manifests) Walk(layout, child, built, stable, own, configs, manifests, indexes, ref allBuilt);
            indexes.Add(top);
            return;
        }
        if (built is null || !built.TryGetValue(top.Digest, out manifest))
        {
            allBuilt = false;
            manifest = OciJsonContext.FromBytes(layout.ReadBlobBytes(top.ParsedDigest, OciLimits.MaxManifestBytes), OciJsonContext.Default.ImageManifest, $"manifest {top.Digest}");
        }
        // This build's own layers are the last run of rootfs layers (its big folders' layers, then the shared ones) and the
        // last registry layer (FROM layers keep their annotations too).
        var kinds = manifest.Layers.Select(l => l.GetAnnotation(ClusterImageFormat.LayerKindAnnotation)).ToList();
        int lastRootfs = kinds.LastIndexOf(ClusterImageFormat.LayerKindRootfs);
        int firstRootfs = lastRootfs;
        while (firstRootfs > 0 && kinds[firstRootfs - 1] == ClusterImageFormat.LayerKindRootfs) firstRootfs--;
        int lastRegistry = kinds.LastIndexOf(ClusterImageFormat.LayerKindRegistry);
        for (int i = 0; i < manifest.Layers.Count; i++)
        {
            if (manifest.Layers[i].Urls is { Count: > 0 } && !layout.HasBlob(manifest.Layers[i].ParsedDigest)) continue; // foreign layer
            (i >= firstRootfs && i <= lastRootfs || i == lastRegistry ? own : stable).Add(manifest.Layers[i]);
        }
        configs.Add(manifest.Config);
        manifests.Add(top);
    }

    /// <summary>
    /// The longest prefix of <paramref name="plan"/> the file at <paramref name="path"/> already holds: headers equal byte for
    /// byte, small files equal whole, the data present (and, with <paramref name="verifyBlobs"/>, hashing to its name).
    /// Reads headers only (it skips over blob data) unless verifying: one positioned read per entry, on this thread (a
    /// 2,105-layer image's headers took 12–23 ms through asynchronous reads, each a trip through the thread pool).
    /// </summary>
    internal static (int Entries, long Offset) CommonPrefix(string path, IReadOnlyList<PlannedTar.Entry> plan, bool verifyBlobs, CancellationToken cancellationToken)
    {
        using var fs = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.RandomAccess);
        long length = RandomAccess.GetLength(fs), offset = 0;
        int n = 0;
        foreach (var e in plan)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (offset + e.Span > length) break;
            if (!Holds(fs, offset, e.Header)) break;
            if (e.Bytes is not null)
            {
                if (!Holds(fs, offset + e.Header.Length, e.Bytes)) break;
            }
            else if (verifyBlobs && e.SourcePath is not null && !HashesToName(fs, offset + e.Header.Length, e, cancellationToken))
            {
                break;
            }
            offset += e.Span;
            n++;
        }
        return (n, offset);
    }

    /// <summary>Whether the file holds <paramref name="expected"/> at <paramref name="at"/>.</summary>
    private static bool Holds(SafeFileHandle fs, long at, byte[] expected)
    {
        byte[] data = new byte[expected.Length];
        return ReadAt(fs, data, at) && data.AsSpan().SequenceEqual(expected);
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="at"/>; false when the file ends first.</summary>
    private static bool ReadAt(SafeFileHandle fs, Span<byte> buffer, long at)
    {
        for (int done = 0; done < buffer.Length;)
        {
            int r = RandomAccess.Read(fs, buffer[done..], at + done);
            if (r == 0) return false;
            done += r;
        }
        return true;
    }

    private static bool HashesToName(SafeFileHandle fs, long at, PlannedTar.Entry e, CancellationToken cancellationToken)
    {
        var digest = Digest.Parse(e.Name["blobs/".Length..].Replace('/', ':'));
        if (digest.Algorithm != "sha256") return false;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[1 << 20];
        for (long done = 0; done < e.Size;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int r = RandomAccess.Read(fs, buffer.AsSpan(0, (int)Math.Min(buffer.Length, e.Size - done)), at + done);
            if (r == 0) return false;
            hash.AppendData(buffer, 0, r);
            done += r;
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
}
