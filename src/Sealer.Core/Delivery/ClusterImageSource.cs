using System.Formats.Tar;
using System.IO.Compression;
using Sealer.Core.Artifacts;
using Sealer.Core.Bundle;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.IO;

using System.Security.Cryptography;
using Sealer.Core.Signing;

namespace Sealer.Core.Delivery;

/// <summary>
/// A cluster image on this machine, as the SDK writes it (docs/architecture.md): an OCI layout directory, an OCI archive
/// (<c>.tar</c>, read in place; a zstd/gzip one is unpacked once into a cache directory), a site bundle (its archive read
/// in place), or a reference found in the image cache's index.json. Platforms, extension and the registry layer's images
/// come from <see cref="ClusterImageReader"/>; this adds what delivery needs on top: where every layer's bytes lie (to
/// send), and the merged rootfs files (to render).
/// </summary>
public sealed class ClusterImageSource
{
    private readonly ClusterImageReader _reader;
    private readonly IBlobSource _blobs;
    private readonly Func<string, List<SignatureLayer>> _signatures;

    private ClusterImageSource(IBlobSource blobs, string reference, ClusterImageReader reader, Func<string, List<SignatureLayer>> signatures)
    {
        _blobs = blobs;
        Reference = reference;
        _reader = reader;
        _signatures = signatures;
    }

    /// <summary>The root digest (the index of a multi-platform image, else its manifest): what a signature signs.</summary>
    public string RootDigest => _reader.Descriptor.Digest;

    /// <summary>
    /// Checks the image's cosign signature (stored beside it in its layout or archive) against <paramref name="publicKey"/>;
    /// throws <see cref="ErrorCodes.ImageUnsigned"/>, <see cref="ErrorCodes.SignaturePayloadTampered"/>,
    /// <see cref="ErrorCodes.SignatureWrongKey"/> or <see cref="ErrorCodes.SignatureDigestMismatch"/>.
    /// </summary>
    public VerifiedSignature VerifySignature(ECDsa publicKey, string? keyFile = null)
        => CosignSignatures.Verify(_signatures(RootDigest), RootDigest, publicKey, $"The cluster image '{Reference}'", keyFile);

    /// <summary>The name the Clusterfile used (spec.image) or the path.</summary>
    public string Reference { get; }

    public IReadOnlyList<ClusterImagePlatform> Platforms => _reader.Platforms;

    /// <summary>The image's root descriptor (its index, or its manifest when it has one platform).</summary>
    public Descriptor Root => _reader.Descriptor;

    /// <summary>Where a layer's bytes lie on this machine: a blob file of a layout, or a range of an archive or bundle.</summary>
    public BlobLocation Locate(Descriptor layer) => _blobs.Locate(layer.ParsedDigest);

    public ClusterImagePlatform? ForPlatform(string os, string arch) =>
        Platforms.FirstOrDefault(p => p.Platform.Os == os && p.Platform.Architecture == arch);

    /// <summary>The platform's <c>sealer.image.extension</c> (decoded once, by <see cref="ClusterImageReader"/>), or the empty one.</summary>
    public SealerImageExtension Extension(ClusterImagePlatform p) => p.Extension ?? SealerImageExtension.Empty;

