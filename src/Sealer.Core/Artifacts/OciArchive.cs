using System.Formats.Tar;
using System.IO.Compression;
using Microsoft.Win32.SafeHandles;
using Sealer.Core.Bundle;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using ZstdSharp;

namespace Sealer.Core.Artifacts;

/// <summary>How <see cref="OciArchive.SaveAsync"/> compresses the tar.</summary>
public enum ArchiveCompression
{
    /// <summary>A plain tar: <c>skopeo inspect oci-archive:file.tar</c> reads it directly.</summary>
    None,

    /// <summary>The tar compressed with zstd (<c>.tar.zst</c>); <c>zstd -d</c> gives back the plain tar.</summary>
    Zstd,
}

/// <summary>Options for <see cref="OciArchive.SaveAsync"/>.</summary>
public sealed record ArchiveSaveOptions
{
    public ArchiveCompression Compression { get; init; }

    /// <summary>zstd level (1–19); 3 is zstd's default and fast. Layers are mostly gzip already, so higher rarely pays.</summary>
    public int ZstdLevel
    {
        get => _zstdLevel;
        init => _zstdLevel = value is >= 1 and <= 19 ? value : throw new ArgumentOutOfRangeException(nameof(ZstdLevel), value, "zstd level must be 1..19");
    }

    private readonly int _zstdLevel = 3;

    /// <summary>Reports bytes of content written so far.</summary>
    public IProgress<long>? Progress { get; init; }
}

/// <summary>
/// Cluster images as one file, for sneakernet: an <b>OCI archive</b> (a tar of an OCI image layout: <c>oci-layout</c>,
/// <c>index.json</c> with full references, <c>blobs/sha256/…</c>), readable by <c>skopeo … oci-archive:file.tar</c>,
/// optionally zstd-compressed. Both directions stream (nothing is held whole in memory), loading verifies every blob
/// against its digest, and both are atomic: a failed save leaves no output file, a failed load names no image.
/// </summary>
public static class OciArchive
{
    /// <summary>Writes the named images (their whole graphs, every platform) from the store to <paramref name="outputPath"/>.</summary>
    public static async Task<IReadOnlyList<StoredImage>> SaveAsync(ClusterImageStore store, IReadOnlyList<string> names, string outputPath,
        ArchiveSaveOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (images, graphs, index) = Plan(store, names);
        await WriteFileAsync(outputPath, new ArchiveContent(store.Layout, graphs, index), options, cancellationToken).ConfigureAwait(false);
        return images;
    }

