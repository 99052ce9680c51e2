using System.Formats.Tar;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Artifacts;

/// <summary>An app image a cluster image carries: its full name (<c>registry/index.json</c>) and its top descriptor.</summary>
/// <param name="Repository">The path a mirror keeps as it is, for an image without a domain (Sealer's registry format,
/// <see cref="SealerFormatImages"/>: <c>kube-apiserver:v1.22.15</c> goes to <c>kube-apiserver</c>, not
/// <c>library/kube-apiserver</c>); null: the path of <paramref name="Reference"/>.</param>
public sealed record CarriedImage(string Reference, Descriptor Descriptor, string? Repository = null);

/// <summary>
/// The app images a cluster image carries, as a blob source read where the bytes lie: the manifests, indexes and configs
/// are members of its <c>registry</c> layers (uncompressed tars), each app image blob the one member of its
/// <c>image-blob</c> layer. Both are regions of the cluster image's layout blobs, or of its archive or bundle, so pushing
/// the app images elsewhere (<see cref="ImageMirror"/>) copies nothing first. Every platform's registry layers are
/// merged: a multi-platform cluster image carries each platform's child of an app image's index in that platform's layer.
/// With <see cref="SealerFormatImages"/>, the images of a Sealer base's registry tree come after them (their blobs
/// unpacked; disposing this deletes them).
/// </summary>
public sealed class CarriedImages : IBlobSource, IDisposable
{
    private readonly IBlobSource _image;
    private readonly Dictionary<string, BlobLocation> _at = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, long> _unread = new Dictionary<string, long>();
    private SealerFormatImages? _sealerFormat;

    private CarriedImages(IBlobSource image, List<CarriedImage> images)
    {
        _image = image;
        Images = images;
    }

    /// <summary>The images, each name once, in <c>registry/index.json</c> order (first platform first), then those in
    /// Sealer's registry format.</summary>
    public IReadOnlyList<CarriedImage> Images { get; }

    /// <summary>Images in Sealer's registry format that a mirror cannot push (<see cref="SealerFormatImages.NotPushable"/>),
    /// and those a carried image of the same path and tag shadows: <c>PATH:TAG: why</c>.</summary>
    public IReadOnlyList<string> NotPushable { get; private set; } = [];

    /// <summary>How many of <see cref="Images"/> are in Sealer's registry format.</summary>
    public int SealerFormatCount { get; private set; }

    public string Name => _image.Name;

    public bool BlobsVerified => _image.BlobsVerified;

    /// <summary>
    /// Maps the app images of every platform of <paramref name="reader"/>'s cluster image, whose layers <paramref name="image"/>
    /// holds. A registry layer that is compressed, or an image-blob layer that is not the one-member tar assembly writes,
    /// is <see cref="ErrorCodes.NotAClusterImage"/>.
    /// </summary>
    public static CarriedImages Of(IBlobSource image, ClusterImageReader reader)
    {
        var images = new List<CarriedImage>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var layers = new Dictionary<string, Descriptor>(StringComparer.Ordinal);
        foreach (var platform in reader.Platforms)
        {
            foreach (var entry in reader.RegistryIndex(platform))
            {
                string name = entry.GetAnnotation(Annotations.RefName) ?? entry.Digest;
                if (names.Add(name + "@" + entry.Digest)) images.Add(new CarriedImage(name, entry with { Annotations = null }));
            }
            foreach (var layer in reader.RegistryLayers(platform).Concat(platform.Layers.Where(l => ClusterImageFormat.ImageBlobOf(l) is not null)))
            {
                layers.TryAdd(layer.Digest, layer);
            }
        }
        var carried = new CarriedImages(image, images);
        foreach (var layer in layers.Values) carried.Map(layer);
        return carried;
    }

