using System.Formats.Tar;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.IO;

namespace Sealer.Core.Artifacts;

/// <summary>An image in a layout under a name: a store entry, a build output, a resolved FROM.</summary>
public sealed record LayoutImage(string Name, OciLayout Layout, Descriptor Root);

/// <summary>
/// What a delta archive needs from its base: the base's name and root descriptor as it was saved, the blobs the new
/// image takes from it (not in the archive), and the images the archive names. Read it with
/// <see cref="DeltaArchive.ReadDeltaInfoAsync"/> without loading anything.
/// </summary>
public sealed record DeltaInfo
{
    /// <summary>The base's full name when the delta was saved (<c>docker.io/library/shop:1.4.0</c>); any name with the same blobs serves.</summary>
    public required string BaseName { get; init; }

    /// <summary>The base's root (index or manifest) descriptor.</summary>
    public required Descriptor Base { get; init; }

    public string BaseDigest => Base.Digest;

    /// <summary>The blobs (layers) of the new image that the archive leaves out because the base has them, sorted by digest.</summary>
    public required IReadOnlyList<Descriptor> BaseBlobs { get; init; }

    /// <summary>The archive's named images (index.json entries with <c>org.opencontainers.image.ref.name</c>).</summary>
    public required IReadOnlyList<Descriptor> Images { get; init; }

    public long BaseBytes => BaseBlobs.Sum(b => b.Size);

    /// <summary>The <see cref="BaseBlobs"/> the store does not have (empty: the delta loads there).</summary>
    public IReadOnlyList<Descriptor> MissingFrom(ClusterImageStore store) => BaseBlobs.Where(b => !store.Layout.HasBlob(b)).ToList();
}

/// <summary>What <see cref="DeltaArchive.SaveAsync(ClusterImageStore, string, string, string, ArchiveSaveOptions?, CancellationToken)"/> wrote.</summary>
public sealed record DeltaSaveResult(string Name, Descriptor Root, DeltaInfo Info, int Manifests, int BlobsCarried, long BytesCarried);

/// <summary>What a load did (<see cref="OciArchive.LoadArchiveAsync"/>, <see cref="ClusterImageStore.LoadAsync(string, OciArchive.LoadOptions?, CancellationToken)"/>).</summary>
/// <param name="Images">The images named in the store.</param>
/// <param name="Delta">For a delta archive, its base record; null for a full archive or layout.</param>
/// <param name="BlobsLoaded">Blobs written into the store (those it had already are not counted).</param>
/// <param name="BytesLoaded">Their bytes.</param>
public sealed record ArchiveLoadResult(IReadOnlyList<StoredImage> Images, DeltaInfo? Delta, int BlobsLoaded, long BytesLoaded);

/// <summary>The delta record blob (<see cref="DeltaArchive.RecordMediaType"/>): compact, deterministic JSON.</summary>
public sealed record DeltaRecord
{
    [JsonPropertyName("mediaType")] public string MediaType { get; init; } = DeltaArchive.RecordMediaType;
    [JsonPropertyName("baseName")] public required string BaseName { get; init; }
    [JsonPropertyName("base")] public required Descriptor Base { get; init; }
    [JsonPropertyName("blobs")] public required IReadOnlyList<Descriptor> Blobs { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(DeltaRecord))]
internal sealed partial class DeltaJsonContext : JsonSerializerContext;

/// <summary>
/// <b>Delta archives</b> (<c>sealer save --since BASE NEW</c>, <c>-t:PackClusterDelta</c>): the OCI archive of NEW holding
/// every manifest, index and config of NEW (and its referrers) but only the layer blobs BASE lacks. Its index.json is
/// that of a full archive plus three annotations on the index itself:
/// <list type="bullet">
/// <item><see cref="BaseNameAnnotation"/>: the base's full name; <see cref="BaseDigestAnnotation"/>: its root digest;</item>
/// <item><see cref="RecordAnnotation"/>: the digest of the <b>record</b> blob (<see cref="RecordMediaType"/>, <see cref="DeltaRecord"/>),
/// written right after index.json, listing every blob (digest, size, media type) the base must provide.</item>
/// </list>
/// A load reads the record before any blob and refuses (<see cref="ErrorCodes.DeltaBaseMissing"/>, nothing written) when
/// the store lacks any of them; it then streams and verifies the carried blobs and names NEW only when its whole graph
/// is in the store. skopeo/umoci read the index, manifests and configs (<c>skopeo inspect oci-archive:delta.tar</c>),
/// but a copy fails on the left-out layers: load the delta into a store that has the base, then push from there.
/// </summary>
public static class DeltaArchive
{
    /// <summary>On the archive's index.json: the full name of the base image the delta was saved against.</summary>
    public const string BaseNameAnnotation = "io.sealer.sdk.delta.base.name";