    /// <summary>
    /// Opens <paramref name="image"/>: a layout dir, a site bundle or an archive (read in place), or a name in the local
    /// image store (<paramref name="storeDir"/>, default <c>SEALER_IMAGES_DIR</c> or ~/.sealer/images: what <c>sealer
    /// load</c> fills) or else in <paramref name="cacheDir"/> (default ~/.sealer/cache).
    /// </summary>
    public static ClusterImageSource Open(string image, string? cacheDir = null, string? storeDir = null)
    {
        if (Directory.Exists(image) && File.Exists(Path.Combine(image, "oci-layout")))
        {
            return FromLayout(OciLayout.Open(image), image, null);
        }
        if (File.Exists(image))
        {
            if (ArchiveLayout.IsCompressedFile(image)) return FromLayout(UnpackArchive(image), image, null);
            return FromArchive(SiteBundle.OpenArchiveOf(image), image);
        }
        storeDir ??= DefaultStoreDirectory;
        if (File.Exists(Path.Combine(storeDir, "oci-layout")) && FindNamed(OciLayout.Open(storeDir), image) is { } stored)
        {
            return FromLayout(stored, image, image);
        }
        cacheDir ??= Environment.GetEnvironmentVariable("SEALER_CACHE_DIR") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sealer", "cache");
        if (File.Exists(Path.Combine(cacheDir, "oci-layout")))
        {
            var layout = OciLayout.Open(cacheDir);
            return FromLayout(layout, image, image);
        }
        throw new SealerException(ErrorCodes.BadClusterImage,
            $"The cluster image '{image}' is neither an OCI layout directory, an OCI archive, a site bundle, nor in the image cache '{cacheDir}'. Build it (dotnet build) or pass its path.");
    }

    /// <summary>The local image store <c>sealer load</c>/<c>pull</c> fill (Artifacts/ClusterImageStore): <c>SEALER_IMAGES_DIR</c>, else ~/.sealer/images.</summary>
    public static string DefaultStoreDirectory =>
        Environment.GetEnvironmentVariable("SEALER_IMAGES_DIR") is { Length: > 0 } env && !string.IsNullOrWhiteSpace(env) ? Path.GetFullPath(env)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sealer", "images");

    private static OciLayout? FindNamed(OciLayout layout, string name) =>
        layout.ReadIndex().Manifests.Any(m => m.ArtifactType is null && m.GetAnnotation(Annotations.RefName) is { } n && (n == name || n.EndsWith("/" + name, StringComparison.Ordinal))) ? layout : null;

    private static ClusterImageSource FromArchive(ArchiveLayout archive, string reference)
    {
        // a delta (Artifacts/DeltaArchive: io.sealer.sdk.delta.base.name on its index) lacks the layers its base has
        if (archive.ReadIndex().Annotations is { } notes && notes.TryGetValue("io.sealer.sdk.delta.base.name", out var baseName))
        {
            throw new SealerException(ErrorCodes.BadClusterImage,
                $"'{archive.Path}' is a delta of {baseName}: it carries only what that image lacks. Load it where {baseName} is ('sealer load {archive.Path}'), then run with the new image's name (--image NAME).");
        }
        var reader = ClusterImageReader.Open(archive);
        foreach (var p in reader.Platforms)
        {
            foreach (var layer in p.Layers)
            {
                if (!archive.HasBlob(layer.ParsedDigest, layer.Size))
                {
                    throw new SealerException(ErrorCodes.BadClusterImage, $"'{archive.Path}' lacks layer {layer.Digest} of {p.Platform}; the image is incomplete. Save or bundle it again.");
                }
            }
        }
        return new ClusterImageSource(archive, reference, reader,
            digest => CosignSignatures.FindInIndex(archive, digest));
    }

    private static OciLayout UnpackArchive(string archive)
    {
        string full = Path.GetFullPath(archive);
        var info = new FileInfo(full);
        string key = Digest.Sha256(System.Text.Encoding.UTF8.GetBytes($"{full}|{info.Length}|{info.LastWriteTimeUtc.Ticks}")).Encoded[..16];
        string dir = Path.Combine(Path.GetTempPath(), "sealer-images", key);
        if (File.Exists(Path.Combine(dir, "index.json"))) return OciLayout.Open(dir);
        string tmp = dir + ".tmp-" + Environment.ProcessId;
        try
        {
            Directory.CreateDirectory(tmp);
            using (var fs = File.OpenRead(full))
            using (var content = Decompress(fs))
            {
                TarFile.ExtractToDirectory(content, tmp, overwriteFiles: true);
            }
            if (!File.Exists(Path.Combine(tmp, "oci-layout")))
            {
                throw new SealerException(ErrorCodes.BadClusterImage, $"'{archive}' is a tar file but not an OCI archive (no oci-layout inside).");
            }
            Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            Directory.Move(tmp, dir);
        }
        catch (Exception ex) when (CorruptData.Is(ex))
        {
            throw new SealerException(ErrorCodes.BadClusterImage, $"'{archive}' is not a readable OCI archive: {ex.Message}.", inner: ex);
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        }
        return OciLayout.Open(dir);
    }