    /// <summary>Streams the archive of the named images to <paramref name="output"/> (e.g. stdout, to pipe into <c>ssh host sealer load -i -</c>).</summary>
    public static async Task<IReadOnlyList<StoredImage>> SaveToStreamAsync(ClusterImageStore store, IReadOnlyList<string> names, Stream output,
        ArchiveSaveOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (images, graphs, index) = Plan(store, names);
        await WriteArchiveAsync(new ArchiveContent(store.Layout, graphs, index), output, options ?? new ArchiveSaveOptions(), cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return images;
    }

    /// <summary>The size of the uncompressed archive <see cref="SaveToStreamAsync"/> writes for <paramref name="names"/> (its
    /// plan: every entry's place is known before a byte is written), for a room check and a progress total.</summary>
    public static long PlannedSize(ClusterImageStore store, IReadOnlyList<string> names)
    {
        var (_, graphs, index) = Plan(store, names);
        return PlannedTar.Length(PlanEntries(new ArchiveContent(store.Layout, graphs, index)));
    }

    /// <summary>
    /// What one archive holds: the layout the blobs are read from, the graphs (manifests always written), index.json,
    /// small extra blobs written right after index.json (the delta record), and which leaf blobs are carried (all, for a
    /// full archive).
    /// </summary>
    internal sealed record ArchiveContent(OciLayout Layout, IReadOnlyList<ImageGraph> Graphs, ImageIndex Index)
    {
        public IReadOnlyList<byte[]> LeadingBlobs { get; init; } = [];

        public Func<Descriptor, bool> Carry { get; init; } = _ => true;
    }

    /// <summary>Writes <paramref name="content"/> to <paramref name="outputPath"/> atomically (a temp file renamed into place).</summary>
    internal static async Task WriteFileAsync(string outputPath, ArchiveContent content, ArchiveSaveOptions? options, CancellationToken cancellationToken)
    {
        options ??= new ArchiveSaveOptions();
        outputPath = Path.GetFullPath(outputPath);
        string dir = Path.GetDirectoryName(outputPath)!;
        Directory.CreateDirectory(dir);
        string temp = AtomicFile.TempPathFor(outputPath);
        try
        {
            if (options.Compression == ArchiveCompression.None)
            {
                // Every entry's place is known: the blobs are written at once, each at its place, as the build's archive is
                // (PlannedTar.WriteAtPlacesAsync); one writer was 1.5× `cp` of an 8 GiB store (build/bench/RESULTS.md).
                using var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
                await PlannedTar.WriteFileAsync(handle, PlanEntries(content), Progress(options), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                using var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                // Compressed: one stream in order; the disk writes started as the file grows (WriteBehind), so the flush
                // before the rename finds little left.
                await using var file = new FileAppendStream(handle) { WriteBehind = new WriteBehind(handle, cancellationToken: cancellationToken) };
                await WriteArchiveAsync(content, file, options, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.WriteBehind.Finish(file.Position);
                RandomAccess.FlushToDisk(handle);
            }
            AtomicFile.Replace(temp, outputPath);
        }
        catch (IOException ex) when (AtomicFile.IsDiskFull(ex))
        {
            OciLayout.TryDelete(temp);
            throw new SealerException(ErrorCodes.DiskWriteFailed, $"The disk is full while writing '{outputPath}'. Free some space and save again; nothing was written.", inner: ex);
        }
        catch
        {
            OciLayout.TryDelete(temp);
            throw;
        }
    }

    private static (List<StoredImage> Images, List<ImageGraph> Graphs, ImageIndex Index) Plan(ClusterImageStore store, IReadOnlyList<string> names)
    {
        if (names.Count == 0) throw new SealerException(ErrorCodes.InvalidStoreName, "Name at least one cluster image to save.");
        var images = names.Select(store.Resolve).DistinctBy(i => i.Name).ToList();
        var (graphs, index) = Plan(store.Layout, images.Select(i => (i.Name, i.Descriptor)).ToList());
        return (images, graphs, index);
    }

    /// <summary>The graphs of named roots in a layout plus their referrers (signatures, SBOMs: unnamed index.json entries), and the archive's index.json.</summary>
    internal static (List<ImageGraph> Graphs, ImageIndex Index) Plan(OciLayout layout, IReadOnlyList<(string Name, Descriptor Root)> roots)
    {
        var graphs = roots.Select(i => ImageGraph.Load(layout, i.Root)).ToList();
        var subjects = graphs.SelectMany(g => g.Manifests.Select(m => m.Descriptor.Digest)).ToHashSet(StringComparer.Ordinal);
        var referrers = ClusterImageInspector.FindReferrers(layout, subjects)
            .Select(r => layout.ReadIndex().Manifests.First(d => d.Digest == r.Digest && d.GetAnnotation(Annotations.RefName) is null)).ToList();
        graphs.AddRange(referrers.Select(r => ImageGraph.Load(layout, r)));

        var index = new ImageIndex
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciIndex,
            Manifests = roots.Select(i => new Descriptor
            {
                MediaType = i.Root.MediaType, Digest = i.Root.Digest, Size = i.Root.Size, Platform = i.Root.Platform,
                Annotations = new SortedDictionary<string, string>(StringComparer.Ordinal) { [Annotations.RefName] = i.Name },
            }).Concat(referrers).ToList(),
        };
        return (graphs, index);
    }

    /// <summary>Writes <paramref name="content"/> as an archive to a stream (a pipe; zstd per <paramref name="options"/>): the same
    /// bytes as <see cref="WriteFileAsync"/> writes to a file.</summary>
    internal static async Task WriteArchiveAsync(ArchiveContent content, Stream output, ArchiveSaveOptions options, CancellationToken cancellationToken)
    {
        var plan = PlanEntries(content);
        if (options.Compression != ArchiveCompression.Zstd)
        {
            await PlannedTar.WriteInOrderAsync(output, plan, Progress(options), cancellationToken).ConfigureAwait(false);
            return;
        }
        var zstd = new CompressionStream(output, options.ZstdLevel, leaveOpen: true);
        try
        {
            zstd.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_nbWorkers, Math.Max(1, Environment.ProcessorCount - 1));
            await PlannedTar.WriteInOrderAsync(zstd, plan, Progress(options), cancellationToken).ConfigureAwait(false);
            await zstd.DisposeAsync().ConfigureAwait(false);
            zstd = null;
        }
        finally
        {
            zstd?.Dispose();
        }
    }

    /// <summary>
    /// The archive's entries in order: <c>oci-layout</c>, <c>index.json</c>, the leading blobs (a delta's record), then per
    /// graph its manifests and the blobs it carries, each blob once. Blob sizes are checked against the store now, so a
    /// damaged store fails before the file is started.
    /// </summary>
    private static List<PlannedTar.Entry> PlanEntries(ArchiveContent content)
    {
        var plan = new List<PlannedTar.Entry>
        {
            PlannedTar.File("oci-layout", OciJsonContext.ToBytes(new OciLayoutFile(), OciJsonContext.Default.OciLayoutFile), 0),
            PlannedTar.File("index.json", OciJsonContext.ToBytes(content.Index, OciJsonContext.Default.ImageIndex), 0),
        };
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var bytes in content.LeadingBlobs)
        {
            var digest = Digest.Sha256(bytes);
            if (written.Add(digest.ToString())) plan.Add(PlannedTar.File(BlobEntryName(digest), bytes, 0));
        }
        foreach (var graph in content.Graphs)
        {
            foreach (var m in graph.Manifests)
            {
                if (written.Add(m.Descriptor.Digest)) plan.Add(PlannedTar.File(BlobEntryName(m.Descriptor.ParsedDigest), m.Bytes, 0));
            }
            foreach (var blob in graph.Blobs)
            {
                if (!content.Carry(blob) || !written.Add(blob.Digest)) continue;
                string path = content.Layout.BlobPath(blob.ParsedDigest);
                var info = new FileInfo(path);
                if (!info.Exists) throw new SealerException(ErrorCodes.BlobNotFound, $"Blob {blob.Digest} is missing from the layout at '{content.Layout.Root}'. Pull or load the image again.");
                if (info.Length != blob.Size)
                {
                    throw new SealerException(ErrorCodes.SizeMismatch, $"Blob {blob.Digest} in '{content.Layout.Root}' has {info.Length} bytes, not the {blob.Size} its descriptor says. Pull or load the image again.");
                }
                plan.Add(PlannedTar.CopyOf(BlobEntryName(blob.ParsedDigest), path, blob.Size, 0));
            }
        }
        return plan;
    }

