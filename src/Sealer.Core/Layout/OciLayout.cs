using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;
using Sealer.Core.Oci;

namespace Sealer.Core.Layout;

/// <summary>
/// An OCI image layout on disk (image-spec image-layout.md): <c>oci-layout</c>, <c>index.json</c>, <c>blobs/&lt;alg&gt;/&lt;hex&gt;</c>,
/// plus our private <c>ingest/</c> for partial downloads. Used for the shared image cache and for cluster image output.
/// <list type="bullet">
/// <item>Content-addressed and deduplicated: a blob is written once, whatever image or project wants it.</item>
/// <item>Atomic: content streams into <c>ingest/</c> through an <see cref="IncrementalHash"/>, is checked for size and
/// digest, then renamed into <c>blobs/</c>. A blob file that exists is always whole and correct.</item>
/// <item>Safe for two builds at once: partial files are taken with an exclusive handle, index.json is rewritten under a lock.</item>
/// </list>
/// </summary>
public sealed class OciLayout : IBlobSource
{
    private const string IngestDir = "ingest";

    private OciLayout(string root) => Root = root;

    /// <summary>The layout's directory (full path).</summary>
    public string Root { get; }

    public string IndexPath => Path.Combine(Root, "index.json");

    string IBlobSource.Name => Root;

    bool IBlobSource.BlobsVerified => true;

