using System.Formats.Tar;
using System.Security.Cryptography;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Artifacts;

/// <summary>
/// The images a cluster image carries in Sealer's own registry format: a docker/distribution storage tree
/// (<c>registry/docker/registry/v2/{blobs,repositories}</c>) in its rootfs, as Sealer's base images hold kubeadm's
/// images (<c>sea.hub:5000/kube-apiserver</c>). The built-in registry serves such a tree in place on the hosts; a site's
/// own registry (an externalRegistry) needs the images pushed, and this reads them for <see cref="ImageMirror"/>.
/// <list type="bullet">
/// <item>The tree lies in rootfs layers, gzip ones for a Sealer base, so its blobs are unpacked once into a work
/// directory (deleted on dispose), each checked against its name as it is written: a corrupt one is
/// <see cref="ErrorCodes.ArchiveBlobCorrupt"/>.</item>
/// <item>Tags are <c>repositories/PATH/_manifests/tags/TAG/current/link</c>. Layers apply in order with OCI whiteouts, as
/// the hosts' unpacked rootfs has them; every platform's rootfs counts, and a tag naming another manifest in another
/// platform's rootfs is <see cref="ErrorCodes.MirrorNameClash"/>.</item>
/// <item>Sealer dropped the source domain, so each image keeps its path as it is (<see cref="CarriedImage.Repository"/>):
/// a host asks the mirror for <c>/v2/kube-apiserver/manifests/v1.22.15</c> whatever domain the pod names.</item>
/// <item>A tag that cannot be pushed (its manifest is not in the tree, a schema 1 manifest, a path no registry takes)
/// is listed in <see cref="NotPushable"/> with the reason, not dropped silently.</item>
/// <item>To check what a registry serves (<c>sealer check</c>, <c>sealer mirror --check</c>) only the manifests are needed,
/// and a mirror into a registry that has most blobs needs only the rest: read with an <c>unpack</c> filter, a blob that
/// cannot be a manifest (larger than one may be, or not JSON by its first bytes: every layer) and that the filter does
/// not ask for is skipped in the stream, its size kept (<see cref="Unread"/>), so the tree's gigabytes of layers are not
/// written to the temp directory for nothing.</item>
/// </list>
/// </summary>
public sealed class SealerFormatImages : IDisposable
{
    /// <summary>Where Sealer's images lie in a rootfs.</summary>
    public const string Tree = "registry/docker/registry/v2/";

    private readonly Dictionary<string, BlobLocation> _blobs;

    private SealerFormatImages(string? directory, IReadOnlyList<CarriedImage> images, IReadOnlyList<string> notPushable, Dictionary<string, BlobLocation> blobs, Dictionary<string, long> unread)
    {
        Directory = directory;
        Images = images;
        NotPushable = notPushable;
        _blobs = blobs;
        Unread = unread;
    }

    /// <summary>The work directory the blobs were unpacked into (null: the rootfs holds no tree).</summary>
    public string? Directory { get; }

    /// <summary>The pushable tags, each as <c>PATH:TAG</c> with its path as <see cref="CarriedImage.Repository"/>, sorted.</summary>
    public IReadOnlyList<CarriedImage> Images { get; }

    /// <summary>Tags that cannot be pushed: <c>PATH:TAG: why</c>.</summary>
    public IReadOnlyList<string> NotPushable { get; }

    /// <summary>Where each unpacked blob lies (digest → its file).</summary>
    internal IReadOnlyDictionary<string, BlobLocation> Blobs => _blobs;

    /// <summary>The blobs a filtered read skipped, no manifests (digest → size): in the tree, not unpacked, not checked.</summary>
    internal IReadOnlyDictionary<string, long> Unread { get; }