    private static IProgress<(long Done, long Total)>? Progress(ArchiveSaveOptions options)
        => options.Progress is { } p ? new SyncProgress<(long Done, long Total)>(x => p.Report(x.Done)) : null;

    private static string BlobEntryName(Digest digest) => $"blobs/{digest.Algorithm}/{digest.Encoded}";

    /// <summary>Options for <see cref="OciArchive.LoadAsync"/>.</summary>
    public sealed record LoadOptions
    {
        /// <summary>The name for the (single) image of an archive whose index.json names it by tag only (as skopeo writes).</summary>
        public string? Name { get; init; }

        /// <summary>Reports bytes of content read so far.</summary>
        public IProgress<long>? Progress { get; init; }
    }

    /// <summary>
    /// Loads an OCI archive (plain, zstd or gzip; detected from the first bytes) or an OCI layout directory into the store.
    /// Every blob is verified against the digest its path names; images are named only once their whole graph is in
    /// the store, so an interrupted or corrupt load names nothing (the verified blobs it left are reused next time).
    /// A delta archive (<see cref="DeltaArchive"/>) loads the same way once its base's blobs are in the store.
    /// </summary>
    public static async Task<IReadOnlyList<StoredImage>> LoadAsync(ClusterImageStore store, string path, LoadOptions? options = null, CancellationToken cancellationToken = default)
        => (await LoadArchiveAsync(store, path, options, cancellationToken).ConfigureAwait(false)).Images;

    /// <summary>Loads an OCI archive read from a stream (e.g. stdin); <paramref name="path"/> names it in messages.</summary>
    public static async Task<IReadOnlyList<StoredImage>> LoadFromStreamAsync(ClusterImageStore store, Stream input, string path, LoadOptions? options = null, CancellationToken cancellationToken = default)
        => (await LoadArchiveFromStreamAsync(store, input, path, options, cancellationToken).ConfigureAwait(false)).Images;