    /// <summary>Opens a layout, creating it (and its parents) if it does not exist.</summary>
    public static OciLayout OpenOrCreate(string root)
    {
        root = Path.GetFullPath(root);
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "blobs", "sha256"));
            Directory.CreateDirectory(Path.Combine(root, IngestDir));
            var layout = new OciLayout(root);
            string marker = Path.Combine(root, "oci-layout");
            if (!File.Exists(marker))
            {
                AtomicFile.WriteAllBytes(marker, OciJsonContext.ToBytes(new OciLayoutFile(), OciJsonContext.Default.OciLayoutFile));
            }
            if (!File.Exists(layout.IndexPath))
            {
                AtomicFile.WriteAllBytes(layout.IndexPath, OciJsonContext.ToBytes(EmptyIndex, OciJsonContext.Default.ImageIndex));
            }
            return layout;
        }
        catch (IOException ex) when (AtomicFile.IsDiskFull(ex))
        {
            throw new SealerException(ErrorCodes.DiskWriteFailed, $"The disk is full: cannot create the OCI layout at '{root}'. Free some space and build again.", inner: ex);
        }
    }

    /// <summary>Opens an existing layout; throws <see cref="ErrorCodes.NotAnOciLayout"/> if it is not one.</summary>
    public static OciLayout Open(string root)
    {
        root = Path.GetFullPath(root);
        string marker = Path.Combine(root, "oci-layout");
        if (!File.Exists(marker) || !File.Exists(Path.Combine(root, "index.json")))
        {
            throw new SealerException(ErrorCodes.NotAnOciLayout, $"'{root}' is not an OCI image layout (it needs an oci-layout file and an index.json).");
        }
        var f = OciJsonContext.FromBytes(File.ReadAllBytes(marker), OciJsonContext.Default.OciLayoutFile, marker);
        if (!f.ImageLayoutVersion.StartsWith("1.", StringComparison.Ordinal))
        {
            throw new SealerException(ErrorCodes.NotAnOciLayout, $"'{marker}' has imageLayoutVersion {f.ImageLayoutVersion}; only 1.x is supported.");
        }
        return new OciLayout(root);
    }

    public static readonly ImageIndex EmptyIndex = new() { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = [] };

    public string BlobPath(Digest digest) => Path.Combine(Root, "blobs", digest.Algorithm, digest.Encoded);

    /// <summary>Every blob file on disk, named by an image or not, as its digest (<c>alg:hex</c>) and path: what a sweep of
    /// unnamed blobs walks (<c>Artifacts/GarbageCollector</c>, an in-place cluster image rebuild).</summary>
    public IEnumerable<(string Digest, string Path)> BlobFiles()
    {
        string blobs = Path.Combine(Root, "blobs");
        if (!Directory.Exists(blobs)) yield break;
        foreach (string algDir in Directory.EnumerateDirectories(blobs))
        {
            string alg = Path.GetFileName(algDir);
            foreach (string file in Directory.EnumerateFiles(algDir)) yield return ($"{alg}:{Path.GetFileName(file)}", file);
        }
    }

    /// <summary>True when the blob is present with the expected size (a present blob was verified when written).</summary>
    public bool HasBlob(Digest digest, long? size = null)
    {
        var info = new FileInfo(BlobPath(digest));
        return info.Exists && (size is null || info.Length == size);
    }

    public bool HasBlob(Descriptor descriptor) => HasBlob(descriptor.ParsedDigest, descriptor.Size);

    /// <summary>The blob's file, whole. Throws <see cref="ErrorCodes.BlobNotFound"/> if absent.</summary>
    public BlobLocation Locate(Digest digest)
    {
        var info = new FileInfo(BlobPath(digest));
        return info.Exists ? new BlobLocation(info.FullName, 0, info.Length)
            : throw new SealerException(ErrorCodes.BlobNotFound, $"Blob {digest} is missing from the layout at '{Root}'.");
    }

    /// <summary>Opens a blob for reading (shared, async). Throws <see cref="ErrorCodes.BlobNotFound"/> if absent.</summary>
    public FileStream OpenBlob(Digest digest)
    {
        try
        {
            return new FileStream(BlobPath(digest), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (FileNotFoundException ex)
        {
            throw new SealerException(ErrorCodes.BlobNotFound, $"Blob {digest} is missing from the layout at '{Root}'.", inner: ex);
        }
    }

    /// <summary>Opens a blob as a <see cref="FileRegionStream"/>: copied by a <c>TarWriter</c> into a <see cref="FileAppendStream"/>
    /// its bytes go file to file (in the kernel, or in 1 MiB chunks when hashed), and <paramref name="cancellationToken"/> is
    /// seen between chunks. Throws <see cref="ErrorCodes.BlobNotFound"/> if absent.</summary>
    public FileRegionStream OpenBlobRegion(Digest digest, int bufferSize = 1, CancellationToken cancellationToken = default)
    {
        try
        {
            return FileRegionStream.OpenWhole(BlobPath(digest), bufferSize, cancellationToken);
        }
        catch (FileNotFoundException ex)
        {
            throw new SealerException(ErrorCodes.BlobNotFound, $"Blob {digest} is missing from the layout at '{Root}'.", inner: ex);
        }
    }

    /// <summary>Reads a small blob (manifest, config) whole, checking its digest again, as files on disk may have been altered.</summary>
    public byte[] ReadBlobBytes(Digest digest, long maxBytes = OciLimits.MaxManifestBytes)
    {
        string path = BlobPath(digest);
        var info = new FileInfo(path);
        if (!info.Exists) throw new SealerException(ErrorCodes.BlobNotFound, $"Blob {digest} is missing from the layout at '{Root}'.");
        if (info.Length > maxBytes) throw new SealerException(ErrorCodes.SizeMismatch, $"Blob {digest} is {info.Length} bytes, more than the {maxBytes} allowed for it.");
        byte[] data = File.ReadAllBytes(path);
        VerifyBytes(data, digest, path);
        return data;
    }

    public static void VerifyBytes(ReadOnlySpan<byte> data, Digest expected, string what)
    {
        using var hash = expected.CreateHash();
        hash.AppendData(data);
        var actual = Digest.FromHash(expected.Algorithm, hash.GetHashAndReset());
        if (actual != expected)
        {
            throw new SealerException(ErrorCodes.DigestMismatch, $"{what}: content has digest {actual}, expected {expected}. The content is corrupt or was altered; delete it and fetch it again.");
        }
    }

    /// <summary>Writes small content (manifest, config) whose digest is computed here. Returns its descriptor.</summary>
    public Descriptor WriteBlob(ReadOnlySpan<byte> data, string mediaType, IReadOnlyDictionary<string, string>? annotations = null)
    {
        var digest = Digest.Sha256(data);
        if (!HasBlob(digest, data.Length))
        {
            AtomicFile.WriteAllBytes(BlobPath(digest), data, Path.Combine(Root, IngestDir));
        }
        return new Descriptor { MediaType = mediaType, Digest = digest.ToString(), Size = data.Length, Annotations = annotations };
    }

    /// <summary>Re-hashes a blob on disk; false when it is missing or corrupt (a corrupt one is deleted so it can be fetched again).</summary>
    public async Task<bool> VerifyBlobAsync(Digest digest, long? size = null, CancellationToken cancellationToken = default)
    {
        string path = BlobPath(digest);
        if (!File.Exists(path)) return false;
        using var hash = digest.CreateHash();
        long total = 0;
        await using (var fs = OpenBlob(digest))
        {
            byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
            try
            {
                int n;
                while ((n = await fs.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    total += n;
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        if ((size is null || size == total) && Digest.FromHash(digest.Algorithm, hash.GetHashAndReset()) == digest) return true;
        TryDelete(path);
        return false;
    }

    /// <summary>
    /// Places a fully written ingest file as blob <paramref name="expected"/>: checks the <paramref name="length"/> and
    /// <paramref name="actual"/> digest it was written and hashed to (a mismatch throws <see cref="ErrorCodes.SizeMismatch"/>
    /// or <see cref="ErrorCodes.DigestMismatch"/> and leaves the file to its ingest to discard), syncs it to disk through
    /// the writer's open <paramref name="handle"/>, and renames it into <c>blobs/</c> while that handle is still held, so
    /// nobody else can write to it meanwhile (Linux allows the rename; Windows too, as ingest files are opened with
    /// <see cref="FileShare.Delete"/> there).
    /// </summary>
    internal Descriptor PlaceIngested(string ingestPath, SafeFileHandle handle, Digest expected, long expectedSize, Digest actual, long length)
    {
        Verify(expected, expectedSize, actual, length);
        RandomAccess.FlushToDisk(handle);
        string final = BlobPath(expected);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        AtomicFile.Replace(ingestPath, final);
        return new Descriptor { MediaType = "application/octet-stream", Digest = expected.ToString(), Size = length };
    }

    private static void Verify(Digest expected, long expectedSize, Digest actual, long length)
    {
        if (length != expectedSize || actual != expected)
        {
            string what = length != expectedSize ? $"{length} bytes, expected {expectedSize}" : $"digest {actual}";
            throw new SealerException(length != expectedSize ? ErrorCodes.SizeMismatch : ErrorCodes.DigestMismatch,
                $"Blob {expected} arrived corrupt ({what}); it was discarded. Run again to fetch it again; if it persists the registry serves bad content.");
        }
    }

    /// <summary>
    /// Starts (or resumes) writing a blob of known digest. The returned <see cref="BlobIngest"/> reports how many bytes a
    /// previous, interrupted attempt left (<see cref="BlobIngest.Offset"/>), so a download can resume with an HTTP Range.
    /// If another process is writing the same blob, this one writes to a private temp file instead (no resume).
    /// </summary>
    public BlobIngest BeginIngest(Digest expected, long expectedSize)
    {
        string dir = Path.Combine(Root, IngestDir);
        Directory.CreateDirectory(dir);
        string partial = Path.Combine(dir, expected.Encoded + ".partial");
        FileStream? fs = null;
        try
        {
            fs = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, IngestShare, 1 << 16, FileOptions.Asynchronous);
        }
        catch (IOException)
        {
            partial = Path.Combine(dir, $"{expected.Encoded}.{Guid.NewGuid():N}.tmp");
            fs = new FileStream(partial, FileMode.CreateNew, FileAccess.ReadWrite, IngestShare, 1 << 16, FileOptions.Asynchronous);
        }
        return new BlobIngest(this, expected, expectedSize, partial, fs);
    }

    /// <summary>
    /// How an ingest file is shared: with nobody. On Unix .NET makes <see cref="FileShare.None"/> an exclusive flock and
    /// anything else a shared one, so only None keeps a second writer of the same blob out (it then takes a private temp
    /// file). On Windows <see cref="FileShare.Delete"/> keeps readers and writers out too and lets the finished file be
    /// renamed while still open.
    /// </summary>
    private static readonly FileShare IngestShare = OperatingSystem.IsWindows() ? FileShare.Delete : FileShare.None;

    /// <summary>True when an earlier, interrupted download left bytes to resume from (<see cref="BeginIngest"/>).</summary>
    public bool HasPartialIngest(Digest expected)
    {
        var partial = new FileInfo(Path.Combine(Root, IngestDir, expected.Encoded + ".partial"));
        return partial.Exists && partial.Length > 0;
    }

    /// <summary>
    /// Starts writing a blob of known digest and size out of order (parallel ranges) into a private temp file; see
    /// <see cref="RangedBlobIngest"/>. <paramref name="hashWhileWriting"/> hashes the written prefix as it grows; off,
    /// the commit reads the whole file once.
    /// </summary>
    public RangedBlobIngest BeginRangedIngest(Digest expected, long size, bool hashWhileWriting = true)
    {
        string dir = Path.Combine(Root, IngestDir);
        Directory.CreateDirectory(dir);
        return new RangedBlobIngest(this, expected, size, Path.Combine(dir, $"{expected.Encoded}.{Guid.NewGuid():N}.tmp"), hashWhileWriting);
    }

    /// <summary>
    /// Stores the blob that lies at <paramref name="offset"/> in <paramref name="source"/> (an uncompressed archive's entry):
    /// its bytes are read once into a buffer, hashed and written into a private temp file under <c>ingest/</c>
    /// (<see cref="IO.FileRangeCopy.CopyHashed"/>), in 16 MiB steps whose disk write is started as soon as they are written
    /// (<see cref="WriteBack"/>), so the sync finds them written; then size and digest are checked, the file synced and
    /// renamed into <c>blobs/</c>. With a <paramref name="batch"/> the verified file waits there for the batch's one
    /// durability point (<see cref="ImportBatch.Commit"/>) instead of being synced and renamed at once. Several imports from
    /// one archive may run at once (a load does). Cancellation is seen between 1 MiB chunks; a failed or cancelled import
    /// leaves no file behind. Returns false when the blob was already present.
    /// </summary>
    public bool ImportRegion(SafeFileHandle source, long offset, Digest expected, long size, Action<long>? progress = null, CancellationToken cancellationToken = default, ImportBatch? batch = null)
    {
        if (HasBlob(expected, size)) return false;
        string dir = Path.Combine(Root, IngestDir);
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $"{expected.Encoded}.{Guid.NewGuid():N}.tmp");
        bool placed = false;
        SafeFileHandle? handle = null;
        using var hash = expected.CreateHash();
        try
        {
            handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Delete);
            long done = 0;
            while (done < size)
            {
                long step = Math.Min(RegionStep, size - done), at = done;
                try
                {
                    IO.FileRangeCopy.CopyHashed(source, offset + done, handle, done, step, hash, progress is null ? null : n => progress(at + n), cancellationToken);
                }
                catch (EndOfStreamException ex)
                {
                    throw new SealerException(ErrorCodes.SizeMismatch, $"Blob {expected}: its source ended before its {size} bytes ({ex.Message}); it was not stored.", inner: ex);
                }
                catch (IOException ex) when (AtomicFile.IsDiskFull(ex))
                {
                    throw new SealerException(ErrorCodes.DiskWriteFailed, $"The disk is full while writing blob {expected} under '{Root}'. Free some space and run again.", inner: ex);
                }
                WriteBack.Start(handle, done, step);
                done += step;
            }
            var actual = Digest.FromHash(expected.Algorithm, hash.GetHashAndReset());
            if (batch is not null)
            {
                Verify(expected, size, actual, RandomAccess.GetLength(handle));
                batch.Add(temp, BlobPath(expected), handle, size);
                handle = null; // the batch's now
            }
            else
            {
                PlaceIngested(temp, handle, expected, size, actual, RandomAccess.GetLength(handle));
            }
            placed = true;
            return true;
        }
        finally
        {
            handle?.Dispose();
            if (!placed) TryDelete(temp);
        }
    }

    /// <summary>A batch of verified blobs for this layout's <see cref="ImportRegion"/> (<see cref="ImportBatch"/>).</summary>
    public ImportBatch BeginImportBatch() => new();

    /// <summary>How much <see cref="ImportRegion"/> copies before it starts that part's disk write.</summary>
    private const long RegionStep = 16L << 20;

    /// <summary>Streams a blob of known digest and size into the layout, verifying both. Returns false if it was already present.</summary>
    public async Task<bool> WriteBlobAsync(Stream source, Digest expected, long expectedSize, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        if (HasBlob(expected, expectedSize)) return false;
        await using var ingest = BeginIngest(expected, expectedSize);
        await ingest.ResetAsync(cancellationToken).ConfigureAwait(false);
        await ingest.AppendAsync(source, progress, cancellationToken).ConfigureAwait(false);
        await ingest.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Reads index.json.</summary>
    public ImageIndex ReadIndex()
        => OciJsonContext.FromBytes(File.ReadAllBytes(IndexPath), OciJsonContext.Default.ImageIndex, IndexPath);

    /// <summary>
    /// Updates index.json under an exclusive lock (safe for concurrent builds): <paramref name="update"/> gets the current
    /// manifests and returns the new list. Written atomically.
    /// </summary>
    public ImageIndex UpdateIndex(Func<IReadOnlyList<Descriptor>, IReadOnlyList<Descriptor>> update)
    {
        using var _ = AcquireLock(Path.Combine(Root, "index.json.lock"));
        var current = File.Exists(IndexPath) ? ReadIndex() : EmptyIndex;
        var next = current with { Manifests = update(current.Manifests) };
        AtomicFile.WriteAllBytes(IndexPath, OciJsonContext.ToBytes(next, OciJsonContext.Default.ImageIndex), Path.Combine(Root, IngestDir));
        return next;
    }

    /// <summary>Adds or replaces the index.json entry whose <c>org.opencontainers.image.ref.name</c> is <paramref name="refName"/>.</summary>
    public void SetRef(string refName, Descriptor manifest) => SetRefs([(refName, manifest)]);

    /// <summary>Adds or replaces the index.json entries of <paramref name="refs"/> (the last one given for a name wins), in
    /// one update: a pull of 600 images writes index.json a few times, not once per image (each a read, a rewrite of every
    /// entry and an fsync under the lock: quadratic in the images).</summary>
    public void SetRefs(IReadOnlyCollection<(string RefName, Descriptor Manifest)> refs)
    {
        if (refs.Count == 0) return;
        var entries = new Dictionary<string, Descriptor>(StringComparer.Ordinal);
        foreach (var (refName, manifest) in refs)
        {
            var annotations = new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (manifest.Annotations is not null) foreach (var kv in manifest.Annotations) annotations[kv.Key] = kv.Value;
            annotations[Annotations.RefName] = refName;
            entries[refName] = manifest with { Annotations = annotations };
        }
        UpdateIndex(list => list.Where(d => d.GetAnnotation(Annotations.RefName) is not { } name || !entries.ContainsKey(name)).Concat(entries.Values)
            .OrderBy(d => d.GetAnnotation(Annotations.RefName), StringComparer.Ordinal).ToList());
    }

    /// <summary>Finds the index.json entry for a full reference name, or null.</summary>
    public Descriptor? FindRef(string refName) => ReadIndex().Manifests.FirstOrDefault(d => d.GetAnnotation(Annotations.RefName) == refName);

    internal static IDisposable AcquireLock(string lockPath)
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
    }

    internal static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Limits that protect us from hostile or broken input.</summary>
public static class OciLimits
{
    /// <summary>Largest manifest or index we accept (distribution's default limit is 4 MiB).</summary>
    public const long MaxManifestBytes = 4 * 1024 * 1024;

    /// <summary>Largest image config we accept.</summary>
    public const long MaxConfigBytes = 8 * 1024 * 1024;
}
