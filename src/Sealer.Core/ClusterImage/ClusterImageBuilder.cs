using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.ClusterImage;

/// <summary>Where a build writes: the OCI layout directory, the OCI archive, and a small state file for incremental rebuilds.</summary>
public sealed record ClusterImageOutput(string LayoutPath, string? ArchivePath = null, string? LayerMapPath = null);

/// <summary>
/// Assembles a cluster image (docs/architecture.md, "The cluster image"): base layers unchanged, a deterministic rootfs
/// tar+gzip layer, one uncompressed tar layer per app image blob (<c>registry/blobs/sha256/&lt;hex&gt;</c>), and a final layer
/// with <c>registry/oci-layout</c>, <c>registry/index.json</c> (full refs) and the image manifests/indexes/configs.
/// <list type="bullet">
/// <item>Deterministic: the same inputs give the same manifest digest (sorted entries, fixed mtime, stable gzip, no <c>created</c>).</item>
/// <item>Incremental: a rebuild works in the previous output (new blobs beside the old, <c>index.json</c> last as the
/// switch, unnamed blobs deleted after it), and a layer map remembers which layer holds which cache blob and, for the same
/// images, which blobs and registry layer they gave, so unchanged image layers are neither re-read nor re-written.</item>
/// <item>Atomic: a failed or cancelled build leaves the previous layout's <c>index.json</c> and every blob it names (the
/// first build writes a temp directory next to the output and renames it in). The archive is then brought up to date from
/// the new layout by <see cref="ClusterImageArchive"/> (only the changed tail is written; its path never holds a partial archive).</item>
/// <item>FROM: the base's layers are kept as they are; images the base carries (<see cref="ClusterImageContent.FromBase"/>)
/// are not collected, and no layer is added for a blob a base image-blob layer holds.</item>
/// </list>
/// </summary>
public sealed class ClusterImageBuilder
{
    private readonly ILogger _logger;

    public ClusterImageBuilder(ILogger? logger = null) => _logger = logger ?? NullLogger.Instance;