    /// <summary><see cref="LoadAsync"/> with what was loaded: the images, and for a delta its base and what it carried.</summary>
    public static async Task<ArchiveLoadResult> LoadArchiveAsync(ClusterImageStore store, string path, LoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LoadOptions();
        path = Path.GetFullPath(path);
        if (Directory.Exists(path)) return await LoadLayoutAsync(store, path, options, cancellationToken).ConfigureAwait(false);
        if (!File.Exists(path)) throw new SealerException(ErrorCodes.NotAnOciArchive, $"'{path}' does not exist. Give the file written by 'sealer save' (or an OCI archive from skopeo).", path);
        if (SiteBundle.TryOpen(path) is { } bundle) return await LoadBundleAsync(store, bundle, options, cancellationToken).ConfigureAwait(false);

        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await LoadArchiveFromStreamAsync(store, file, path, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A site bundle (<c>sealer bundle</c>; split into parts or not): the cluster image archive inside it, read in place
    /// across its files (<see cref="ArchiveLayout"/>) and imported as a plain tar's blobs are, several at once, each
    /// verified. Nothing is extracted first, so loading a 20 GB bundle needs room for the store's copy only.
    /// </summary>
    private static async Task<ArchiveLoadResult> LoadBundleAsync(ClusterImageStore store, SiteBundle bundle, LoadOptions options, CancellationToken cancellationToken)
    {
        string path = bundle.Path;
        var archive = bundle.OpenArchive();
        CheckLayoutFile(archive.ReadEntry("oci-layout", 4096), path);
        var index = archive.ReadIndex();
        var recordDigest = DeltaArchive.RecordDigest(index, path);
        var delta = DeltaArchive.ReadInfo(index, path, d => archive.HasBlob(d) ? archive.ReadBlobBytes(d, DeltaArchive.MaxRecordBytes) : null);
        if (delta is not null) DeltaArchive.RequireBase(store, delta, path);
        var toName = NameRoots(index.Manifests, options.Name, path);

        var handles = new Dictionary<string, SafeFileHandle>(StringComparer.Ordinal);
        try
        {
            var blobs = new List<(Digest, SafeFileHandle, long, long)>();
            foreach (string name in archive.EntryNames)
            {
                if (!name.StartsWith("blobs/", StringComparison.Ordinal)) continue;
                var digest = BlobEntryDigest(name, name, path);
                var at = archive.Locate(digest);
                if (digest == recordDigest || store.Layout.HasBlob(digest, at.Length)) continue;
                if (!handles.TryGetValue(at.Path, out var handle))
                {
                    handles[at.Path] = handle = File.OpenHandle(at.Path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
                }
                blobs.Add((digest, handle, at.Offset, at.Length));
            }
            var (count, bytes) = await ImportAllInPlaceAsync(store, blobs, 0, options.Progress, path, cancellationToken).ConfigureAwait(false);
            return new ArchiveLoadResult(NameLoaded(store, toName, index, path), delta, count, bytes);
        }
        finally
        {
            foreach (var h in handles.Values) h.Dispose();
        }
    }

    /// <summary>An OCI layout directory (a build output, an unpacked archive or delta): its named roots imported into the store.</summary>
    private static async Task<ArchiveLoadResult> LoadLayoutAsync(ClusterImageStore store, string path, LoadOptions options, CancellationToken cancellationToken)
    {
        var source = OciLayout.Open(path);
        var index = source.ReadIndex();
        var named = NameRoots(index.Manifests, options.Name, path);
        var delta = DeltaArchive.ReadInfo(index, path, digest => source.HasBlob(digest) ? source.ReadBlobBytes(digest, DeltaArchive.MaxRecordBytes) : null);
        if (delta is not null) DeltaArchive.RequireBase(store, delta, path);
        int blobs = 0;
        long bytes = 0;
        foreach (var (_, root) in named)
        {
            // A delta's layout lacks the base's blobs: take them from the store (checked present above).
            var graph = ImageGraph.Load(source, root, requireBlobs: delta is null);
            foreach (var blob in graph.Blobs)
            {
                if (delta is not null && !source.HasBlob(blob)) continue;
                if (!store.Layout.HasBlob(blob)) { blobs++; bytes += blob.Size; }
                await ClusterImageStore.CopyBlobAsync(source, store.Layout, blob.ParsedDigest, blob.Size, cancellationToken).ConfigureAwait(false);
            }
            foreach (var m in graph.Manifests) store.Layout.WriteBlob(m.Bytes, m.Descriptor.MediaType);
        }
        RequireWhole(store, named, path);
        var images = named.Select(n => store.Add(n.Name, n.Root)).ToList();
        return new ArchiveLoadResult(images, delta, blobs, bytes);
    }

    /// <summary><see cref="LoadFromStreamAsync"/> with what was loaded: the images, and for a delta its base and what it carried.</summary>
    public static async Task<ArchiveLoadResult> LoadArchiveFromStreamAsync(ClusterImageStore store, Stream input, string path, LoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LoadOptions();
        ImageIndex? index = null;
        Digest? recordDigest = null;
        DeltaInfo? delta = null;
        bool sawLayout = false;
        long total = 0, loadedBytes = 0;
        int loadedBlobs = 0;
        // A plain tar in a file is read as the file itself (seekable): the walk reads the headers only (TarReader seeks over
        // the data) and notes where each blob lies; the blobs are then imported from there, several at once
        // (ImportInPlaceAsync). A stream (stdin, zstd) is read front to back, each blob through its entry.
        var file = input as FileStream is { CanSeek: true } f ? f : null;
        long start = file?.Position ?? 0;
        await using var content = await OpenDecompressedAsync(input, path, cancellationToken).ConfigureAwait(false);
        Stream tarStream = content;
        SafeFileHandle? region = null;
        if (file is not null && content is PrefixedStream)
        {
            file.Position = start;
            region = file.SafeFileHandle;
            tarStream = file;
        }
        var inPlace = new List<(Digest Digest, long Offset, long Length)>();
        try
        {
            await using var tar = new TarReader(tarStream, leaveOpen: true);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                string name = entry.Name.Replace('\\', '/');
                while (name.StartsWith("./", StringComparison.Ordinal)) name = name[2..];
                if (name.Length == 0 || entry.EntryType is TarEntryType.Directory) continue;
                if (entry.EntryType is TarEntryType.GlobalExtendedAttributes) continue;
                if (name.StartsWith('/') || name.Split('/').Contains("..") ||
                    entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile))
                {
                    throw new SealerException(ErrorCodes.ArchiveUnsafeEntry,
                        $"'{path}' has an unsafe or unexpected entry '{entry.Name}' ({entry.EntryType}); an OCI archive holds only regular files. Refusing the archive.", path);
                }
                if (name == "oci-layout")
                {
                    CheckLayoutFile(await ReadSmallAsync(entry, 4096, path, cancellationToken).ConfigureAwait(false), path);
                    sawLayout = true;
                }
                else if (name == "index.json")
                {
                    var bytes = await ReadSmallAsync(entry, OciLimits.MaxManifestBytes, path, cancellationToken).ConfigureAwait(false);
                    index = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, $"{path}: index.json");
                    recordDigest = DeltaArchive.RecordDigest(index, path);
                }
                else if (name.StartsWith("blobs/", StringComparison.Ordinal))
                {
                    var digest = BlobEntryDigest(name, entry.Name, path);
                    if (recordDigest == digest && delta is null)
                    {
                        // The delta's record comes right after index.json: check the base before any blob is written.
                        var record = await ReadSmallAsync(entry, DeltaArchive.MaxRecordBytes, path, cancellationToken).ConfigureAwait(false);
                        delta = DeltaArchive.ReadInfo(index!, path, d => d == digest ? record : null);
                        DeltaArchive.RequireBase(store, delta!, path);
                        continue;
                    }
                    if (store.Layout.HasBlob(digest, entry.Length)) continue; // already here and verified when written
                    if (region is not null && DataOffset(file!, region, entry) is long at)
                    {
                        // Its place is known: imported with the others after the walk, several at once.
                        inPlace.Add((digest, at, entry.Length));
                        continue;
                    }
                    try
                    {
                        await using var ingest = store.Layout.BeginIngest(digest, entry.Length);
                        await ingest.ResetAsync(cancellationToken).ConfigureAwait(false);
                        if (entry.DataStream is not null) await ingest.AppendAsync(entry.DataStream, null, cancellationToken).ConfigureAwait(false);
                        await ingest.CommitAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (SealerException ex) when (ex.Code is ErrorCodes.DigestMismatch or ErrorCodes.SizeMismatch)
                    {
                        throw BlobCorrupt(path, digest, ex);
                    }
                    total += entry.Length;
                    loadedBlobs++;
                    loadedBytes += entry.Length;
                    options.Progress?.Report(total);
                }
                // Other files (e.g. a tool's own metadata) are ignored: only the layout's own files matter.
            }
        }
        catch (Exception ex) when (CorruptData.Is(ex) || (ex is IOException && ex is not FileNotFoundException && !AtomicFile.IsDiskFull((IOException)ex)))
        {
            throw new SealerException(ErrorCodes.NotAnOciArchive, $"'{path}' is not a readable OCI archive ({ex.Message}). It may be truncated or not a tar; copy it again. Nothing was loaded.", path, inner: ex);
        }
        if (!sawLayout || index is null)
        {
            throw new SealerException(ErrorCodes.NotAnOciArchive,
                $"'{path}' is not an OCI archive: it has no {(sawLayout ? "index.json" : "oci-layout")} at its top. Write archives with 'sealer save' or 'skopeo copy … oci-archive:FILE'.", path);
        }
        // Named before any blob is imported: an archive whose index names no image (skopeo's, by tag) writes nothing.
        var toName = NameRoots(index.Manifests, options.Name, path);
        var imported = await ImportAllInPlaceAsync(store, inPlace.Select(b => (b.Digest, region!, b.Offset, b.Length)).ToList(), total, options.Progress, path, cancellationToken).ConfigureAwait(false);
        loadedBlobs += imported.Blobs;
        loadedBytes += imported.Bytes;
        if (recordDigest is { } rd && delta is null)
        {
            // A re-tarred delta whose record came before index.json was stored as a (verified) blob; otherwise it is missing.
            delta = DeltaArchive.ReadInfo(index, path, d => d == rd && store.Layout.HasBlob(d) ? store.Layout.ReadBlobBytes(d, DeltaArchive.MaxRecordBytes) : null);
            DeltaArchive.RequireBase(store, delta!, path);
        }

        return new ArchiveLoadResult(NameLoaded(store, toName, index, path), delta, loadedBlobs, loadedBytes);
    }

    /// <summary>An archive's <c>oci-layout</c> file: image layout version 1.x, else <see cref="ErrorCodes.NotAnOciArchive"/>.</summary>
    private static void CheckLayoutFile(byte[] bytes, string path)
    {
        var layoutFile = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.OciLayoutFile, $"{path}: oci-layout");
        if (!layoutFile.ImageLayoutVersion.StartsWith("1.", StringComparison.Ordinal))
        {
            throw new SealerException(ErrorCodes.NotAnOciArchive, $"'{path}' has imageLayoutVersion {layoutFile.ImageLayoutVersion}; only 1.x is supported.", path);
        }
    }