    private static ClusterImageSource FromLayout(OciLayout layout, string reference, string? refName)
    {
        // artifacts stored beside the image (signatures, SBOMs: an artifactType) are not cluster images
        var entries = layout.ReadIndex().Manifests.Where(m => m.ArtifactType is null && (MediaTypes.IsIndex(m.MediaType) || MediaTypes.IsManifest(m.MediaType))).ToList();
        if (refName is not null)
        {
            entries = entries.Where(m => m.GetAnnotation(Annotations.RefName) is { } n && (n == refName || n.EndsWith("/" + refName, StringComparison.Ordinal))).ToList();
            if (entries.Count == 0)
            {
                throw new SealerException(ErrorCodes.BadClusterImage, $"The cluster image '{refName}' is not in the image cache '{layout.Root}'. Build or pull it first, or pass the path of its OCI layout / archive.");
            }
        }
        if (entries.Count == 0) throw new SealerException(ErrorCodes.BadClusterImage, $"The OCI layout '{layout.Root}' holds no image manifest.");
        if (entries.Count > 1 && refName is null)
        {
            throw new SealerException(ErrorCodes.BadClusterImage,
                $"The OCI layout '{layout.Root}' holds {entries.Count} images ({string.Join(", ", entries.Select(m => m.GetAnnotation(Annotations.RefName) ?? m.Digest))}); pass one layout per cluster image.");
        }
        var top = entries[0];
        if (!layout.HasBlob(top.ParsedDigest)) throw new SealerException(ErrorCodes.BadClusterImage, $"The layout '{layout.Root}' lacks blob {top.Digest}; the image is incomplete. Rebuild it.");
        var reader = ClusterImageReader.Open(layout, top, top.GetAnnotation(Annotations.RefName), skipMissingPlatforms: false);
        foreach (var p in reader.Platforms)
        {
            foreach (var layer in p.Layers)
            {
                if (!layout.HasBlob(layer.ParsedDigest, layer.Size))
                {
                    throw new SealerException(ErrorCodes.BadClusterImage, $"The layout '{layout.Root}' lacks layer {layer.Digest} of {p.Platform}; the image is incomplete. Rebuild it.");
                }
            }
        }
        return new ClusterImageSource(layout, reference, reader,
            digest => CosignSignatures.FindInIndex(layout, digest));
    }

    private static Stream Decompress(FileStream fs)
    {
        int b0 = fs.ReadByte();
        fs.Seek(0, SeekOrigin.Begin);
        return b0 == 0x1f ? new GZipStream(fs, CompressionMode.Decompress, leaveOpen: true) : new ZstdSharp.DecompressionStream(fs, leaveOpen: true);
    }

    /// <summary>Opens a layer's tar stream (gunzipped when needed).</summary>
    public Stream OpenLayerTar(Descriptor layer)
    {
        var fs = Locate(layer).Open();
        if (layer.MediaType.EndsWith("+gzip", StringComparison.Ordinal) || layer.MediaType.EndsWith(".gzip", StringComparison.Ordinal))
        {
            return new GZipStream(fs, CompressionMode.Decompress);
        }
        if (layer.MediaType.EndsWith("+zstd", StringComparison.Ordinal))
        {
            fs.Dispose();
            throw new SealerException(ErrorCodes.BadClusterImage, $"Layer {layer.Digest} is zstd-compressed; delivery handles tar and tar+gzip layers. Rebuild without zstd.");
        }
        return fs;
    }