    public async Task<ClusterImageResult> BuildAsync(ClusterImageSpec spec, ClusterImageOutput output, IProgress<AssemblyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Validate(spec);
        var rootfs = NormalizeRootfs(spec.RootfsFiles);
        string finalDir = Path.GetFullPath(output.LayoutPath);
        string parent = Path.GetDirectoryName(finalDir)!;
        Directory.CreateDirectory(parent);
        string tempDir = Path.Combine(parent, $".{Path.GetFileName(finalDir)}.{Guid.NewGuid():N}.tmp");
        OciLayout? previous = TryOpenPrevious(finalDir);
        var layerMap = ReadLayerMap(output.LayerMapPath);
        // A rebuild over a layout (the usual case) works in it: the blobs are content-addressed, so new ones are added beside
        // the old, and the new index.json, written last and atomically, is the switch; a failed or cancelled build leaves the
        // old index.json and every blob it names. Blobs no image names any more go after the switch. So a rebuild costs what
        // changed, not a link per blob into a new directory and a delete per blob of the old one (2,000 of each at 600
        // images). No layout there yet (or not a layout): a temp directory, swapped in at the end.
        bool inPlace = previous is not null;
        string workDir = inPlace ? finalDir : tempDir;
        var session = new Session(spec, OciLayout.OpenOrCreate(workDir), inPlace ? null : previous, layerMap, progress, _logger)
        {
            InPlace = inPlace,
            SaveLayerMap = () =>
            {
                if (output.LayerMapPath is not null)
                {
                    AtomicFile.WriteAllBytes(output.LayerMapPath, JsonSerializer.SerializeToUtf8Bytes(layerMap, ClusterImageJsonContext.Default.LayerMapFile));
                }
            },
        };
        try
        {
            var result = await session.RunAsync(rootfs, cancellationToken).ConfigureAwait(false);
            Directory.Delete(Path.Combine(workDir, "ingest"), recursive: true);
            if (inPlace)
            {
                RemoveUnnamedBlobs(previous!, result.Descriptor, result.BuiltManifests);
            }
            else
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReplaceDirectory(tempDir, finalDir);
                session.SaveLayerMap();
            }
            ArchiveWriteResult? archive = null;
            if (output.ArchivePath is not null)
            {
                // From the final layout: only the tail that differs from the previous archive is written (ClusterImageArchive).
                progress?.Report(new AssemblyProgress("archive", output.ArchivePath, 0));
                var archiveProgress = progress is null ? null : new ArchiveProgress(progress, output.ArchivePath);
                archive = await ClusterImageArchive.WriteAsync(finalDir, output.ArchivePath, spec.SourceDateEpoch, archiveProgress, result.BuiltManifests, cancellationToken).ConfigureAwait(false);
            }
            _logger.LogInformation("Cluster image {Ref} {Digest}: {Written} blobs written, {Reused} reused", spec.RefName, result.Descriptor.Digest, session.Written, session.Reused);
            return result with
            {
                LayoutPath = finalDir,
                ArchivePath = output.ArchivePath is null ? null : Path.GetFullPath(output.ArchivePath),
                BlobsWritten = session.Written,
                BlobsReused = session.Reused,
                Archive = archive,
            };
        }
        catch (IOException ex) when (AtomicFile.IsDiskFull(ex))
        {
            throw new SealerException(ErrorCodes.DiskWriteFailed, $"The disk is full while writing the cluster image under '{parent}'. Free some space and build again; the previous layout is unchanged, and an interrupted archive update is completed by the next build.", inner: ex);
        }
        finally
        {
            TryDeleteDirectory(tempDir);
            if (inPlace) TryDeleteDirectory(Path.Combine(finalDir, "ingest")); // a failed build's partial layers
        }
    }

    /// <summary>After an in-place rebuild's switch: deletes the blobs the layout's image no longer names (the old image's
    /// rootfs, registry and config, images dropped from the project, a failed build's leftovers). One that cannot be deleted
    /// now (in use) is left for the next build.</summary>
    private static void RemoveUnnamedBlobs(OciLayout layout, Descriptor top, IReadOnlyDictionary<string, ImageManifest>? built)
    {
        var named = ClusterImageArchive.Graph(layout, top, built).Select(d => d.Digest).ToHashSet(StringComparer.Ordinal);
        foreach (var (digest, file) in layout.BlobFiles())
        {
            if (!named.Contains(digest)) OciLayout.TryDelete(file);
        }
    }

    private static void Validate(ClusterImageSpec spec)
    {
        if (spec.Launch.Count > 0 && spec.Cmds.Count > 0)
        {
            throw new SealerException(ErrorCodes.LaunchAndCmdsBothSet, "SealerLaunch (LAUNCH) and SealerCmds (CMDS) are both set; a cluster image launches either apps or commands. Remove one of them.");
        }
        if (spec.Platforms.Count == 0)
        {
            throw new SealerException(ErrorCodes.InvalidProjectValue, "No platform to build for: set SealerPlatforms, e.g. linux/amd64;linux/arm64.");
        }
        if (spec.Images.Count > 0 && spec.ImageCache is null)
        {
            throw new SealerException(ErrorCodes.Internal, "The spec lists images but no image cache.");
        }
        var known = new HashSet<string>(spec.Apps.Select(a => a.Name), StringComparer.Ordinal);
        foreach (var app in spec.Apps)
        {
            if (app.Type is not ("helm" or "kube" or "shell"))
            {
                throw new SealerException(ErrorCodes.InvalidApp, $"App '{app.Name}' has type '{app.Type}'; use helm, kube or shell.");
            }
        }
        if (spec.BaseImage is null)
        {
            foreach (var name in spec.Launch)
            {
                if (!known.Contains(name))
                {
                    throw new SealerException(ErrorCodes.UnknownApp, $"SealerLaunch names app '{name}', which no SealerApp item defines. Add <SealerApp Include=\"{name}\" .../> or remove it from SealerLaunch.");
                }
            }
        }
    }

    /// <summary>Checks every destination (relative, no '..'), and rejects two different sources for one path.</summary>
    internal static List<RootfsEntry> NormalizeRootfs(IReadOnlyList<RootfsEntry> entries)
    {
        var byPath = new Dictionary<string, RootfsEntry>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            string dest = NormalizeDestination(e.Destination, e);
            var entry = e with { Destination = dest };
            if (byPath.TryGetValue(dest, out var other) && !SameSource(other, entry))
            {
                throw new SealerException(ErrorCodes.RootfsPathConflict,
                    $"Two items put different files at rootfs path '{dest}': '{other.SourcePath ?? "(generated)"}' and '{entry.SourcePath ?? "(generated)"}'. Give one of them another Destination.",
                    e.OriginFile, e.OriginLine);
            }
            byPath[dest] = entry;
        }
        var ordered = byPath.Values.OrderBy(e => e.Destination, StringComparer.Ordinal).ToList();
        // Windows and macOS check a project out on case-insensitive file systems: two paths that differ only by case would
        // be one file there, so the image would depend on the build machine. Refused everywhere, so it never does.
        if (PortablePath.CaseClashes(ordered.Select(e => e.Destination)) is [var (first, second), ..])
        {
            var a = ordered.First(e => e.Destination == first || e.Destination.StartsWith(first + "/", StringComparison.Ordinal));
            var b = ordered.First(e => e.Destination == second || e.Destination.StartsWith(second + "/", StringComparison.Ordinal));
            throw new SealerException(ErrorCodes.RootfsPathCaseConflict,
                $"Rootfs paths '{first}' ({a.SourcePath ?? "generated"}) and '{second}' ({b.SourcePath ?? "generated"}) differ only by case: on Windows and macOS they are one file, so the cluster image would depend on the build machine. Rename one, or give its item another Destination.",
                b.OriginFile ?? a.OriginFile, b.OriginFile is not null ? b.OriginLine : a.OriginLine);
        }
        return ordered;
    }

    private static bool SameSource(RootfsEntry a, RootfsEntry b)
        => a.SourcePath is not null && b.SourcePath is not null
            ? string.Equals(Path.GetFullPath(a.SourcePath), Path.GetFullPath(b.SourcePath), StringComparison.Ordinal)
            : a.Content is not null && b.Content is not null && a.Content.AsSpan().SequenceEqual(b.Content);

    internal static string NormalizeDestination(string destination, RootfsEntry? origin = null)
    {
        string d = destination.Replace('\\', '/').Trim();
        while (d.StartsWith("./", StringComparison.Ordinal)) d = d[2..];
        if (d.Length == 0 || d.StartsWith('/') || (d.Length > 1 && d[1] == ':'))
        {
            throw new SealerException(ErrorCodes.InvalidRootfsPath, $"Rootfs destination '{destination}' must be a relative path inside the cluster image rootfs, e.g. etc/my.conf.", origin?.OriginFile, origin?.OriginLine ?? 0);
        }
        var parts = d.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToList();
        if (parts.Count == 0 || parts.Any(p => p == ".."))
        {
            throw new SealerException(ErrorCodes.InvalidRootfsPath, $"Rootfs destination '{destination}' climbs out of the rootfs with '..'; use a path inside it.", origin?.OriginFile, origin?.OriginLine ?? 0);
        }
        return string.Join('/', parts);
    }

    private static OciLayout? TryOpenPrevious(string dir)
    {
        if (!Directory.Exists(dir)) return null;
        try
        {
            return OciLayout.Open(dir);
        }
        catch (SealerException)
        {
            return null;
        }
    }

    private static LayerMapFile ReadLayerMap(string? path)
    {
        if (path is null || !File.Exists(path)) return new LayerMapFile();
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), ClusterImageJsonContext.Default.LayerMapFile) ?? new LayerMapFile();
        }
        catch (JsonException)
        {
            return new LayerMapFile(); // a state file only saves work; a broken one is rebuilt
        }
    }

    /// <summary>Swaps <paramref name="tempDir"/> into <paramref name="finalDir"/>: the old one is renamed aside first and deleted after.</summary>
    private static void ReplaceDirectory(string tempDir, string finalDir)
    {
        string? aside = null;
        try
        {
            if (Directory.Exists(finalDir))
            {
                aside = finalDir + $".{Guid.NewGuid():N}.old";
                AtomicFile.MoveDirectory(finalDir, aside);
            }
            else if (File.Exists(finalDir))
            {
                throw new SealerException(ErrorCodes.OutputReplaceFailed, $"'{finalDir}' is a file; the cluster image output must be a directory. Remove it and build again.");
            }
            AtomicFile.MoveDirectory(tempDir, finalDir);
        }
        catch (SealerException ex) when (ex.Code == ErrorCodes.FileInUse)
        {
            if (aside is not null && !Directory.Exists(finalDir)) Directory.Move(aside, finalDir);
            throw new SealerException(ErrorCodes.FileInUse, $"Cannot replace '{finalDir}': a file in it is in use by another process (an antivirus scan, an IDE or file viewer, a running sealer). The previous output is unchanged. Close the program holding it and build again.", finalDir, 0, inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (aside is not null && !Directory.Exists(finalDir)) Directory.Move(aside, finalDir);
            throw new SealerException(ErrorCodes.OutputReplaceFailed, $"Cannot replace '{finalDir}': {ex.Message}. Close programs using it and build again.", inner: ex);
        }
        if (aside is not null) TryDeleteDirectory(aside);
    }

    internal static void TryDeleteDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>One build: the temp layout being filled and what it reused.</summary>
    /// <summary>The archive writer's (bytes in place, archive length) as assembly progress.</summary>
    private sealed class ArchiveProgress(IProgress<AssemblyProgress> progress, string path) : IProgress<(long Done, long Total)>
    {
        public void Report((long Done, long Total) value) => progress.Report(new AssemblyProgress("archive", path, value.Done, value.Total));
    }

    /// <summary>One of the project's rootfs layers; <see cref="Group"/> names a layer of its own (<see cref="RootfsLayers"/>).</summary>
    private sealed record RootfsLayer(Descriptor Layer, Digest DiffId, RootfsLayers.Part Part);

    /// <summary>A layer written (or taken) and its diff ID. Classes, not structs or value tuples: a task, list or array of a
    /// struct is generic code ReadyToRun cannot carry, JIT-compiled in every build.</summary>
    private sealed record WrittenLayer(Descriptor Layer, Digest DiffId);

    private sealed class Session(ClusterImageSpec spec, OciLayout temp, OciLayout? previous, LayerMapFile layerMap, IProgress<AssemblyProgress>? progress, ILogger logger)
    {
        public int Written;
        public int Reused;
        private long _bytes;

        /// <summary>The platform manifests written (<see cref="ClusterImageResult.BuiltManifests"/>): each of their blobs was
        /// written by this build or found with its size (<see cref="TryReuse"/>).</summary>
        private readonly Dictionary<string, ImageManifest> _built = new(StringComparer.Ordinal);

        /// <summary><c>temp</c> is the output layout itself (a rebuild over it): blobs already there count as reused, and
        /// the layer map is saved before the index switch, so a build cancelled after it still finds its layers.</summary>
        public bool InPlace { get; init; }

        public Action SaveLayerMap { get; init; } = () => { };

        /// <summary>In place: the blobs this build found already there (each counted once).</summary>
        private readonly HashSet<string> _found = new(StringComparer.Ordinal);

        /// <summary>The last build's rootfs gzip members, to copy instead of compressing the same bytes again (null: none,
        /// or made by another compressor).</summary>
        private readonly PreviousMembers? _previousMembers = layerMap.RootfsCompressor == GzipMembers.Compressor && layerMap.RootfsMembers.Count > 0
            ? new PreviousMembers(layerMap.RootfsMembers, d => temp.HasBlob(d) ? temp.BlobPath(d) : previous?.HasBlob(d) == true ? previous.BlobPath(d) : null)
            : null;

        /// <summary>This build's rootfs layers' members, for the layer map (replacing the last build's).</summary>
        private readonly Dictionary<string, List<GzipMemberEntry>> _rootfsMembers = new(StringComparer.Ordinal);

        /// <summary>This build's rootfs layers, by stamp (<see cref="RootfsLayers"/>), for the layer map.</summary>
        private readonly Dictionary<string, RootfsLayerEntry> _rootfsLayers = new(StringComparer.Ordinal);

        public async Task<ClusterImageResult> RunAsync(List<RootfsEntry> rootfs, CancellationToken cancellationToken)
        {
            List<RootfsLayer>? shared = null;
            var manifests = new SortedDictionary<string, Descriptor>(StringComparer.Ordinal);
            var perPlatform = new List<Descriptor>();
            foreach (var platform in spec.Platforms)
            {
                // Platform-specific files (a Kubefile's COPY ${ARCH}/..., a SealerFile with Platform) give that platform its own
                // rootfs layer (the common files plus its own); the other platforms share one.
                var rootfsLayers = spec.PlatformRootfsFiles.TryGetValue(platform.ToString(), out var extra) && extra.Count > 0
                    ? await WriteRootfsLayersAsync(NormalizeRootfs([.. rootfs, .. extra]), cancellationToken).ConfigureAwait(false)
                    : shared ??= await WriteRootfsLayersAsync(rootfs, cancellationToken).ConfigureAwait(false);
                var manifest = await BuildPlatformAsync(platform, rootfsLayers, cancellationToken).ConfigureAwait(false);
                manifests[platform.ToString()] = manifest;
                perPlatform.Add(manifest);
            }

            Descriptor top;
            if (perPlatform.Count == 1)
            {
                top = perPlatform[0];
            }
            else
            {
                var index = new ImageIndex
                {
                    SchemaVersion = 2,
                    MediaType = MediaTypes.OciIndex,
                    Manifests = perPlatform,
                };
                top = Put(OciJsonContext.ToBytes(index, OciJsonContext.Default.ImageIndex), MediaTypes.OciIndex);
            }
            var entry = top with { Annotations = new Dictionary<string, string> { [Annotations.RefName] = spec.RefName } };
            layerMap.RootfsCompressor = GzipMembers.Compressor;
            layerMap.RootfsMembers = _rootfsMembers;
            layerMap.RootfsLayers = _rootfsLayers;
            if (InPlace)
            {
                cancellationToken.ThrowIfCancellationRequested();
                SaveLayerMap();
            }
            temp.UpdateIndex(_ => [entry]); // in place: the switch
            return new ClusterImageResult { Descriptor = top, Manifests = manifests, LayoutPath = temp.Root, TotalBytes = _bytes, BuiltManifests = _built };
        }

        private Descriptor Put(byte[] data, string mediaType)
        {
            var d = temp.WriteBlob(data, mediaType);
            _bytes += data.Length;
            return d;
        }

        /// <summary>Makes the blob present in the layout being written: there already (a rebuild in place), or hard-linked from the previous output (a first build into a temp directory). False when it is not there.</summary>
        private bool TryReuse(Digest digest, long size)
        {
            if (temp.HasBlob(digest, size))
            {
                if (InPlace)
                {
                    bool first;
                    lock (_found) first = _found.Add(digest.ToString());
                    if (first)
                    {
                        Interlocked.Increment(ref Reused);
                        Interlocked.Add(ref _bytes, size);
                    }
                }
                return true;
            }
            if (previous is null || !previous.HasBlob(digest, size)) return false;
            NativeLink.LinkOrCopy(previous.BlobPath(digest), temp.BlobPath(digest));
            Interlocked.Increment(ref Reused);
            Interlocked.Add(ref _bytes, size);
            return true;
        }

        /// <summary>Streams a layer whose digest is only known at the end: into ingest/, hashed, then renamed into blobs/.
        /// Positional writes through one handle, hashed as they go (<see cref="FileAppendStream"/> with a hash); an image
        /// blob's bytes come straight from its cache file in 1 MiB chunks, each read, hashed and written once
        /// (<see cref="FileRegionStream"/> → <see cref="FileRangeCopy.CopyHashed"/>): no stream layers, no small writes.</summary>
        /// <param name="writeTar">Writes the tar to the stream it is given; with <paramref name="gzip"/>, the action it is given
        /// ends a gzip member there (<see cref="GzipMembers.Cut"/>; the tar's end is in the last member).</param>
        private async Task<WrittenLayer> WriteLayerAsync(string mediaType, bool gzip, Func<Stream, Action, Task> writeTar, CancellationToken cancellationToken, string? what = null)
        {
            string tmp = Path.Combine(temp.Root, "ingest", $"{Guid.NewGuid():N}.layer");
            Digest digest, diffId;
            long size;
            GzipMembers? members = null;
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            using (var handle = File.OpenHandle(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                using var file = new FileAppendStream(handle, 0, hash);
                if (gzip)
                {
                    members = new GzipMembers(file, _previousMembers, Path.GetDirectoryName(tmp)!, cancellationToken);
                    using (members)
                    using (var inner = new HashingWriteStream(members, leaveOpen: true))
                    {
                        await writeTar(inner, members.Cut).ConfigureAwait(false);
                        members.Cut();
                        diffId = inner.GetDigest();
                    }
                }
                else
                {
                    await writeTar(file, () => { }).ConfigureAwait(false);
                    diffId = default;
                }
                cancellationToken.ThrowIfCancellationRequested();
                file.Flush();
                digest = Digest.FromHash("sha256", hash.GetCurrentHash());
                size = file.Length;
                if (!gzip) diffId = digest;
            }
            string final = temp.BlobPath(digest);
            if (File.Exists(final)) File.Delete(tmp);
            else AtomicFile.Replace(tmp, final);
            if (members is not null)
            {
                lock (_rootfsMembers) _rootfsMembers[digest.ToString()] = [.. members.Members];
                logger.LogDebug("Rootfs layer {Digest} ({What}): {Members} gzip members, {Reused} copied from the last build, {Compressed} compressed", digest, what, members.Reused + members.Compressed, members.Reused, members.Compressed);
            }
            Interlocked.Increment(ref Written);
            Interlocked.Add(ref _bytes, size);
            return new WrittenLayer(new Descriptor { MediaType = mediaType, Digest = digest.ToString(), Size = size }, diffId);
        }

        /// <summary>SEA1311 (a warning): a shell script with CRLF line endings does not run on the hosts.</summary>
        private void WarnIfCrlfScript(RootfsEntry e) => WarnIfCrlf(e, ScriptLineEndings.Check(e));

        private void WarnIfCrlfScript(RootfsEntry e, ReadOnlySpan<byte> head) => WarnIfCrlf(e, ScriptLineEndings.Check(e.Destination, head));

        private void WarnIfCrlf(RootfsEntry e, int line)
        {
            if (line == 0) return;
            string file = e.SourcePath ?? e.Destination;
            logger.LogWarning("{Code}: {File}({Line}): the script going to {Destination} in the cluster image has CRLF (Windows) line endings; bash on the hosts cannot run it ($'\\r': command not found). Convert it to LF (with git: '*.sh text eol=lf' in .gitattributes).",
                ErrorCodes.ScriptHasCrlf, file, line, e.Destination);
        }

        /// <summary>The project's rootfs layers (<see cref="RootfsLayers"/>): a layer per big group, then the shared ones, each
        /// taken from the last build when its stamp is the same, else written.</summary>
        private async Task<List<RootfsLayer>> WriteRootfsLayersAsync(List<RootfsEntry> rootfs, CancellationToken cancellationToken)
        {
            progress?.Report(new AssemblyProgress("rootfs", null, 0));
            var modes = new RootfsFileModes();
            var layers = new List<RootfsLayer>();
            foreach (var part in RootfsLayers.Split(rootfs))
            {
                cancellationToken.ThrowIfCancellationRequested();
                bool[] executable = RootfsLayers.Executable(part, modes);
                string? stamp = RootfsLayers.Stamp(part, executable, spec.SourceDateEpoch);
                if (stamp is not null && TryTakeLayer(stamp, part) is { } taken)
                {
                    layers.Add(taken);
                    continue;
                }
                var (layer, diffId) = await WriteRootfsLayerAsync(part, executable, cancellationToken).ConfigureAwait(false);
                if (stamp is not null) lock (_rootfsLayers) _rootfsLayers[stamp] = new RootfsLayerEntry { Digest = layer.Digest, Size = layer.Size, DiffId = diffId.ToString(), Group = part.Name };
                layers.Add(new RootfsLayer(layer, diffId, part));
            }
            return layers;
        }

        /// <summary>A rootfs layer whose stamp this build or the last one made, when its blob is there: taken as it is (its
        /// gzip members kept in the layer map for the next build). Its scripts are still checked for CRLF by name.</summary>
        private RootfsLayer? TryTakeLayer(string stamp, RootfsLayers.Part part)
        {
            RootfsLayerEntry? entry;
            lock (_rootfsLayers)
            {
                if (!_rootfsLayers.TryGetValue(stamp, out entry)) layerMap.RootfsLayers.TryGetValue(stamp, out entry);
            }
            if (entry is null || !Digest.TryParse(entry.Digest, out var digest) || !Digest.TryParse(entry.DiffId, out var diffId) || !TryReuse(digest, entry.Size)) return null;
            lock (_rootfsLayers) _rootfsLayers[stamp] = entry;
            lock (_rootfsMembers)
            {
                if (!_rootfsMembers.ContainsKey(entry.Digest) && layerMap.RootfsMembers.TryGetValue(entry.Digest, out var members)) _rootfsMembers[entry.Digest] = members;
            }
            foreach (var e in part.Entries)
            {
                if (ScriptLineEndings.IsScriptName(e.Destination)) WarnIfCrlfScript(e);
            }
            logger.LogDebug("Rootfs layer {Digest} ({Group}, {Files} files, {Bytes} bytes): its files' sizes and times are the last build's, taken as it is", entry.Digest, part.Name, part.Entries.Count, part.Bytes);
            var layer = new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = entry.Digest, Size = entry.Size };
            return new RootfsLayer(RootfsDescriptor(layer, part), diffId, part);
        }

        private static Descriptor RootfsDescriptor(Descriptor layer, RootfsLayers.Part part)
        {
            var annotations = new Dictionary<string, string> { [ClusterImageFormat.LayerKindAnnotation] = ClusterImageFormat.LayerKindRootfs };
            if (part.Group is { } group) annotations[ClusterImageFormat.RootfsGroupAnnotation] = group;
            else if (part.Slots > 1) annotations[ClusterImageFormat.RootfsPartAnnotation] = $"{part.Slot + 1}/{part.Slots}";
            return layer with { Annotations = annotations };
        }

        /// <summary>One rootfs layer: a shared one cuts a gzip member per group, a layer of its own one per big file
        /// (<see cref="RootfsLayers.OwnMemberBytes"/>) and one per run of small files between them.</summary>
        private async Task<WrittenLayer> WriteRootfsLayerAsync(RootfsLayers.Part part, bool[] executable, CancellationToken cancellationToken)
        {
            var (layer, diffId) = await WriteLayerAsync(MediaTypes.OciLayerGzip, gzip: true, async (stream, cut) =>
            {
                using var tar = new DeterministicTar(stream, spec.SourceDateEpoch);
                string? group = null;
                for (int i = 0; i < part.Entries.Count; i++)
                {
                    var e = part.Entries[i];
                    cancellationToken.ThrowIfCancellationRequested();
                    // One gzip member per group (a chart with its subcharts) in a shared layer, per big file in a layer of
                    // its own: an unchanged member is copied from the last build's layer; its parent directories' entries
                    // open it.
                    bool alone = part.Group is not null && part.Stats[i].Size >= RootfsLayers.OwnMemberBytes;
                    string g = part.Group is null ? GzipMembers.GroupOf(e.Destination) : alone ? e.Destination : "";
                    if (group is not null && g != group) cut();
                    group = g;
                    tar.AddParents(e.Destination);
                    if (e.Content is not null)
                    {
                        using var ms = new MemoryStream(e.Content, writable: false);
                        WarnIfCrlfScript(e);
                        tar.AddFile(e.Destination, ms, e.Executable ?? false);
                    }
                    else
                    {
                        FileStream f;
                        try
                        {
                            // Unbuffered: the reads below are whole files or the tar's own big chunks (no 64 KiB buffer per file).
                            f = new FileStream(e.SourcePath!, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
                        }
                        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
                        {
                            throw new SealerException(ErrorCodes.InputFileMissing, $"'{e.SourcePath}' (for rootfs path {e.Destination}) does not exist. Fix the item's path.", e.OriginFile, e.OriginLine, inner: ex);
                        }
                        using (f)
                        {
                            // The CRLF check reads the file's start through the same handle (not a second open per file).
                            // A file no longer than what the check reads (nearly every file of a chart) is read once, into
                            // a pooled buffer the tar then takes; a longer one is read again from the start by the tar.
                            // The tar gets the same bytes either way, so the layer (and the image digest) is the same.
                            long length = f.Length;
                            int headLength = (int)Math.Min(length, ScriptLineEndings.CheckedBytes);
                            byte[] head = ArrayPool<byte>.Shared.Rent(headLength);
                            try
                            {
                                f.ReadExactly(head, 0, headLength);
                                WarnIfCrlfScript(e, head.AsSpan(0, headLength));
                                if (headLength == length)
                                {
                                    using var whole = new MemoryStream(head, 0, headLength, writable: false);
                                    tar.AddFile(e.Destination, whole, executable[i]);
                                }
                                else
                                {
                                    f.Position = 0;
                                    tar.AddFile(e.Destination, f, executable[i]);
                                }
                            }
                            finally
                            {
                                ArrayPool<byte>.Shared.Return(head);
                            }
                        }
                    }
                    if (alone && i < part.Entries.Count - 1) cut(); // the last one's member ends with the tar's end
                }
            }, cancellationToken, part.Name).ConfigureAwait(false);
            return new WrittenLayer(RootfsDescriptor(layer, part), diffId);
        }

        private async Task<Descriptor> BuildPlatformAsync(Platform platform, List<RootfsLayer> rootfsLayers, CancellationToken cancellationToken)
        {
            var layers = new List<Descriptor>();
            var diffIds = new List<string>();
            var history = new List<HistoryEntry>();
            var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
            var env = new List<KeyValuePair<string, string>>();
            var registryIndex = new SortedDictionary<string, Descriptor>(StringComparer.Ordinal);
            var metadata = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
            Func<IReadOnlyList<Descriptor>>? baseRegistryIndex = null;
            var baseLayerDigests = new HashSet<string>(StringComparer.Ordinal);
            IReadOnlySet<string> baseBlobs = new HashSet<string>(StringComparer.Ordinal);
            SealerImageExtension? baseExtension = null;
            Descriptor? baseManifestDescriptor = null;

            // 1. FROM: the base image's layers, unchanged.
            if (spec.BaseImage is { } baseImage)
            {
                var reader = ClusterImageReader.Open(baseImage.Layout, baseImage.Descriptor, baseImage.Reference);
                var baseManifest = reader.ManifestFor(platform)
                    ?? throw new SealerException(ErrorCodes.BaseImagePlatformMissing, $"The base image {baseImage.Reference} has no {platform} manifest. Build for the platforms it has, or pull it for {platform}.");
                baseManifestDescriptor = baseManifest.ManifestDescriptor;
                var baseConfig = baseManifest.Config;
                for (int i = 0; i < baseManifest.Manifest.Layers.Count; i++)
                {
                    var l = baseManifest.Manifest.Layers[i];
                    var d = l.ParsedDigest;
                    if (!TryReuse(d, l.Size))
                    {
                        if (!baseImage.Layout.HasBlob(d, l.Size)) throw new SealerException(ErrorCodes.BlobNotFound, $"Layer {d} of base image {baseImage.Reference} is missing from '{baseImage.Layout.Root}'. Pull the base image again.");
                        NativeLink.LinkOrCopy(baseImage.Layout.BlobPath(d), temp.BlobPath(d));
                        _bytes += l.Size;
                    }
                    layers.Add(l);
                    baseLayerDigests.Add(l.Digest);
                }
                diffIds.AddRange(baseConfig.RootFs.DiffIds);
                if (baseConfig.History is not null) history.AddRange(baseConfig.History);
                foreach (var kv in baseConfig.Config?.Labels ?? new Dictionary<string, string>()) labels[kv.Key] = kv.Value;
                foreach (var e in baseConfig.Config?.Env ?? []) env.Add(SplitEnv(e));
                baseRegistryIndex = () => reader.RegistryIndex(baseManifest);
                baseExtension = baseManifest.Extension;
                baseBlobs = BaseImageContent.CarriedBlobs(baseManifest.Manifest);
            }

            // 2. The project's rootfs: its big folders' layers, then the rest.
            foreach (var rootfsLayer in rootfsLayers)
            {
                layers.Add(rootfsLayer.Layer);
                diffIds.Add(rootfsLayer.DiffId.ToString());
                var rootfsPart = rootfsLayer.Part;
                history.Add(new HistoryEntry
                {
                    CreatedBy = rootfsPart.Group is { } group
                        ? $"sealer-sdk: rootfs {group}/ (a layer of its own: {RootfsLayers.OwnLayerBytes >> 20} MiB or more)"
                        : rootfsPart.Slots == 1
                            ? "sealer-sdk: rootfs (charts, manifests, apps, files, images.lock.json)"
                            : $"sealer-sdk: rootfs (charts, manifests, apps, files, images.lock.json: part {rootfsPart.Slot + 1} of {rootfsPart.Slots}, by name)",
                });
            }

            // 3. One layer per app image blob; 4. the registry metadata layer. The same images on the same base as the last
            // build (a chart or file edit): which blobs and the registry layer come from the layer map, when the previous
            // output still holds that layer; no image's manifests are read again.
            string partKey = ImagePartKey(platform, baseManifestDescriptor);
            ImagePartEntry? part;
            lock (layerMap) layerMap.ImageParts.TryGetValue(platform.ToString(), out part);
            SortedDictionary<string, long> blobs;
            WrittenLayer? registryLayer = null;
            int registryCount;
            if (part is not null && part.Key == partKey && Digest.TryParse(part.Registry.Digest, out var partRegistry) && TryReuse(partRegistry, part.Registry.Size))
            {
                blobs = new SortedDictionary<string, long>(part.Blobs, StringComparer.Ordinal);
                registryLayer = new WrittenLayer(RegistryLayerDescriptor(new Descriptor { MediaType = MediaTypes.OciLayer, Digest = part.Registry.Digest, Size = part.Registry.Size }), partRegistry);
                registryCount = part.Images;
            }
            else
            {
                blobs = new SortedDictionary<string, long>(StringComparer.Ordinal);
                foreach (var img in baseRegistryIndex?.Invoke() ?? []) registryIndex[img.GetAnnotation(Annotations.RefName)!] = img;
                foreach (var image in spec.Images.OrderBy(i => i.Reference, StringComparer.Ordinal))
                {
                    if (image.FromBase)
                    {
                        // The base carries it: its blobs, manifests and registry entry are in the base's layers already.
                        if (!registryIndex.TryGetValue(image.Reference, out var carried) || carried.Digest != image.Digest.ToString())
                        {
                            throw new SealerException(ErrorCodes.ImageNotInCache,
                                $"Image {image.Reference} ({image.Digest}) was taken from the base image {spec.BaseImage?.Reference ?? "(none)"}, which does not carry it (any more). Rebuild (dotnet build --no-incremental) so it is pulled.");
                        }
                        continue;
                    }
                    var top = CollectImage(image, platform, metadata, blobs);
                    registryIndex[image.Reference] = top;
                }
                registryCount = registryIndex.Count;
            }
            // A base image-blob layer holds some: neither written nor added again. The others are written DedicatedWorkers.FileCopiers
            // at a time (each is read, hashed and written on its own thread: one core hashes while the other copies) and
            // added in digest order, so the image is the same whatever finishes first.
            var todo = blobs.Where(b => !baseBlobs.Contains(b.Key)).ToList();
            var written = new WrittenLayer[todo.Count];
            int n = 0;
            long bytesTotal = blobs.Sum(b => b.Value), bytesDone = bytesTotal - todo.Sum(b => b.Value);
            // On threads of their own (DedicatedWorkers): each blocks in file I/O while it copies, and pool threads taken that
            // way kept MSBuild's cancellation waiting for seconds.
            await DedicatedWorkers.RunAsync(Math.Min(DedicatedWorkers.FileCopiers, todo.Count), todo.Count, (next, ct) =>
            {
                for (int i = next(); i >= 0; i = next())
                {
                    ct.ThrowIfCancellationRequested();
                    var (digest, size) = todo[i];
                    written[i] = ImageBlobLayerAsync(Digest.Parse(digest), size, ct).GetAwaiter().GetResult();
                    long done = Interlocked.Add(ref bytesDone, size);
                    progress?.Report(new AssemblyProgress("images", $"{Interlocked.Increment(ref n)}/{blobs.Count} ({platform})", done, bytesTotal));
                }
            }, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < todo.Count; i++)
            {
                var layer = written[i];
                if (baseLayerDigests.Contains(layer.Layer.Digest)) continue; // FROM already carries it
                layers.Add(layer.Layer);
                diffIds.Add(layer.DiffId.ToString());
                history.Add(new HistoryEntry { CreatedBy = $"sealer-sdk: image blob {todo[i].Key}" });
            }
            if (registryLayer is null)
            {
                registryLayer = await RegistryLayerAsync(registryIndex, metadata, cancellationToken).ConfigureAwait(false);
                var entry = new ImagePartEntry
                {
                    Key = partKey,
                    Blobs = new Dictionary<string, long>(blobs, StringComparer.Ordinal),
                    Registry = new LayerMapEntry { Digest = registryLayer.Layer.Digest, Size = registryLayer.Layer.Size },
                    Images = registryCount,
                };
                lock (layerMap) layerMap.ImageParts[platform.ToString()] = entry;
            }
            layers.Add(registryLayer.Layer);
            diffIds.Add(registryLayer.DiffId.ToString());
            history.Add(new HistoryEntry { CreatedBy = $"sealer-sdk: registry index ({registryCount} images)" });

            // Config.
            foreach (var kv in spec.Labels) labels[kv.Key] = kv.Value;
            foreach (var kv in spec.Env)
            {
                env.RemoveAll(e => e.Key == kv.Key);
                env.Add(kv);
            }
            var config = new ImageConfig
            {
                Architecture = platform.Architecture,
                Os = platform.Os,
                Variant = platform.Variant,
                Config = new ImageRuntimeConfig
                {
                    Env = env.Count == 0 ? null : env.Select(e => $"{e.Key}={e.Value}").ToList(),
                    Labels = labels.Count == 0 ? null : new Dictionary<string, string>(labels, StringComparer.Ordinal),
                },
                RootFs = new RootFs { DiffIds = diffIds },
                History = history,
            };
            var configDescriptor = Put(OciJsonContext.ToBytes(config, OciJsonContext.Default.ImageConfig), MediaTypes.OciConfig);

            var annotations = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                [ClusterImageFormat.ExtensionAnnotation] = ClusterImageFormat.WriteExtension(BuildExtension(labels, env, baseExtension)),
            };
            if (spec.BaseImage is not null && baseManifestDescriptor is not null)
            {
                annotations[Annotations.BaseName] = spec.BaseImage.Reference;
                annotations[Annotations.BaseDigest] = baseManifestDescriptor.Digest;
            }
            var manifest = new ImageManifest
            {
                SchemaVersion = 2,
                MediaType = MediaTypes.OciManifest,
                Config = configDescriptor,
                Layers = layers,
                Annotations = new Dictionary<string, string>(annotations, StringComparer.Ordinal),
            };
            var md = Put(OciJsonContext.ToBytes(manifest, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest);
            _built[md.Digest] = manifest;
            return md with { Platform = platform };
        }

        private SealerImageExtension BuildExtension(IReadOnlyDictionary<string, string> labels, List<KeyValuePair<string, string>> env, SealerImageExtension? baseExtension)
        {
            var apps = new SortedDictionary<string, SealerApplication>(StringComparer.Ordinal);
            foreach (var a in baseExtension?.Applications ?? []) apps[a.Name] = a;
            foreach (var a in spec.Apps)
            {
                apps[a.Name] = new SealerApplication
                {
                    Name = a.Name,
                    Type = a.Type,
                    LaunchFiles = a.LaunchFiles.Count == 0 ? null : a.LaunchFiles,
                    Files = a.LaunchFiles.Count == 0 ? null : a.LaunchFiles,
                    Version = string.IsNullOrEmpty(a.Version) ? null : a.Version,
                    Cmds = a.Cmds.Count == 0 ? null : a.Cmds,
                    Env = a.Env.Count == 0 ? null : a.Env.ToDictionary(k => k.Key, k => k.Value, StringComparer.Ordinal),
                };
            }
            if (spec.BaseImage is not null)
            {
                foreach (var name in spec.Launch)
                {
                    if (!apps.ContainsKey(name))
                    {
                        throw new SealerException(ErrorCodes.UnknownApp, $"SealerLaunch names app '{name}', which neither a SealerApp item nor the base image {spec.BaseImage.Reference} defines.");
                    }
                }
            }
            var launch = spec.Launch.Count > 0 ? new SealerLaunch { AppNames = spec.Launch }
                : spec.Cmds.Count > 0 ? new SealerLaunch { Cmds = spec.Cmds }
                : baseExtension?.Launch ?? new SealerLaunch();
            // FROM keeps the base's type: an image built on a kube-installer base still installs the cluster (Sealer's
            // `sealer build` defaults to kube-installer too); app-installer only when asked for or when the base is one.
            string type = spec.ImageType
                ?? (string.IsNullOrEmpty(baseExtension?.Type)
                    ? (labels.ContainsKey(ClusterImageLabels.ClusterRuntimeType) ? SealerImageExtension.KubeInstaller : SealerImageExtension.AppInstaller)
                    : baseExtension.Type);
            return new SealerImageExtension
            {
                BuildClient = new BuildClientInfo { SealerVersion = "v" + spec.BuilderVersion, BuildahVersion = "", Builder = "Sealer.Sdk/" + spec.BuilderVersion },
                Type = type,
                Applications = apps.Count == 0 ? null : apps.Values.ToList(),
                Launch = launch,
                Env = env.Count == 0 ? null : env.GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal),
            };
        }

        private static KeyValuePair<string, string> SplitEnv(string e)
        {
            int eq = e.IndexOf('=');
            return eq < 0 ? new(e, "") : new(e[..eq], e[(eq + 1)..]);
        }

        /// <summary>Walks one cached image for <paramref name="platform"/>: its index/manifest/config bytes go to
        /// <paramref name="metadata"/>, its layer blobs to <paramref name="blobs"/>. Returns its registry index.json entry.</summary>
        private Descriptor CollectImage(ClusterImageContent image, Platform platform, SortedDictionary<string, byte[]> metadata, SortedDictionary<string, long> blobs)
        {
            var cache = spec.ImageCache!;
            if (!cache.HasBlob(image.Digest))
            {
                throw new SealerException(ErrorCodes.ImageNotInCache, $"Image {image.Reference} ({image.Digest}) is not in the image cache '{cache.Root}'. Rebuild (dotnet build --no-incremental) so it is pulled again.");
            }
            byte[] topBytes = cache.ReadBlobBytes(image.Digest);
            metadata[image.Digest.ToString()] = topBytes;
            var top = new Descriptor { MediaType = image.MediaType, Digest = image.Digest.ToString(), Size = topBytes.Length, Annotations = new Dictionary<string, string> { [Annotations.RefName] = image.Reference } };
            var probe = OciJsonContext.FromBytes(topBytes, OciJsonContext.Default.ManifestProbe, $"manifest of {image.Reference}");
            if (MediaTypes.IsIndex(image.MediaType) || (probe.Manifests is not null && probe.Config is null))
            {
                var children = probe.Manifests ?? [];
                var wanted = children.Where(c => platform.Matches(c.Platform) && cache.HasBlob(c)).ToList();
                if (wanted.Count == 0)
                {
                    string have = string.Join(", ", children.Where(c => c.Platform is not null).Select(c => c.Platform!.ToString()).Distinct());
                    throw new SealerException(ErrorCodes.ImagePlatformMissing,
                        children.Any(c => platform.Matches(c.Platform))
                            ? $"Image {image.Reference} has a {platform} manifest but it is not in the image cache. Rebuild (dotnet build --no-incremental) so it is pulled for {platform}."
                            : $"Image {image.Reference} has no {platform} manifest (it has: {have}). Remove {platform} from SealerPlatforms or use another image.");
                }
                // The best match only (one manifest per platform, as a runtime would pull).
                var child = wanted[0];
                CollectManifest(image.Reference, child.ParsedDigest, platform, metadata, blobs, checkPlatform: false);
            }
            else
            {
                CollectManifest(image.Reference, image.Digest, platform, metadata, blobs, checkPlatform: true);
            }
            return top;
        }

        private void CollectManifest(string reference, Digest digest, Platform platform, SortedDictionary<string, byte[]> metadata, SortedDictionary<string, long> blobs, bool checkPlatform)
        {
            var cache = spec.ImageCache!;
            byte[] bytes = cache.ReadBlobBytes(digest);
            metadata[digest.ToString()] = bytes;
            var manifest = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageManifest, $"manifest {digest} of {reference}");
            var configDigest = manifest.Config.ParsedDigest;
            if (!cache.HasBlob(configDigest, manifest.Config.Size))
            {
                throw new SealerException(ErrorCodes.ImageNotInCache, $"The config of image {reference} ({configDigest}) is missing from the image cache. Rebuild (dotnet build --no-incremental) so it is pulled again.");
            }
            byte[] configBytes = cache.ReadBlobBytes(configDigest, OciLimits.MaxConfigBytes);
            metadata[configDigest.ToString()] = configBytes;
            if (checkPlatform && manifest.Config.MediaType is MediaTypes.OciConfig or MediaTypes.DockerConfig)
            {
                var config = OciJsonContext.FromBytes(configBytes, OciJsonContext.Default.ImageConfig, $"config of {reference}");
                var actual = new Platform { Os = config.Os, Architecture = config.Architecture, Variant = config.Variant };
                if (!platform.Matches(actual))
                {
                    throw new SealerException(ErrorCodes.ImagePlatformMissing, $"Image {reference} is a single-platform {actual} image, but the cluster image is built for {platform}. Use a multi-platform tag or remove {platform} from SealerPlatforms.");
                }
            }
            foreach (var layer in manifest.Layers)
            {
                var d = layer.ParsedDigest;
                if (!cache.HasBlob(d, layer.Size))
                {
                    if (layer.Urls is { Count: > 0 }) continue; // a foreign (non-distributable) layer: the runtime fetches it from its URL
                    throw new SealerException(ErrorCodes.ImageNotInCache, $"Layer {d} of image {reference} is missing from the image cache. Rebuild (dotnet build --no-incremental) so it is pulled again.");
                }
                blobs[d.ToString()] = layer.Size;
            }
        }

        /// <summary>The uncompressed tar holding exactly <c>registry/blobs/sha256/&lt;hex&gt;</c>. Re-used when the layer map and the previous output have it.</summary>
        private async Task<WrittenLayer> ImageBlobLayerAsync(Digest blob, long size, CancellationToken cancellationToken)
        {
            var annotations = new Dictionary<string, string> { [ClusterImageFormat.LayerKindAnnotation] = ClusterImageFormat.LayerKindImageBlob, [ClusterImageFormat.LayerBlobAnnotation] = blob.ToString() };
            string key = blob.ToString();
            LayerMapEntry? known;
            lock (layerMap) layerMap.Layers.TryGetValue(key, out known);
            if (known is not null && Digest.TryParse(known.Digest, out var knownDigest) && TryReuse(knownDigest, known.Size))
            {
                return new WrittenLayer(new Descriptor { MediaType = MediaTypes.OciLayer, Digest = known.Digest, Size = known.Size, Annotations = annotations }, knownDigest);
            }
            var cache = spec.ImageCache!;
            var (layer, diffId) = await WriteLayerAsync(MediaTypes.OciLayer, gzip: false, (stream, _) =>
            {
                using var tar = new DeterministicTar(stream, 0);
                using var f = cache.OpenBlobRegion(blob, cancellationToken: cancellationToken); // Ctrl+C within a 1 MiB chunk, not a blob
                tar.AddFile(ClusterImageFormat.RegistryBlobPath(blob), f, executable: false);
                return Task.CompletedTask;
            }, cancellationToken).ConfigureAwait(false);
            lock (layerMap) layerMap.Layers[key] = new LayerMapEntry { Digest = layer.Digest, Size = layer.Size };
            return new WrittenLayer(layer with { Annotations = annotations }, diffId);
        }

        private async Task<WrittenLayer> RegistryLayerAsync(SortedDictionary<string, Descriptor> index, SortedDictionary<string, byte[]> metadata, CancellationToken cancellationToken)
        {
            byte[] ociLayout = OciJsonContext.ToBytes(new OciLayoutFile(), OciJsonContext.Default.OciLayoutFile);
            var indexJson = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = index.Values.ToList() };
            byte[] indexBytes = OciJsonContext.ToBytes(indexJson, OciJsonContext.Default.ImageIndex);
            // The supply-chain list (every image with its digests per platform) that `sealer inspect --images` prefers.
            var files = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [ClusterImageFormat.RegistryIndexPath] = indexBytes };
            foreach (var (digest, bytes) in metadata)
            {
                var d = Digest.Parse(digest);
                files[ClusterImageFormat.RegistryBlobPath(d)] = bytes;
            }
            byte[] imageList = ClusterImageFormat.CreateImageList(files);
            var (layer, diffId) = await WriteLayerAsync(MediaTypes.OciLayer, gzip: false, (stream, _) =>
            {
                using var tar = new DeterministicTar(stream, 0);
                tar.AddDirectory("registry");
                tar.AddFile(ClusterImageFormat.ImageListPath, new MemoryStream(imageList), false);
                tar.AddFile(ClusterImageFormat.RegistryIndexPath, new MemoryStream(indexBytes), false);
                tar.AddFile(ClusterImageFormat.RegistryOciLayoutPath, new MemoryStream(ociLayout), false);
                tar.AddDirectory("registry/blobs");
                tar.AddDirectory("registry/blobs/sha256");
                foreach (var (digest, bytes) in metadata)
                {
                    var d = Digest.Parse(digest);
                    tar.AddFile(ClusterImageFormat.RegistryBlobPath(d), new MemoryStream(bytes), false);
                }
                return Task.CompletedTask;
            }, cancellationToken).ConfigureAwait(false);
            return new WrittenLayer(RegistryLayerDescriptor(layer), diffId);
        }

        private static Descriptor RegistryLayerDescriptor(Descriptor layer)
            => layer with { Annotations = new Dictionary<string, string> { [ClusterImageFormat.LayerKindAnnotation] = ClusterImageFormat.LayerKindRegistry } };

        /// <summary>What the images' part of one platform is made from (<see cref="ImagePartEntry.Key"/>): the cache is
        /// content-addressed, so the same images by digest on the same base give the same blobs and registry layer. The
        /// version is bumped whenever what the registry layer holds or how it is written changes.</summary>
        private string ImagePartKey(Platform platform, Descriptor? baseManifest)
        {
            var sb = new StringBuilder("image-part/1\n");
            sb.Append(platform).Append('\n').Append(baseManifest?.Digest ?? "scratch").Append('\n');
            foreach (var image in spec.Images.OrderBy(i => i.Reference, StringComparer.Ordinal))
            {
                sb.Append(image.Reference).Append('\t').Append(image.Digest).Append('\t').Append(image.MediaType).Append('\t').Append(image.FromBase ? '1' : '0').Append('\n');
            }
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
        }
    }
}