    /// <summary>The digest a <c>blobs/ALG/HEX</c> entry (<paramref name="name"/>; <paramref name="shown"/> as the archive spells
    /// it) is named by; any other shape is <see cref="ErrorCodes.ArchiveUnsafeEntry"/>.</summary>
    private static Digest BlobEntryDigest(string name, string shown, string path)
    {
        var parts = name.Split('/');
        return parts.Length == 3 && Digest.TryParse($"{parts[1]}:{parts[2]}", out var digest) ? digest
            : throw new SealerException(ErrorCodes.ArchiveUnsafeEntry, $"'{path}' has a blob entry '{shown}' whose name is not a digest. Refusing the archive.", path);
    }

    /// <summary>Names the loaded images once every graph is whole in the store (<see cref="RequireWhole"/>), their referrers kept.</summary>
    private static List<StoredImage> NameLoaded(ClusterImageStore store, List<(string Name, Descriptor Root)> toName, ImageIndex index, string path)
    {
        RequireWhole(store, toName, path);
        var images = toName.Select(n => store.Add(n.Name, n.Root)).ToList();
        AddReferrers(store, index.Manifests, toName.Select(n => n.Root));
        return images;
    }

    /// <summary><see cref="ImportInPlaceAsync"/> of the blobs (each digest once) an archive's walk placed, a full disk said as such.</summary>
    private static async Task<(int Blobs, long Bytes)> ImportAllInPlaceAsync(ClusterImageStore store,
        IReadOnlyList<(Digest Digest, SafeFileHandle Archive, long Offset, long Length)> blobs, long before, IProgress<long>? progress, string path, CancellationToken cancellationToken)
    {
        if (blobs.Count == 0) return (0, 0);
        try
        {
            return await ImportInPlaceAsync(store, blobs.DistinctBy(b => b.Digest).ToList(), before, progress, path, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (AtomicFile.IsDiskFull(ex))
        {
            throw new SealerException(ErrorCodes.DiskWriteFailed, $"The disk is full while storing the blobs of '{path}' under '{store.Layout.Root}'. Free some space and run again.", path, inner: ex);
        }
    }

    /// <summary>
    /// Imports the blobs whose place in a plain tar (or in a part of a split bundle) the walk found, a few at once
    /// (<see cref="LoadWriters"/>, each on a thread of its own: <see cref="DedicatedWorkers"/>): one reader front to back left
    /// the disk idle while it hashed and between blobs. Each writer's blobs share one durability point per <see cref="ImportBatch.MaxBytes"/> (its own batch:
    /// not an fsync and a rename each); all are under their final names before any image is named, and a failure (a
    /// corrupt blob stops them all) or Ctrl+C deletes the uncommitted rest.
    /// </summary>
    private static async Task<(int Blobs, long Bytes)> ImportInPlaceAsync(ClusterImageStore store,
        IReadOnlyList<(Digest Digest, SafeFileHandle Archive, long Offset, long Length)> blobs, long before, IProgress<long>? progress, string path,
        CancellationToken cancellationToken)
    {
        var gate = new Lock();
        long done = before;
        int count = 0;
        long bytes = 0;
        int writers = Math.Min(LoadWriters, blobs.Count);
        var batches = new ImportBatch[writers];
        for (int i = 0; i < writers; i++) batches[i] = store.Layout.BeginImportBatch();
        int nextBatch = -1;
        try
        {
            await DedicatedWorkers.RunAsync(writers, blobs.Count, (next, stop) =>
            {
                var own = batches[Interlocked.Increment(ref nextBatch)];
                for (int i = next(); i >= 0; i = next())
                {
                    var (digest, archive, offset, length) = blobs[i];
                    long reported = 0;
                    try
                    {
                        bool imported = store.Layout.ImportRegion(archive, offset, digest, length, n =>
                        {
                            lock (gate)
                            {
                                done += n - reported;
                                reported = n;
                                progress?.Report(done);
                            }
                        }, stop, own);
                        lock (gate)
                        {
                            done += length - reported;
                            progress?.Report(done);
                            if (imported) { count++; bytes += length; }
                        }
                    }
                    catch (SealerException ex) when (ex.Code is ErrorCodes.DigestMismatch or ErrorCodes.SizeMismatch)
                    {
                        throw BlobCorrupt(path, digest, ex);
                    }
                }
            }, cancellationToken).ConfigureAwait(false);
            foreach (var b in batches) b.Commit();
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
        return (count, bytes);
    }

    private static SealerException BlobCorrupt(string path, Digest digest, SealerException ex)
        => new(ErrorCodes.ArchiveBlobCorrupt,
            $"'{path}': blob {digest} is corrupt (its content does not hash to its name). The archive was damaged in transit; copy it again. Nothing was loaded.", path, inner: ex);

    /// <summary>Writers of a load: four, whatever the cores — they wait on the disk more than they hash (8 GiB, 2 cores: 9.0–9.4 s
    /// with four, 10.7–11.1 s with two, 13.5–14.9 s with one reader front to back; build/bench/RESULTS.md, 2026-12-04).</summary>
    private const int LoadWriters = 4;

    /// <summary>
    /// Where <paramref name="entry"/>'s data starts in the plain tar <paramref name="file"/>, or null when that cannot be
    /// told (then the entry is read through its stream). On a seekable archive TarReader steps over the data and its
    /// padding to the next 512-byte block at once (its DataStream reads by seeking back), so the data is just before the
    /// position; the first bytes are compared with the DataStream's own to be sure.
    /// </summary>
    private static long? DataOffset(FileStream file, SafeFileHandle handle, TarEntry entry)
    {
        if (entry.DataStream is not { CanSeek: true } data || entry.Length <= 0) return null;
        long at = file.Position - entry.Length - (512 - entry.Length % 512) % 512;
        if (at < 0) return null;
        int probe = (int)Math.Min(entry.Length, 512);
        Span<byte> fromStream = stackalloc byte[probe], fromFile = stackalloc byte[probe];
        long back = file.Position;
        data.Position = 0;
        data.ReadExactly(fromStream);
        data.Position = 0;
        file.Position = back;
        int n = RandomAccess.Read(handle, fromFile, at);
        return n == probe && fromStream.SequenceEqual(fromFile) ? at : null;
    }

    /// <summary>Every graph to be named is whole in the store (else nothing is named: <see cref="ErrorCodes.ArchiveIncomplete"/>).</summary>
    private static void RequireWhole(ClusterImageStore store, IEnumerable<(string Name, Descriptor Root)> toName, string path)
    {
        foreach (var (_, root) in toName)
        {
            try
            {
                ImageGraph.Load(store.Layout, root);
            }
            catch (SealerException ex) when (ex.Code is ErrorCodes.StoreImageIncomplete)
            {
                throw new SealerException(ErrorCodes.ArchiveIncomplete, $"'{path}' is incomplete: {ex.Message.Replace("Pull or load the image again.", "")}Copy the archive again. Nothing was loaded.", path, inner: ex);
            }
        }
    }

    /// <summary>Keeps the archive's unnamed referrer entries whose subject is one of the loaded images (and whose graph is whole).</summary>
    private static void AddReferrers(ClusterImageStore store, IReadOnlyList<Descriptor> entries, IEnumerable<Descriptor> roots)
    {
        var subjects = roots.SelectMany(r => ImageGraph.Load(store.Layout, r).Manifests.Select(m => m.Descriptor.Digest)).ToHashSet(StringComparer.Ordinal);
        foreach (var entry in entries.Where(e => e.GetAnnotation(Annotations.RefName) is null && MediaTypes.IsManifest(e.MediaType)))
        {
            try
            {
                var graph = ImageGraph.Load(store.Layout, entry);
                if (graph.Manifests[^1].Manifest?.Subject is { } subject && subjects.Contains(subject.Digest))
                {
                    store.Layout.UpdateIndex(list => list.Any(d => d.Digest == entry.Digest) ? list : list.Append(entry).ToList());
                }
            }
            catch (SealerException)
            {
                // An incomplete referrer is dropped; the images themselves are whole.
            }
        }
    }

    private static List<(string Name, Descriptor Root)> NameRoots(IReadOnlyList<Descriptor> roots, string? nameOverride, string path)
    {
        var result = new List<(string, Descriptor)>();
        foreach (var root in roots)
        {
            string? refName = root.GetAnnotation(Annotations.RefName);
            if (refName is null && root.GetAnnotation("io.containerd.image.name") is { } ctr) refName = ctr;
            string? name = null;
            if (nameOverride is not null && roots.Count(r => r.ArtifactType is null) == 1 && root.ArtifactType is null) name = nameOverride;
            else if (refName is not null && refName.IndexOfAny(['/', ':', '@']) >= 0) name = refName; // a reference, not a bare tag like "v1" or "1.27"
            else if (refName is null) continue; // unnamed roots (referrers) come along with their subjects' blobs
            if (name is null)
            {
                throw new SealerException(ErrorCodes.ArchiveImageUnnamed,
                    $"'{path}' names its image only '{refName}', not a full reference. Load it with a name: sealer load -i {Path.GetFileName(path)} --name registry.example.com/cluster:v1.", path);
            }
            result.Add((ClusterImageStore.NormalizeName(name), root));
        }
        if (result.Count == 0)
        {
            throw new SealerException(ErrorCodes.ArchiveImageUnnamed, $"'{path}' has no named image in its index.json. Load it with --name.", path);
        }
        return result;
    }

    internal static async Task<byte[]> ReadSmallAsync(TarEntry entry, long max, string path, CancellationToken cancellationToken)
    {
        if (entry.Length > max) throw new SealerException(ErrorCodes.NotAnOciArchive, $"'{path}': {entry.Name} is {entry.Length} bytes, more than the {max} allowed.", path);
        var buffer = new byte[entry.Length];
        if (entry.DataStream is not null) await entry.DataStream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer;
    }

    /// <summary>Sniffs zstd (28 B5 2F FD) and gzip (1F 8B) magic; anything else is read as a plain tar.</summary>
    internal static async Task<Stream> OpenDecompressedAsync(Stream input, string path, CancellationToken cancellationToken)
    {
        byte[] magic = new byte[4];
        int n = await input.ReadAtLeastAsync(magic, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (n < 4) throw new SealerException(ErrorCodes.NotAnOciArchive, $"'{path}' is empty or too short to be an OCI archive.", path);
        Stream whole = new PrefixedStream(magic, input); // works for pipes too: the sniffed bytes are read again
        if (ArchiveLayout.IsZstd(magic)) return new DecompressionStream(whole, leaveOpen: true);
        if (ArchiveLayout.IsGzip(magic)) return new GZipStream(whole, CompressionMode.Decompress, leaveOpen: true);
        return whole;
    }

    /// <summary>The sniffed bytes, then the rest of the input; never disposes the input (the caller owns it).</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Sealer.Core.IO.ReadOnlyStream
    {
        private int _pos;
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            if (_pos < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _pos);
                prefix.AsSpan(_pos, n).CopyTo(buffer);
                _pos += n;
                return n;
            }
            return inner.Read(buffer);
        }
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_pos < prefix.Length) return ValueTask.FromResult(Read(buffer.Span));
            return inner.ReadAsync(buffer, cancellationToken);
        }
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