    /// <summary>On the archive's index.json: the base image's root digest.</summary>
    public const string BaseDigestAnnotation = "io.sealer.sdk.delta.base.digest";

    /// <summary>On the archive's index.json: the digest of the record blob naming every blob the base must provide.</summary>
    public const string RecordAnnotation = "io.sealer.sdk.delta.record";

    /// <summary>The record blob's media type (it is not part of any image graph and is not kept in the store).</summary>
    public const string RecordMediaType = "application/vnd.sealer.delta.v1+json";

    /// <summary>Largest record accepted (a cluster image of 100 000 layers needs about 15 MiB).</summary>
    internal const long MaxRecordBytes = 32L * 1024 * 1024;

    /// <summary>Writes the delta of <paramref name="newName"/> over <paramref name="baseName"/>, both in the store, to <paramref name="outputPath"/> (atomically; zstd per <paramref name="options"/>).</summary>
    public static Task<DeltaSaveResult> SaveAsync(ClusterImageStore store, string baseName, string newName, string outputPath,
        ArchiveSaveOptions? options = null, CancellationToken cancellationToken = default)
        => SaveAsync(FromStore(store, baseName), FromStore(store, newName), outputPath, options, cancellationToken);

    /// <summary>Writes the delta of <paramref name="image"/> over <paramref name="baseImage"/> (each in any layout: a store, a build output) to <paramref name="outputPath"/>.</summary>
    public static async Task<DeltaSaveResult> SaveAsync(LayoutImage baseImage, LayoutImage image, string outputPath,
        ArchiveSaveOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (content, result) = Plan(baseImage, image);
        await OciArchive.WriteFileAsync(outputPath, content, options, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Streams the delta (e.g. to stdout) instead of writing a file.</summary>
    public static async Task<DeltaSaveResult> SaveToStreamAsync(ClusterImageStore store, string baseName, string newName, Stream output,
        ArchiveSaveOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (content, result) = Plan(FromStore(store, baseName), FromStore(store, newName));
        await OciArchive.WriteArchiveAsync(content, output, options ?? new ArchiveSaveOptions(), cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    private static LayoutImage FromStore(ClusterImageStore store, string name)
    {
        var image = store.Resolve(name);
        return new LayoutImage(image.Name, store.Layout, image.Descriptor);
    }

    private static (OciArchive.ArchiveContent Content, DeltaSaveResult Result) Plan(LayoutImage baseImage, LayoutImage image)
    {
        string baseName = ClusterImageStore.NormalizeName(baseImage.Name);
        string name = ClusterImageStore.NormalizeName(image.Name);
        var inBase = ImageGraph.Load(baseImage.Layout, baseImage.Root).AllDigests.Select(d => d.ToString()).ToHashSet(StringComparer.Ordinal);
        var (graphs, index) = OciArchive.Plan(image.Layout, [(name, image.Root)]);
        // Configs always travel, so the delta alone describes the new image (inspect, plan); layers only when the base lacks them.
        var configs = graphs.SelectMany(g => g.Manifests).Where(m => m.Manifest is not null).Select(m => m.Manifest!.Config.Digest).ToHashSet(StringComparer.Ordinal);
        bool Carry(Descriptor blob) => configs.Contains(blob.Digest) || !inBase.Contains(blob.Digest);
        var blobs = graphs.SelectMany(g => g.Blobs).DistinctBy(b => b.Digest).ToList();
        var fromBase = blobs.Where(b => !Carry(b)).OrderBy(b => b.Digest, StringComparer.Ordinal)
            .Select(b => new Descriptor { MediaType = b.MediaType, Digest = b.Digest, Size = b.Size }).ToList();
        var carried = blobs.Where(Carry).ToList();

        var baseRoot = new Descriptor { MediaType = baseImage.Root.MediaType, Digest = baseImage.Root.Digest, Size = baseImage.Root.Size };
        byte[] record = JsonSerializer.SerializeToUtf8Bytes(new DeltaRecord { BaseName = baseName, Base = baseRoot, Blobs = fromBase }, DeltaJsonContext.Default.DeltaRecord);
        index = index with
        {
            Annotations = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                [BaseNameAnnotation] = baseName,
                [BaseDigestAnnotation] = baseRoot.Digest,
                [RecordAnnotation] = Digest.Sha256(record).ToString(),
            },
        };
        var info = new DeltaInfo { BaseName = baseName, Base = baseRoot, BaseBlobs = fromBase, Images = index.Manifests.Where(m => m.GetAnnotation(Annotations.RefName) is not null).ToList() };
        var content = new OciArchive.ArchiveContent(image.Layout, graphs, index) { LeadingBlobs = [record], Carry = Carry };
        int manifests = graphs.SelectMany(g => g.Manifests).DistinctBy(m => m.Descriptor.Digest).Count();
        return (content, new DeltaSaveResult(name, image.Root, info, manifests, carried.Count, carried.Sum(b => b.Size)));
    }

    /// <summary>
    /// The base record of a delta archive (file: plain, zstd or gzip) or layout directory, or null when it is a full
    /// archive. A plain tar is mapped by its headers and only index.json and the record are read; a compressed one is read as
    /// a stream up to them (<c>sealer save</c> writes a delta's first).
    /// </summary>
    public static async Task<DeltaInfo?> ReadDeltaInfoAsync(string path, CancellationToken cancellationToken = default)
    {
        path = Path.GetFullPath(path);
        if (Directory.Exists(path))
        {
            var layout = OciLayout.Open(path);
            return ReadInfo(layout.ReadIndex(), path, d => layout.HasBlob(d) ? layout.ReadBlobBytes(d, MaxRecordBytes) : null);
        }
        if (!File.Exists(path)) throw new SealerException(ErrorCodes.NotAnOciArchive, $"'{path}' does not exist. Give the file written by 'sealer save'.", path);
        // a plain tar: its headers walked (a seek each), index.json and the record read where they lie. The build writes
        // index.json last (sealer save first), so reading up to it read the whole archive: 8 GiB, 4-7 s before `sealer run`
        // of a built archive did anything (RESULTS, 2026-12-05). What is not a plain OCI tar is read as a stream, which says what it is.
        if (!ArchiveLayout.IsCompressedFile(path) && TryOpenArchive(path) is { } archive)
        {
            return ReadInfo(archive.ReadIndex(), path, d => archive.HasBlob(d) ? archive.ReadBlobBytes(d, MaxRecordBytes) : null);
        }
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using var content = await OciArchive.OpenDecompressedAsync(file, path, cancellationToken).ConfigureAwait(false);
        ImageIndex? index = null;
        Digest? recordDigest = null;
        var early = new Dictionary<string, byte[]>(StringComparer.Ordinal); // small blobs seen before index.json (a re-tarred delta)
        try
        {
            await using var tar = new TarReader(content, leaveOpen: true);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                string name = entry.Name.Replace('\\', '/');
                while (name.StartsWith("./", StringComparison.Ordinal)) name = name[2..];
                if (name == "index.json")
                {
                    index = OciJsonContext.FromBytes(await OciArchive.ReadSmallAsync(entry, OciLimits.MaxManifestBytes, path, cancellationToken).ConfigureAwait(false),
                        OciJsonContext.Default.ImageIndex, $"{path}: index.json");
                    recordDigest = RecordDigest(index, path);
                    if (recordDigest is null) return null;
                    if (early.TryGetValue(recordDigest.Value.ToString(), out var seen)) return ReadInfo(index, path, _ => seen);
                }
                else if (name.StartsWith("blobs/", StringComparison.Ordinal) && name.Split('/') is [_, var alg, var hex] && Digest.TryParse($"{alg}:{hex}", out var digest))
                {
                    if (recordDigest == digest)
                    {
                        var bytes = await OciArchive.ReadSmallAsync(entry, MaxRecordBytes, path, cancellationToken).ConfigureAwait(false);
                        return ReadInfo(index!, path, _ => bytes);
                    }
                    if (index is null && entry.Length <= 64 * 1024)
                    {
                        early[digest.ToString()] = await OciArchive.ReadSmallAsync(entry, 64 * 1024, path, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception ex) when (CorruptData.Is(ex))
        {
            throw new SealerException(ErrorCodes.NotAnOciArchive, $"'{path}' is not a readable OCI archive ({ex.Message}). It may be truncated or not a tar; copy it again.", path, inner: ex);
        }
        if (index is null) throw new SealerException(ErrorCodes.NotAnOciArchive, $"'{path}' is not an OCI archive: it has no index.json.", path);
        return ReadInfo(index, path, _ => null); // a delta without its record: throws
    }

    private static ArchiveLayout? TryOpenArchive(string path)
    {
        try
        {
            return ArchiveLayout.Open(path);
        }
        catch (SealerException)
        {
            return null;
        }
    }

    /// <summary>The record digest an index.json names, or null for a full archive. Half a set of delta annotations is an error.</summary>
    internal static Digest? RecordDigest(ImageIndex index, string path)
    {
        string? record = index.Annotations?.GetValueOrDefault(RecordAnnotation);
        string? baseName = index.Annotations?.GetValueOrDefault(BaseNameAnnotation);
        string? baseDigest = index.Annotations?.GetValueOrDefault(BaseDigestAnnotation);
        if (record is null && baseName is null && baseDigest is null) return null;
        if (record is null || baseName is null || baseDigest is null || !Digest.TryParse(record, out var digest))
        {
            throw Invalid(path, $"its index.json has an incomplete or malformed delta record ({RecordAnnotation}={record ?? "(none)"}, {BaseNameAnnotation}={baseName ?? "(none)"}, {BaseDigestAnnotation}={baseDigest ?? "(none)"})");
        }
        return digest;
    }

    /// <summary>The delta record of an index.json (null for a full archive), verified against its digest and the annotations.</summary>
    internal static DeltaInfo? ReadInfo(ImageIndex index, string path, Func<Digest, byte[]?> readRecord)
    {
        if (RecordDigest(index, path) is not { } digest) return null;
        byte[] bytes = readRecord(digest) ?? throw Invalid(path, $"the record blob {digest} its index.json names is not in it");
        try
        {
            OciLayout.VerifyBytes(bytes, digest, $"'{path}': delta record");
        }
        catch (SealerException ex) when (ex.Code is ErrorCodes.DigestMismatch)
        {
            throw new SealerException(ErrorCodes.ArchiveBlobCorrupt, $"'{path}': the delta record {digest} is corrupt. The archive was damaged in transit; copy it again. Nothing was loaded.", path, inner: ex);
        }
        DeltaRecord record;
        try
        {
            record = JsonSerializer.Deserialize(bytes, DeltaJsonContext.Default.DeltaRecord) ?? throw new JsonException("null document");
        }
        catch (JsonException ex)
        {
            throw Invalid(path, $"its record {digest} is not a delta record ({ex.Message})");
        }
        if (record.MediaType != RecordMediaType || record.BaseName != index.Annotations![BaseNameAnnotation] || record.Base.Digest != index.Annotations[BaseDigestAnnotation]
            || record.Blobs.Any(b => !Digest.TryParse(b.Digest, out _) || b.Size < 0))
        {
            throw Invalid(path, $"its record {digest} ({record.MediaType}, base {record.BaseName} {record.Base.Digest}) does not match its index.json ({index.Annotations![BaseNameAnnotation]} {index.Annotations[BaseDigestAnnotation]})");
        }
        return new DeltaInfo
        {
            BaseName = record.BaseName, Base = record.Base, BaseBlobs = record.Blobs,
            Images = index.Manifests.Where(m => m.GetAnnotation(Annotations.RefName) is not null).ToList(),
        };
    }

    /// <summary>Throws <see cref="ErrorCodes.DeltaBaseMissing"/> when the store lacks any blob the delta takes from its base.</summary>
    internal static void RequireBase(ClusterImageStore store, DeltaInfo info, string path)
    {
        var missing = info.MissingFrom(store);
        if (missing.Count == 0) return;
        long bytes = missing.Sum(b => b.Size);
        throw new SealerException(ErrorCodes.DeltaBaseMissing,
            $"'{path}' is a delta over {info.BaseName} ({info.BaseDigest}), and the store '{store.Root}' lacks {missing.Count} of the {info.BaseBlobs.Count} blobs it takes from that base " +
            $"({Bytes.Format(bytes)} of {Bytes.Format(info.BaseBytes)}). Load or pull {info.BaseName} (any name with that digest serves) into this store first, then load the delta again; " +
            "or ship the full archive (sealer save without --since). Nothing was loaded.", path);
    }

    private static SealerException Invalid(string path, string why)
        => new(ErrorCodes.DeltaRecordInvalid, $"'{path}' is not a usable delta archive: {why}. Save the delta again with 'sealer save --since BASE NEW'. Nothing was loaded.", path);
}
