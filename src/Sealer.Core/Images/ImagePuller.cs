using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.IO;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Images;

/// <summary>
/// Pulls images into the cache (an <see cref="OciLayout"/>): resolves each reference (or takes it from the lock), selects
/// the wanted platforms from an index, downloads configs and layers with bounded concurrency across all images (a blob
/// shared by several images is fetched once), then writes manifests and the index.json entry under the full reference.
/// When the lock has an image and the cache has all its content, nothing goes over the network.
/// </summary>
public sealed class ImagePuller
{
    private readonly OciLayout _cache;
    private readonly RegistryClient? _client;
    private readonly ILogger? _logger;

    /// <param name="cache">The cache layout (see <see cref="ImageCache.Open"/>).</param>
    /// <param name="client">Shared client; when null, each pull makes one from <see cref="PullOptions.Registry"/>.</param>
    public ImagePuller(OciLayout cache, RegistryClient? client = null, ILogger? logger = null)
    {
        _cache = cache;
        _client = client;
        _logger = logger;
    }

    public async Task<PullResult> PullAsync(IReadOnlyList<ImageRequest> images, PullOptions options, IProgress<PullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.Platforms.Count == 0) throw new ArgumentException("at least one platform is needed", nameof(options));
        var client = _client ?? new RegistryClient(options.Registry, _logger);
        try
        {
            long requests0 = client.RequestCount, bytes0 = client.BytesReceived;
            // A full disk stops the whole pull: every other image would download until it met the same full disk.
            using var diskFull = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var run = new Run(this, client, options, progress, diskFull.Token) { OnDiskFull = diskFull.Cancel };
            var groups = images
                .GroupBy(i => i.Reference.ToString(), StringComparer.Ordinal)
                .Select(g => (Reference: g.First().Reference, Sources: (IReadOnlyList<ImageSource>)g.SelectMany(x => x.Sources).Distinct().ToList()))
                .ToList();
            run.ImagesTotal = groups.Count;
            foreach (var g in groups)
            {
                // Only the images whose manifest is not in the cache yet cost a pull (as Docker Hub counts them).
                string? known = run.KnownDigest(g.Reference, options.Lock?.Find(g.Reference.ToString()));
                if (known is null || !Digest.TryParse(known, out var d) || !_cache.HasBlob(d)) run.ToResolve.AddOrUpdate(g.Reference.Domain, 1, (_, n) => n + 1);
            }
            // Started registry by registry in turn (results stay in the images' order): the first images in flight reach every
            // registry at once, spreading the load over them, and a registry that is down is found down (and held so:
            // RegistryOptions.UnreachableHold) in the first round, not after every image of the registries before it.
            var tasks = new Task<(LockedImage Locked, Descriptor Descriptor)>[groups.Count];
            foreach (int i in RegistryByRegistry(groups.Select(g => g.Reference.Domain).ToList())) tasks[i] = run.PullOneAsync(groups[i].Reference, groups[i].Sources);
            try
            {
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // reported below, image by image (or the cancellation)
            }
            // The images that completed, also when others failed or the pull was cancelled. On a full disk this write can fail
            // too: reported with the images' errors (the images it names are in the cache by digest; the lock finds them).
            SealerException? refsError = null;
            try
            {
                run.WriteRefs();
            }
            catch (SealerException e) when (e.Code == ErrorCodes.DiskWriteFailed)
            {
                refsError = e;
            }
            cancellationToken.ThrowIfCancellationRequested();
            var errors = new List<SealerException>();
            var stopped = new List<int>(); // images a full disk stopped before they completed
            for (int i = 0; i < tasks.Length; i++)
            {
                if (!tasks[i].IsFaulted && !tasks[i].IsCanceled) continue;
                var ex = tasks[i].IsCanceled ? new OperationCanceledException() : tasks[i].Exception!.InnerException!;
                if (ex is SealerException se) errors.Add(se);
                else if (ex is OperationCanceledException && diskFull.IsCancellationRequested) stopped.Add(i);
                else if (ex is OperationCanceledException) throw ex;
                // A full disk can surface anywhere a write is flushed (FileStream flush or dispose, rename), not only
                // where BlobIngest writes: map it here, once, for every path.
                else if (ex is IOException io && AtomicFile.IsDiskFull(io))
                {
                    // Located like every other per-image error (where the project uses the image), however it surfaced.
                    var at = groups[i].Sources.FirstOrDefault();
                    errors.Add(new SealerException(ErrorCodes.DiskWriteFailed,
                        $"The disk is full while pulling {groups[i].Reference} into '{_cache.Root}'. Free some space and run again; downloads resume.", at?.File, at?.Line ?? 0, inner: io));
                }
                else errors.Add(new SealerException(ErrorCodes.Internal, $"Pulling images failed unexpectedly: {ex.GetType().Name}: {ex.Message}", inner: ex));
            }
            if (stopped.Count > 0)
            {
                var names = stopped.Select(i => groups[i].Reference.ToString()).ToList();
                string shown = Listed(names);
                var at = groups[stopped[0]].Sources.FirstOrDefault();
                errors.Add(new SealerException(ErrorCodes.DiskWriteFailed,
                    $"{names.Count} image{(names.Count == 1 ? " was" : "s were")} not pulled: the disk under '{_cache.Root}' filled up first ({shown}). Free some space and run again; downloads resume.", at?.File, at?.Line ?? 0));
            }
            if (refsError is not null) errors.Add(refsError);
            if (errors.Count > 0) throw new ImagePullException(CollapseHeld(errors));
            run.Report(force: true);
            var locked = tasks.Select(t => t.Result).ToList();
            return new PullResult
            {
                Lock = new ImagesLock(locked.Select(l => l.Locked)),
                Images = locked.ToDictionary(l => l.Locked.Reference, l => l.Descriptor, StringComparer.Ordinal),
                NetworkRequests = client.RequestCount - requests0,
                BytesDownloaded = client.BytesReceived - bytes0,
                BlobsDownloaded = run.BlobsDownloaded,
                BlobsCached = run.BlobsCached,
                BlobsLocal = run.BlobsLocal,
            };
        }
        finally
        {
            if (_client is null) client.Dispose();
        }
    }

    /// <summary>
    /// The errors of a pull, with those of images not tried because their registry was held (it refused, did not answer or
    /// answered unavailable to an earlier image's request through all its attempts, or rate-limited it until a reset no retry
    /// could wait for) reported
    /// once per endpoint: the errors of the images that
    /// found it down stay as they are, the rest become one error that lists them. 600 images of a registry that is down
    /// are a few errors, not 600 (each twice in MSBuild's summary).
    /// </summary>
    internal static List<SealerException> CollapseHeld(List<SealerException> errors)
    {
        var result = new List<SealerException>();
        var held = new Dictionary<string, List<SealerException>>(StringComparer.Ordinal);
        var endpoints = new List<string>();
        foreach (var e in errors)
        {
            var h = RegistryClient.HostHeldException.In(e);
            if (h is null)
            {
                result.Add(e);
                continue;
            }
            if (!held.TryGetValue(h.Endpoint, out var list))
            {
                held[h.Endpoint] = list = [];
                endpoints.Add(h.Endpoint);
            }
            list.Add(e);
        }
        // After the errors of the images that found the hosts down: one per host for the images it stopped.
        foreach (string endpoint in endpoints)
        {
            var list = held[endpoint];
            var h = RegistryClient.HostHeldException.In(list[0])!;
            if (list.Count == 1)
            {
                result.Add(list[0]);
                continue;
            }
            var names = list.Select(e => RegistryClient.HostHeldException.In(e)!.Image).ToList();
            string shown = Listed(names);
            result.Add(new SealerException(h.Code,
                $"{list.Count} images were not tried at {endpoint}: it {h.Failed} {h.FoundBy} moments before ({h.Detail}): {shown}. {h.Hint}",
                list[0].File, list[0].Line, list[0].Column, inner: list[0]));
        }
        return result;
    }

    /// <summary>Image names for a one-error summary: the first ten, then how many more.</summary>
    private static string Listed(List<string> names)
        => string.Join(", ", names.Take(10)) + (names.Count > 10 ? $", ... ({names.Count - 10} more)" : "");

    /// <summary>The indexes of <paramref name="domains"/> taking one of each registry in turn (registries in the order they
    /// first appear, each one's images in their order): a, a, b, c, c → a, b, c, a, c.</summary>
    internal static List<int> RegistryByRegistry(IReadOnlyList<string> domains)
    {
        var queues = new Dictionary<string, Queue<int>>(StringComparer.OrdinalIgnoreCase);
        var order = new List<Queue<int>>();
        for (int i = 0; i < domains.Count; i++)
        {
            if (!queues.TryGetValue(domains[i], out var q))
            {
                queues[domains[i]] = q = new Queue<int>();
                order.Add(q);
            }
            q.Enqueue(i);
        }
        var result = new List<int>(domains.Count);
        while (result.Count < domains.Count)
        {
            foreach (var q in order)
            {
                if (q.TryDequeue(out int i)) result.Add(i);
            }
        }
        return result;
    }

    /// <summary>State of one <see cref="PullAsync"/> call.</summary>
    private sealed class Run(ImagePuller owner, RegistryClient client, PullOptions options, IProgress<PullProgress>? progress, CancellationToken cancellationToken)
    {
        private readonly OciLayout _cache = owner._cache;
        private readonly SemaphoreSlim _blobGate = new(options.MaxConcurrentBlobs);
        private readonly SemaphoreSlim _imageGate = new(options.MaxConcurrentImages);
        private readonly ConcurrentDictionary<string, Lazy<Task>> _blobs = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, long> _blobBytes = new(StringComparer.Ordinal);
        private long _bytesTotal, _bytesDone, _lastReport;
        private int _imagesDone, _blobsTotal, _blobsDone, _blobsDownloaded, _blobsCached, _blobsLocal;

        public int ImagesTotal;

        /// <summary>The digest an image is pulled by without asking the registry: its own, else the lock's (unless refreshing).</summary>
        public string? KnownDigest(ImageReference reference, LockedImage? locked) => reference.Digest ?? (options.Refresh ? null : locked?.Digest);

        /// <summary>Called when an image meets a full disk: stops the others (their downloads would meet it too).</summary>
        public Action? OnDiskFull;

        /// <summary>Per registry domain: its images whose manifests must still come from the registry (each one pull, as Docker
        /// Hub counts them; a manifest the cache holds costs none).</summary>
        public readonly ConcurrentDictionary<string, int> ToResolve = new(StringComparer.OrdinalIgnoreCase);

        private readonly ConcurrentDictionary<string, bool> _limitWarned = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>
        /// SEA1019 once per domain: after a manifest from the network, when the registry's stated rate limit leaves fewer pulls
        /// than the images of that domain still to resolve, so that the user can log in or add a mirror before the limit
        /// runs out midway (Docker Hub: 100 pulls per 6 h without a login, which one build of a few hundred images meets).
        /// </summary>
        private void WarnIfLimitLow(ImageReference reference, IReadOnlyList<ImageSource> sources)
        {
            int left = ToResolve.GetValueOrDefault(reference.Domain);
            if (client.LastRateLimit(reference.Domain) is not { } limit || limit.Remaining >= left || !_limitWarned.TryAdd(reference.Domain, true)) return;
            var at = sources.FirstOrDefault();
            owner._logger?.LogWarning("{Code}: {File}({Line}): {Endpoint} allows {Remaining} more pulls ({Limit}), and {Left} images of {Domain} are still to pull. Log in (`docker login`; authenticated pulls get a higher limit) or configure a mirror before it runs out: images already pulled stay in the cache.",
                ErrorCodes.RateLimitLow, at?.File ?? "", at?.Line ?? 0, limit.Endpoint, limit.Remaining, limit.Described, left, reference.Domain);
        }

        public int BlobsDownloaded => _blobsDownloaded;

        public int BlobsCached => _blobsCached;

        public int BlobsLocal => _blobsLocal;

        /// <summary>How often completed images' refs are written to index.json during a pull (and once at its end).</summary>
        private static readonly TimeSpan RefsInterval = TimeSpan.FromSeconds(2);

        /// <summary>index.json's refs when the pull began (read once, not per image).</summary>
        private readonly Dictionary<string, Descriptor> _indexed = ReadRefs(owner._cache);

        private readonly List<(string RefName, Descriptor Manifest)> _pendingRefs = [];
        private readonly System.Diagnostics.Stopwatch _sinceRefs = System.Diagnostics.Stopwatch.StartNew();

        private static Dictionary<string, Descriptor> ReadRefs(OciLayout cache)
        {
            var refs = new Dictionary<string, Descriptor>(StringComparer.Ordinal);
            if (!File.Exists(cache.IndexPath)) return refs;
            foreach (var d in cache.ReadIndex().Manifests)
            {
                if (d.GetAnnotation(Annotations.RefName) is { } name) refs[name] = d;
            }
            return refs;
        }

        /// <summary>Names a completed image in index.json: with the others completed in the last <see cref="RefsInterval"/>,
        /// or at the end (<see cref="WriteRefs"/>). A ref is written after its manifest and blobs, so index.json never names
        /// an image the cache does not hold; one killed before its ref is written is found by digest (lock) next time.</summary>
        private void QueueRef(string name, Descriptor descriptor)
        {
            if (_indexed.TryGetValue(name, out var existing) && existing.Digest == descriptor.Digest && existing.MediaType == descriptor.MediaType) return;
            lock (_pendingRefs)
            {
                _pendingRefs.Add((name, descriptor));
                if (_sinceRefs.Elapsed >= RefsInterval) WriteRefsLocked();
            }
        }

        /// <summary>Writes the refs of the images completed since the last write (one index.json update).</summary>
        public void WriteRefs()
        {
            lock (_pendingRefs) WriteRefsLocked();
        }

        private void WriteRefsLocked()
        {
            if (_pendingRefs.Count > 0)
            {
                try
                {
                    _cache.SetRefs(_pendingRefs);
                }
                catch (IOException io) when (AtomicFile.IsDiskFull(io))
                {
                    throw new SealerException(ErrorCodes.DiskWriteFailed, $"The disk is full while writing '{_cache.IndexPath}'. Free some space and run again; downloads resume.", inner: io);
                }
                _pendingRefs.Clear();
            }
            _sinceRefs.Restart();
        }

        public async Task<(LockedImage Locked, Descriptor Descriptor)> PullOneAsync(ImageReference reference, IReadOnlyList<ImageSource> sources)
        {
            string name = reference.ToString();
            try
            {
                await Task.Yield();
                var resolved = await ResolveAsync(reference, name, sources).ConfigureAwait(false);
                await Task.WhenAll(resolved.Blobs.Select(b => BlobAsync(reference, b))).ConfigureAwait(false);
                // Manifests only after their content: a manifest in the cache always has its blobs.
                foreach (var (bytes, mediaType) in resolved.Manifests) _cache.WriteBlob(bytes, mediaType);
                _cache.WriteBlob(resolved.Root.Content, resolved.Root.MediaType);
                var descriptor = resolved.Root.Descriptor;
                QueueRef(name, descriptor);
                Interlocked.Increment(ref _imagesDone);
                owner._logger?.LogInformation("Cached {Reference} ({Digest}, {Platforms})", name, descriptor.Digest, string.Join(", ", resolved.Platforms.Keys));
                Report(force: true, name);
                return (new LockedImage(name, descriptor.Digest, descriptor.MediaType, resolved.Platforms, sources), descriptor);
            }
            catch (Exception ex) when (IsDiskFull(ex))
            {
                OnDiskFull?.Invoke();
                if (ex is SealerException se) throw WithSource(se, name, sources);
                throw;
            }
            catch (SealerException ex)
            {
                throw WithSource(ex, name, sources);
            }
        }

        private sealed record Resolved(ManifestResponse Root, List<(byte[] Bytes, string MediaType)> Manifests, Dictionary<string, string> Platforms, List<Descriptor> Blobs);

        private async Task<Resolved> ResolveAsync(ImageReference reference, string name, IReadOnlyList<ImageSource> sources)
        {
            await _imageGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var locked = options.Lock?.Find(name);
                string? digest = KnownDigest(reference, locked);
                if (options.Offline && digest is null)
                {
                    throw new SealerException(ErrorCodes.OfflineContentMissing, $"{name} is not in images.lock.json, and resolving its tag needs the network, which this offline build may not use. Run a normal build first.");
                }
                if (digest is null && locked is not null)
                {
                    // Refreshing a locked tag: a HEAD tells whether it moved (and does not count against Docker Hub's pull limit).
                    var head = await client.HeadManifestAsync(reference, null, cancellationToken).ConfigureAwait(false);
                    if (_cache.HasBlob(head.ParsedDigest, head.Size)) digest = head.Digest;
                }
                ManifestResponse root;
                try
                {
                    root = await ManifestAsync(reference, digest, locked?.Digest == digest ? locked?.MediaType : null).ConfigureAwait(false);
                }
                catch (SealerException ex) when (ex.Code == ErrorCodes.ImageNotFound && reference.Digest is null && digest is not null)
                {
                    throw new SealerException(ex.Code, $"{ex.Message} images.lock.json pins {name} to {digest}, which the registry no longer serves; refresh the lock (or delete that entry) to resolve the tag again.", inner: ex);
                }
                if (root.Endpoint is not null) // from a registry, not the cache
                {
                    ToResolve.AddOrUpdate(reference.Domain, 0, (_, n) => Math.Max(0, n - 1));
                    WarnIfLimitLow(reference, sources);
                }
                var platforms = new Dictionary<string, string>(StringComparer.Ordinal);
                var manifests = new List<(byte[], string)>();
                var blobs = new List<Descriptor>();
                if (root.IsIndex)
                {
                    var index = OciJsonContext.FromBytes(root.Content, OciJsonContext.Default.ImageIndex, $"{name}: the index");
                    foreach (var wanted in options.Platforms)
                    {
                        var child = Select(index, wanted);
                        if (child is null)
                        {
                            string offered = string.Join(", ", index.Manifests.Where(m => m.Platform is not null && m.Platform.Os != "unknown").Select(m => m.Platform!.ToString()).Distinct());
                            throw new SealerException(ErrorCodes.PlatformNotAvailable,
                                $"{name} is not available for {wanted} (its index offers {(offered.Length == 0 ? "no platforms" : offered)}). Use an image built for {wanted}, or remove {wanted} from the build's platforms (SealerPlatforms).");
                        }
                        var m = await ManifestAsync(reference, child.Digest, child.MediaType).ConfigureAwait(false);
                        if (m.IsIndex) throw new SealerException(ErrorCodes.UnsupportedManifest, $"{name}: the index entry for {wanted} is itself an index; nested indexes are not supported.");
                        var manifest = OciJsonContext.FromBytes(m.Content, OciJsonContext.Default.ImageManifest, $"{name}: the {wanted} manifest");
                        platforms[wanted.ToString()] = m.Digest.ToString();
                        if (!manifests.Any(x => ReferenceEquals(x.Item1, m.Content))) manifests.Add((m.Content, m.MediaType));
                        blobs.AddRange(Content(manifest));
                    }
                }
                else
                {
                    var manifest = OciJsonContext.FromBytes(root.Content, OciJsonContext.Default.ImageManifest, $"{name}: the manifest");
                    // A single-platform image: its config says which platform it is.
                    await BlobAsync(reference, manifest.Config).ConfigureAwait(false);
                    if (manifest.Config.MediaType is MediaTypes.OciConfig or MediaTypes.DockerConfig)
                    {
                        var config = OciJsonContext.FromBytes(_cache.ReadBlobBytes(manifest.Config.ParsedDigest, OciLimits.MaxConfigBytes), OciJsonContext.Default.ImageConfig, $"{name}: the config");
                        var actual = new Platform { Os = config.Os, Architecture = config.Architecture, Variant = config.Variant };
                        foreach (var wanted in options.Platforms)
                        {
                            if (!wanted.Matches(actual))
                            {
                                throw new SealerException(ErrorCodes.PlatformNotAvailable,
                                    $"{name} is a single-platform image for {actual}, not {wanted}. Use a multi-platform image or one built for {wanted}, or remove {wanted} from the build's platforms (SealerPlatforms).");
                            }
                        }
                    }
                    foreach (var wanted in options.Platforms) platforms[wanted.ToString()] = root.Digest.ToString();
                    blobs.AddRange(Content(manifest));
                }
                var distinct = blobs.DistinctBy(b => b.Digest).ToList();
                foreach (var b in distinct)
                {
                    if (_blobBytes.TryAdd(b.Digest, b.Size))
                    {
                        Interlocked.Add(ref _bytesTotal, b.Size);
                        Interlocked.Increment(ref _blobsTotal);
                    }
                }
                Report(force: false, name);
                return new Resolved(root, manifests, platforms, distinct);
            }
            finally
            {
                _imageGate.Release();
            }
        }

        private static IEnumerable<Descriptor> Content(ImageManifest manifest)
        {
            yield return manifest.Config;
            foreach (var l in manifest.Layers)
            {
                // Foreign / non-distributable layers (Windows base layers) are never pushed to registries; skip them.
                if (l.MediaType.Contains("foreign", StringComparison.Ordinal) || l.MediaType.Contains("nondistributable", StringComparison.Ordinal)) continue;
                yield return l;
            }
        }

        private static Descriptor? Select(ImageIndex index, Platform wanted)
        {
            var candidates = index.Manifests.Where(m => wanted.Matches(m.Platform) && MediaTypes.IsManifest(m.MediaType) || wanted.Matches(m.Platform) && MediaTypes.IsIndex(m.MediaType)).ToList();
            // Prefer an exact variant match (linux/arm/v7 over linux/arm), then the first, as containerd does.
            return candidates.FirstOrDefault(m => m.Platform!.Variant == wanted.Variant) ?? candidates.FirstOrDefault();
        }

        /// <summary>A manifest by digest from the cache (re-verified), or from the registry; by tag from the registry.</summary>
        private async Task<ManifestResponse> ManifestAsync(ImageReference reference, string? digest, string? knownMediaType)
        {
            if (digest is not null && Digest.TryParse(digest, out var d) && _cache.HasBlob(d))
            {
                byte[] bytes = _cache.ReadBlobBytes(d);
                string mediaType = knownMediaType is not null && MediaTypes.AllManifests.Contains(knownMediaType) ? knownMediaType : Probe(bytes);
                return new ManifestResponse(bytes, mediaType, d, null);
            }
            Online(reference, $"manifest {digest}");
            return await client.GetManifestAsync(reference, digest, cancellationToken).ConfigureAwait(false);
        }

        private void Online(ImageReference reference, string what)
        {
            if (options.Offline)
            {
                throw new SealerException(ErrorCodes.OfflineContentMissing, $"{reference}: {what} is not in the image cache ({_cache.Root}), and this offline build may not use the network. Run a normal build first.");
            }
        }

        private static string Probe(byte[] bytes)
        {
            var p = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ManifestProbe, "a cached manifest");
            if (MediaTypes.AllManifests.Contains(p.MediaType)) return p.MediaType!;
            return p.Manifests is not null ? MediaTypes.OciIndex : MediaTypes.OciManifest;
        }

        private Task BlobAsync(ImageReference reference, Descriptor blob)
            => _blobs.GetOrAdd(blob.Digest, _ => new Lazy<Task>(() => FetchBlobAsync(reference, blob))).Value;

        private async Task FetchBlobAsync(ImageReference reference, Descriptor blob)
        {
            if (_cache.HasBlob(blob))
            {
                Interlocked.Increment(ref _blobsCached);
                Done(blob.Size);
                return;
            }
            if (options.LocalBlobs?.Invoke(blob) is { } local)
            {
                try
                {
                    await using (local)
                    {
                        await _cache.WriteBlobAsync(local, blob.ParsedDigest, blob.Size, null, cancellationToken).ConfigureAwait(false);
                    }
                    Interlocked.Increment(ref _blobsLocal);
                    Done(blob.Size);
                    return;
                }
                catch (SealerException ex) when (ex.Code is ErrorCodes.DigestMismatch or ErrorCodes.SizeMismatch)
                {
                    owner._logger?.LogWarning("The local copy of {Digest} does not match its digest; downloading it instead", blob.Digest);
                }
            }
            Online(reference, $"blob {blob.Digest}");
            await _blobGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                long seen = 0;
                var p = new SyncProgress<long>(total =>
                {
                    long delta = total - Interlocked.Exchange(ref seen, total);
                    Interlocked.Add(ref _bytesDone, delta);
                    Report(force: false, reference.ToString());
                });
                bool fetched = await client.FetchBlobAsync(reference, blob, _cache, p, cancellationToken).ConfigureAwait(false);
                Interlocked.Add(ref _bytesDone, blob.Size - Interlocked.Exchange(ref seen, blob.Size));
                if (fetched) Interlocked.Increment(ref _blobsDownloaded); else Interlocked.Increment(ref _blobsCached);
                Interlocked.Increment(ref _blobsDone);
                Report(force: false, reference.ToString());
            }
            catch (Exception ex) when (IsDiskFull(ex))
            {
                OnDiskFull?.Invoke(); // before the gate lets the next blob in
                throw;
            }
            finally
            {
                _blobGate.Release();
            }
        }

        /// <summary>A full disk, however it surfaced: our SEA1506, or the IOException of a write, flush or rename.</summary>
        private static bool IsDiskFull(Exception ex)
            => ex is SealerException { Code: ErrorCodes.DiskWriteFailed } || ex is IOException io && AtomicFile.IsDiskFull(io);

        private void Done(long size)
        {
            Interlocked.Add(ref _bytesDone, size);
            Interlocked.Increment(ref _blobsDone);
        }

        public void Report(bool force, string? image = null)
        {
            if (progress is null) return;
            long now = Environment.TickCount64;
            long last = Interlocked.Read(ref _lastReport);
            if (!force && now - last < 100) return;
            if (!force && Interlocked.CompareExchange(ref _lastReport, now, last) != last) return;
            if (force) Interlocked.Exchange(ref _lastReport, now);
            progress.Report(new PullProgress(ImagesTotal, Volatile.Read(ref _imagesDone), Volatile.Read(ref _blobsTotal), Volatile.Read(ref _blobsDone),
                Interlocked.Read(ref _bytesTotal), Interlocked.Read(ref _bytesDone), image));
        }

        private static SealerException WithSource(SealerException ex, string name, IReadOnlyList<ImageSource> sources)
        {
            if (ex.File is not null || sources.Count == 0 && ex.Message.StartsWith(name, StringComparison.Ordinal)) return ex;
            string message = ex.Message.StartsWith(name, StringComparison.Ordinal) ? ex.Message : $"{name}: {ex.Message}";
            var first = sources.FirstOrDefault();
            if (sources.Count > 1) message += $" (also used at {string.Join(", ", sources.Skip(1).Take(5))}{(sources.Count > 6 ? ", ..." : "")})";
            if (first?.Detail is not null) message += $" [{first.Detail}]";
            return new SealerException(ex.Code, message, first?.File, first?.Line ?? 0, inner: ex);
        }
    }
}