    /// <summary>
    /// Reads the tree out of the rootfs layers of every platform of <paramref name="reader"/>'s cluster image (the layers
    /// that are neither <c>registry</c> nor <c>image-blob</c> layers), unpacking its blobs under
    /// <paramref name="workRoot"/> (default: the temp directory). <paramref name="unpacked"/> hears the bytes of the tree's
    /// blobs read so far. With <paramref name="unpack"/> only the blobs that may be manifests (<see cref="MayBeManifest"/>)
    /// and those it holds true for (by digest) are unpacked; null: every blob.
    /// </summary>
    public static async Task<SealerFormatImages> ReadAsync(IBlobSource image, ClusterImageReader reader, string? workRoot = null, IProgress<long>? unpacked = null, Func<string, bool>? unpack = null, CancellationToken cancellationToken = default)
    {
        long unpackedBytes = 0;
        var blobs = new Dictionary<string, BlobLocation>(StringComparer.Ordinal);
        var unread = new Dictionary<string, long>(StringComparer.Ordinal);
        var tags = new SortedDictionary<string, (string Digest, string Platform)>(StringComparer.Ordinal);
        var notPushable = new List<string>();
        string? dir = null;
        try
        {
            foreach (var platform in reader.Platforms)
            {
                var registryLayers = reader.RegistryLayers(platform).Select(l => l.Digest).ToHashSet(StringComparer.Ordinal);
                // link entry path → what it names, layers applied in order
                var links = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var layer in platform.Layers.Where(l => !registryLayers.Contains(l.Digest) && ClusterImageFormat.ImageBlobOf(l) is null))
                {
                    await ReadLayerAsync(layer).ConfigureAwait(false);
                }
                foreach (var (link, digest) in links)
                {
                    // TREE/repositories/PATH/_manifests/tags/TAG/current/link
                    string rest = link[(Tree + "repositories/").Length..^"/current/link".Length];
                    int at = rest.LastIndexOf("/_manifests/tags/", StringComparison.Ordinal);
                    if (at <= 0)
                    {
                        notPushable.Add($"{link}: a tag outside any repository");
                        continue;
                    }
                    string path = rest[..at], tag = rest[(at + "/_manifests/tags/".Length)..];
                    string name = path + ":" + tag;
                    if (tags.TryGetValue(name, out var other) && other.Digest != digest)
                    {
                        throw new SealerException(ErrorCodes.MirrorNameClash,
                            $"'{image.Name}' carries {name} in Sealer's registry format ({Tree}) as {other.Digest} in the {other.Platform} rootfs and as {digest} in the {platform.Platform} rootfs: a registry's tag names one of them. Give each platform's image another tag, or tag an index over both.");
                    }
                    tags[name] = (digest, platform.Platform.ToString());
                }

                async Task ReadLayerAsync(Descriptor layer)
                {
                    await using var raw = image.Locate(layer.ParsedDigest).Open();
                    Stream content;
                    try
                    {
                        content = await OciArchive.OpenDecompressedAsync(raw, $"layer {layer.Digest}", cancellationToken).ConfigureAwait(false);
                    }
                    catch (SealerException) { return; } // too short to hold anything
                    await using var _ = content.ConfigureAwait(false);
                    var added = new HashSet<string>(StringComparer.Ordinal);
                    try
                    {
                        await using var tar = new TarReader(content);
                        while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } e)
                        {
                            string entry = LayerWhiteouts.PathOf(e.Name);
                            if (LayerWhiteouts.Apply(entry, links, added)) continue; // an upper layer deleted tags below it
                            if (!entry.StartsWith(Tree, StringComparison.Ordinal) || e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || e.DataStream is null) continue;
                            string name = entry[Tree.Length..];
                            if (name.StartsWith("repositories/", StringComparison.Ordinal) && name.EndsWith("/current/link", StringComparison.Ordinal) && name.Contains("/_manifests/tags/", StringComparison.Ordinal))
                            {
                                var text = new byte[Math.Min(e.Length, 256)];
                                await e.DataStream.ReadExactlyAsync(text, cancellationToken).ConfigureAwait(false);
                                links[entry] = System.Text.Encoding.ASCII.GetString(text).Trim();
                                added.Add(entry);
                            }
                            else if (name.StartsWith("blobs/", StringComparison.Ordinal) && name.EndsWith("/data", StringComparison.Ordinal))
                            {
                                // blobs/ALG/XX/HEX/data
                                var parts = name.Split('/');
                                if (parts.Length != 5 || parts[1] != "sha256" || !Digest.TryParse("sha256:" + parts[3], out var digest) || blobs.ContainsKey(digest.ToString())) continue;
                                ReadOnlyMemory<byte> head = default;
                                if (unpack is not null && !unpack(digest.ToString()))
                                {
                                    head = await SniffAsync(e.DataStream, e.Length, cancellationToken).ConfigureAwait(false);
                                    if (!MayBeManifest(head.Span, e.Length))
                                    {
                                        unread[digest.ToString()] = e.Length; // the rest is skipped in the stream by the next GetNextEntryAsync
                                        unpacked?.Report(unpackedBytes += e.Length);
                                        continue;
                                    }
                                }
                                unread.Remove(digest.ToString());
                                dir ??= System.IO.Directory.CreateDirectory(Path.Combine(workRoot ?? Path.GetTempPath(), "sealer-format-" + Guid.NewGuid().ToString("N")[..12])).FullName;
                                blobs[digest.ToString()] = await UnpackBlobAsync(head, e.DataStream, e.Length, digest, dir, $"'{image.Name}' (layer {layer.Digest}, {entry})", cancellationToken).ConfigureAwait(false);
                                unpacked?.Report(unpackedBytes += e.Length);
                            }
                        }
                    }
                    catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
                    {
                        throw new SealerException(ErrorCodes.BadClusterImage, $"Rootfs layer {layer.Digest} of '{image.Name}' is not a readable tar: {ex.Message}. Copy the cluster image again.", inner: ex);
                    }
                }
            }

            var images = new List<CarriedImage>();
            foreach (var (name, (digest, _)) in tags)
            {
                string path = name[..name.LastIndexOf(':')];
                if (!ImageReference.IsValidPath(path) || !ImageReference.TryParse(name, out _, out _))
                {
                    notPushable.Add($"{name}: not a name a registry takes");
                    continue;
                }
                string key = Digest.TryParse(digest, out var d) ? d.ToString() : "";
                bool written = blobs.TryGetValue(key, out var at);
                long length = written ? at.Length : unread.GetValueOrDefault(key, -1);
                if (length < 0)
                {
                    notPushable.Add($"{name}: its manifest {digest} is not in the tree");
                    continue;
                }
                if (length > OciLimits.MaxManifestBytes)
                {
                    notPushable.Add($"{name}: {digest} is {length} bytes, not a manifest");
                    continue;
                }
                if (!written)
                {
                    notPushable.Add($"{name}: {digest} is not a manifest (not JSON)"); // a filtered read skipped it by its first bytes
                    continue;
                }
                byte[] bytes = await File.ReadAllBytesAsync(at.Path, cancellationToken).ConfigureAwait(false);
                ManifestProbe probe;
                try
                {
                    probe = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ManifestProbe, $"manifest {digest}");
                }
                catch (SealerException)
                {
                    notPushable.Add($"{name}: {digest} is not a manifest (not JSON)");
                    continue;
                }
                if (probe.SchemaVersion != 2)
                {
                    notPushable.Add($"{name}: a schema {probe.SchemaVersion} manifest, which registries no longer take (pull and push it again with a current tool)");
                    continue;
                }
                string mediaType = probe.MediaType ?? (probe.Manifests is not null && probe.Config is null ? MediaTypes.OciIndex : MediaTypes.OciManifest);
                images.Add(new CarriedImage(name, new Descriptor { MediaType = mediaType, Digest = d.ToString(), Size = at.Length }, path));
            }
            return new SealerFormatImages(dir, images, notPushable, blobs, unread);
        }
        catch (IOException ex) when (AtomicFile.IsDiskFull(ex))
        {
            System.IO.Directory.Delete(dir!, recursive: true);
            throw new SealerException(ErrorCodes.DiskWriteFailed,
                $"The disk is full while unpacking the images of '{image.Name}' in Sealer's registry format ({Tree}, {Bytes.Format(blobs.Values.Sum(b => b.Length))} so far) into {Path.GetDirectoryName(dir)}. Free some space there, or point TMPDIR at a disk with room, and run again.", inner: ex);
        }
        catch
        {
            if (dir is not null) System.IO.Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    /// <summary>The first bytes of a blob (up to 64), read to tell a manifest from a layer.</summary>
    private static async Task<ReadOnlyMemory<byte>> SniffAsync(Stream data, long length, CancellationToken cancellationToken)
    {
        var head = new byte[(int)Math.Min(length, 64)];
        await data.ReadExactlyAsync(head, cancellationToken).ConfigureAwait(false);
        return head;
    }

    /// <summary>
    /// Whether a blob that starts with <paramref name="head"/> may be a manifest: no larger than one may be, and JSON (its
    /// first byte after white space is <c>{</c>). Layers (gzip, zstd, tar) fail the second at their first byte; a head of
    /// white space only is kept, to be sure.
    /// </summary>
    internal static bool MayBeManifest(ReadOnlySpan<byte> head, long length)
    {
        if (length > OciLimits.MaxManifestBytes) return false;
        int first = head.IndexOfAnyExcept(" \t\r\n"u8);
        return first < 0 || head[first] == (byte)'{';
    }

    /// <summary>Writes one blob of the tree to <paramref name="dir"/> (<paramref name="head"/>, its first bytes, already read
    /// off <paramref name="data"/>), hashing it on the way; kept only when it hashes to its name.</summary>
    private static async Task<BlobLocation> UnpackBlobAsync(ReadOnlyMemory<byte> head, Stream data, long length, Digest digest, string dir, string where, CancellationToken cancellationToken)
    {
        string file = Path.Combine(dir, digest.Encoded);
        string tmp = file + ".tmp";
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // a new file in this private folder: not FileMode.Create, whose truncate to zero makes ext4 write the blob back at close
        await using (var output = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            hash.AppendData(head.Span);
            await output.WriteAsync(head, cancellationToken).ConfigureAwait(false);
            var buffer = new byte[1 << 20];
            int n;
            while ((n = await data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }
        }
        if (Convert.ToHexStringLower(hash.GetHashAndReset()) != digest.Encoded)
        {
            File.Delete(tmp);
            throw new SealerException(ErrorCodes.ArchiveBlobCorrupt,
                $"{where}: blob {digest} of Sealer's registry format is corrupt (its content does not hash to its name). Copy the cluster image again, or rebuild its base.");
        }
        File.Move(tmp, file, overwrite: true);
        return new BlobLocation(file, 0, length);
    }

    public void Dispose()
    {
        try
        {
            if (Directory is not null && System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException) { } // a temp directory left behind is not worth failing a finished mirror for
    }
}