    /// <summary>
    /// <see cref="Of(IBlobSource, ClusterImageReader)"/>, and the images of a Sealer base's registry tree in the rootfs
    /// (<see cref="SealerFormatImages"/>). A tree tag whose path and tag a carried image also has is not pushed: that
    /// one is served (as the built-in registry serves full names before the tree), and it is listed in
    /// <see cref="NotPushable"/> when its content differs. With <paramref name="unpack"/> (<see cref="ManifestsOnly"/> to check
    /// a registry, not to push into one) the tree's other blobs are known by size only: <see cref="HasBlob"/> holds for
    /// them, <see cref="Locate"/> does not.
    /// </summary>
    public static async Task<CarriedImages> WithSealerFormatAsync(IBlobSource image, ClusterImageReader reader, string? workRoot = null, IProgress<long>? unpacked = null, Func<string, bool>? unpack = null, CancellationToken cancellationToken = default)
    {
        var carried = Of(image, reader);
        var tree = await SealerFormatImages.ReadAsync(image, reader, workRoot, unpacked, unpack, cancellationToken).ConfigureAwait(false);
        carried._sealerFormat = tree;
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var i in carried.Images)
        {
            if (ImageReference.TryParse(i.Reference, out var r, out _) && r.Tag is { } tag) named.TryAdd(r.Repository + ":" + tag, i.Descriptor.Digest + " (" + i.Reference + ")");
        }
        var notPushable = tree.NotPushable.ToList();
        var images = (List<CarriedImage>)carried.Images;
        foreach (var i in tree.Images)
        {
            if (named.TryGetValue(i.Reference, out var other))
            {
                if (!other.StartsWith(i.Descriptor.Digest + " ", StringComparison.Ordinal)) notPushable.Add($"{i.Reference}: {i.Descriptor.Digest} is shadowed by {other}, which the cluster image carries under the same path and tag");
                continue;
            }
            images.Add(i);
            carried.SealerFormatCount++;
        }
        foreach (var (digest, at) in tree.Blobs) carried._at.TryAdd(digest, at);
        carried._unread = tree.Unread;
        carried.NotPushable = notPushable;
        return carried;
    }

    /// <summary>For <see cref="WithSealerFormatAsync"/>: unpack the tree's manifests (and configs) only.</summary>
    public static readonly Func<string, bool> ManifestsOnly = static _ => false;

    /// <summary>
    /// The carried images for <see cref="ImageMirror.MirrorAsync"/> into <paramref name="registry"/>, a Sealer base's tree
    /// unpacked only as far as that mirror needs: its manifests are read first, then the registry is asked for every tree
    /// blob in each repository that will hold it (HEAD), and only the blobs it lacks somewhere are unpacked, in a second
    /// read. A re-run into a registry that has them all unpacks no layer; a first run reads the tree twice (the first read
    /// writes nothing but manifests). The second read needs room for the missing blobs in the work directory: without it,
    /// <see cref="ErrorCodes.DiskWriteFailed"/> before it starts.
    /// </summary>
    public static async Task<CarriedImages> ForMirrorAsync(IBlobSource image, ClusterImageReader reader, string registry, PushOptions options,
        string? workRoot = null, IProgress<long>? unpacked = null, CancellationToken cancellationToken = default)
    {
        var carried = await WithSealerFormatAsync(image, reader, workRoot, unpacked, ManifestsOnly, cancellationToken).ConfigureAwait(false);
        if (carried._unread.Count == 0) return carried;
        long firstRead = carried._unread.Values.Sum() + carried._sealerFormat!.Blobs.Values.Sum(b => b.Length);
        IReadOnlySet<string> missing;
        try
        {
            missing = await ImageMirror.MissingUnreadBlobsAsync(carried, registry, options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            carried.Dispose();
            throw;
        }
        if (missing.Count == 0) return carried;
        long needed = missing.Sum(d => carried._unread.TryGetValue(d, out long n) ? n : 0);
        carried.Dispose(); // its manifests are read again with the blobs
        string root = workRoot ?? Path.GetTempPath();
        if (IO.Drives.Of(root) is { } drive && drive.AvailableFreeSpace < needed)
        {
            throw new SealerException(ErrorCodes.DiskWriteFailed,
                $"Unpacking the {missing.Count} blob(s) of '{image.Name}' in Sealer's registry format ({SealerFormatImages.Tree}) that {registry} lacks needs {Bytes.Format(needed)} under {root}, which has {Bytes.Format(drive.AvailableFreeSpace)} free. Free some space there, or point TMPDIR at a disk with room, and run again; nothing was sent.");
        }
        return await WithSealerFormatAsync(image, reader, workRoot, unpacked is null ? null : new Offset(unpacked, firstRead), missing.Contains, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether <paramref name="digest"/> is a blob of the tree that was not unpacked (known by its size only).</summary>
    public bool IsUnread(Digest digest) => _unread.ContainsKey(digest.ToString());

    /// <summary>A second read's progress, after the first's bytes.</summary>
    private sealed class Offset(IProgress<long> inner, long offset) : IProgress<long>
    {
        public void Report(long value) => inner.Report(offset + value);
    }

    public void Dispose() => _sealerFormat?.Dispose();

    /// <summary>Records where the app image blob of an <c>image-blob</c> layer lies (<see cref="InStoreBlobs"/>, as a
    /// registry host serves it), or each <c>registry/blobs/&lt;alg&gt;/&lt;hex&gt;</c> member of a registry layer.</summary>
    private void Map(Descriptor layer)
    {
        if (layer.MediaType is not (MediaTypes.OciLayer or "application/vnd.docker.image.rootfs.diff.tar"))
        {
            throw new SealerException(ErrorCodes.NotAClusterImage,
                $"Layer {layer.Digest} of '{_image.Name}' holds app image content but is {layer.MediaType}, not an uncompressed tar; its images cannot be read in place. Rebuild the cluster image with this SDK.");
        }
        var at = _image.Locate(layer.ParsedDigest);
        using var stream = at.Open();
        if (ClusterImageFormat.ImageBlobOf(layer) is { } blob)
        {
            _at.TryAdd(blob.ToString(), InStoreBlobs.Locate(stream, at, blob, out string? problem)
                ?? throw new SealerException(ErrorCodes.NotAClusterImage, $"Layer {layer.Digest} of '{_image.Name}' should hold app image blob {blob}: {problem}. Rebuild the cluster image, or copy it again."));
            return;
        }
        try
        {
            using var tar = new TarReader(stream);
            while (tar.GetNextEntry() is { } e)
            {
                string name = e.Name.StartsWith("./", StringComparison.Ordinal) ? e.Name[2..] : e.Name;
                if (e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || !name.StartsWith("registry/blobs/", StringComparison.Ordinal)
                    || !Digest.TryParse(name["registry/blobs/".Length..].Replace('/', ':'), out var d))
                {
                    continue;
                }
                if (e.DataOffset < 0 || e.DataOffset + e.Length > at.Length)
                {
                    throw new SealerException(ErrorCodes.NotAClusterImage, $"Layer {layer.Digest} of '{_image.Name}' is truncated: {name} runs past its end. Copy the cluster image again.");
                }
                _at.TryAdd(d.ToString(), new BlobLocation(at.Path, at.Offset + e.DataOffset, e.Length));
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new SealerException(ErrorCodes.NotAClusterImage, $"Layer {layer.Digest} of '{_image.Name}' is not a readable tar: {ex.Message}. Copy the cluster image again.", inner: ex);
        }
    }

    public bool HasBlob(Digest digest, long? size = null)
        => _at.TryGetValue(digest.ToString(), out var at) ? size is null || at.Length == size
            : _unread.TryGetValue(digest.ToString(), out long length) && (size is null || length == size);

    public BlobLocation Locate(Digest digest)
        => _at.TryGetValue(digest.ToString(), out var at) ? at
            : _unread.ContainsKey(digest.ToString())
                ? throw new SealerException(ErrorCodes.BlobNotFound, $"'{_image.Name}': blob {digest} of Sealer's registry format was not unpacked (a check reads the manifests only, a mirror what the registry lacked when asked). Run the mirror again.")
                : throw new SealerException(ErrorCodes.BlobNotFound, $"'{_image.Name}' carries no app image blob {digest}.");

    public byte[] ReadBlobBytes(Digest digest, long maxBytes = OciLimits.MaxManifestBytes)
    {
        var at = Locate(digest);
        if (at.Length > maxBytes)
        {
            throw new SealerException(ErrorCodes.InvalidOciJson, $"Blob {digest} of '{_image.Name}' is {at.Length} bytes, more than the {maxBytes} a manifest or config may have.");
        }
        var bytes = new byte[at.Length];
        using (var s = at.Open()) s.ReadExactly(bytes);
        if (Digest.Sha256(bytes) != digest)
        {
            throw new SealerException(ErrorCodes.ArchiveBlobCorrupt, $"'{_image.Name}': app image blob {digest} is corrupt (its content does not hash to its name). Copy the cluster image again.", _image.Name);
        }
        return bytes;
    }

    /// <summary>An index of the carried images (what <see cref="IBlobSource.ReadIndex"/> of a layout would list), named.</summary>
    public ImageIndex ReadIndex() => new()
    {
        SchemaVersion = 2, MediaType = MediaTypes.OciIndex,
        Manifests = Images.Select(i => i.Descriptor with { Annotations = new Dictionary<string, string> { [Annotations.RefName] = i.Reference } }).ToList(),
    };
}