    /// <summary>
    /// The files of the unpacked rootfs whose path matches <paramref name="predicate"/> (last layer wins), read from the
    /// local layers: <c>*.tmpl</c> files to render, configs and app files to merge. Per-blob layers cost a seek each.
    /// </summary>
    public Dictionary<string, byte[]> ReadFiles(ClusterImagePlatform platform, Func<string, bool> predicate) =>
        ReadFileEntries(platform, predicate).ToDictionary(f => f.Key, f => f.Value.Data, StringComparer.Ordinal);

    /// <summary>
    /// The regular files of the merged rootfs that match <paramref name="predicate"/>, with their modes: layers applied in
    /// order, OCI whiteouts (<c>.wh.NAME</c>, <c>.wh..wh..opq</c>) honoured, so a file deleted by an upper layer is not returned.
    /// </summary>
    public Dictionary<string, (byte[] Data, UnixFileMode Mode)> ReadFileEntries(ClusterImagePlatform platform, Func<string, bool> predicate)
    {
        var files = new Dictionary<string, (byte[] Data, UnixFileMode Mode)>(StringComparer.Ordinal);
        foreach (var layer in platform.Layers)
        {
            using var stream = OpenLayerTar(layer);
            using var reader = new TarReader(stream);
            var added = new HashSet<string>(StringComparer.Ordinal);
            // uncompressed layers (the per-blob ones) are on a seekable stream: skipping their data is a seek, not a read
            while (reader.GetNextEntry() is { } entry)
            {
                string name = LayerWhiteouts.PathOf(entry.Name);
                if (LayerWhiteouts.Apply(name, files, added)) continue;
                if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && predicate(name) && entry.DataStream is { } data)
                {
                    using var ms = new MemoryStream();
                    data.CopyTo(ms);
                    files[name] = (ms.ToArray(), entry.Mode);
                    added.Add(name);
                }
                else files.Remove(name); // replaced by a directory, link or a file we do not want
            }
        }
        return files;
    }

    /// <summary>The registry domains of the app images in <c>registry/index.json</c> (for containerd's hosts.toml).</summary>
    public IReadOnlyList<string> RegistryDomains(ClusterImagePlatform platform) => _reader.RegistryDomains(platform);

    /// <summary>The full names of the images in <c>registry/index.json</c>.</summary>
    public IReadOnlyList<string> RegistryImages(ClusterImagePlatform platform) => _reader.RegistryImages(platform);

    /// <summary>The platform's software list (<c>registry/images.json</c>): each app image with its digests.</summary>
    public IReadOnlyList<ContainedImage> ContainedImages(ClusterImagePlatform platform) => _reader.ContainedImages(platform);

    /// <summary>The app images of every platform, read where they lie, and those of a Sealer base's registry tree in the
    /// rootfs (unpacked into the temp directory until disposed): what <see cref="ImageMirror"/> pushes into an external registry.</summary>
    /// <param name="unpacked">hears the bytes of a Sealer base's tree read so far</param>
    /// <param name="manifestsOnly">to check a registry, not to push: the tree's layers are not unpacked
    /// (<see cref="Artifacts.CarriedImages.WithSealerFormatAsync"/>)</param>
    public Task<CarriedImages> CarriedImagesAsync(IProgress<long>? unpacked = null, bool manifestsOnly = false, CancellationToken cancellationToken = default)
        => Artifacts.CarriedImages.WithSealerFormatAsync(_blobs, _reader, unpacked: unpacked, unpack: manifestsOnly ? Artifacts.CarriedImages.ManifestsOnly : null, cancellationToken: cancellationToken);

    /// <summary><see cref="CarriedImagesAsync"/> for a mirror into <paramref name="registry"/>: a Sealer base's tree blobs
    /// the registry has are not unpacked (<see cref="Artifacts.CarriedImages.ForMirrorAsync"/>).</summary>
    public Task<CarriedImages> CarriedImagesForMirrorAsync(string registry, PushOptions options, IProgress<long>? unpacked = null, CancellationToken cancellationToken = default)
        => Artifacts.CarriedImages.ForMirrorAsync(_blobs, _reader, registry, options, unpacked: unpacked, cancellationToken: cancellationToken);
}
