using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Artifacts;

/// <summary>One app image as it was put into the mirror registry.</summary>
/// <param name="Source">Its full name in the cluster image (<c>docker.io/library/nginx:1.27</c>).</param>
/// <param name="Destination">Where it is now (<c>harbor.site/library/nginx:1.27</c>).</param>
/// <param name="Digest">The digest the destination serves: the source's, unless <paramref name="PlatformsLeftOut"/> &gt; 0 made it an index of the carried platforms only.</param>
/// <param name="SourceDigest">The digest in the cluster image.</param>
/// <param name="PlatformsLeftOut">Platforms of the source index the cluster image does not carry, left out because the registry refused the index with them.</param>
public sealed record MirroredImage(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("destination")] string Destination,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("sourceDigest")] string SourceDigest,
    [property: JsonPropertyName("platformsLeftOut")] int PlatformsLeftOut);

/// <summary>What <see cref="ImageMirror.MirrorAsync"/> did.</summary>
public sealed record MirrorResult(
    [property: JsonPropertyName("images")] IReadOnlyList<MirroredImage> Images,
    [property: JsonPropertyName("blobsUploaded")] int BlobsUploaded,
    [property: JsonPropertyName("blobsMounted")] int BlobsMounted,
    [property: JsonPropertyName("blobsPresent")] int BlobsPresent,
    [property: JsonPropertyName("bytesUploaded")] long BytesUploaded,
    [property: JsonPropertyName("requests")] IReadOnlyDictionary<string, int> Requests);

/// <summary>
/// Puts the app images a cluster image carries (<see cref="CarriedImages"/>) into a registry under their own paths: what a
/// site with its own registry (Clusterfile <c>spec.registry.externalRegistry</c>, a Harbor) needs before its hosts pull
/// <c>docker.io/library/nginx:1.27</c> through it (containerd's hosts.toml mirrors every domain to it, and asks for
/// <c>/v2/library/nginx/manifests/1.27</c>). zarf's <c>package mirror-resources</c>, without the rewriting.
/// <list type="bullet">
/// <item>Each distinct blob is uploaded once, from where it lies in the cluster image, largest first; every other
/// repository that needs it mounts it (<c>?mount=&amp;from=</c>), so shared base layers cross the wire once. A blob the
/// registry has is skipped: a second run uploads nothing.</item>
/// <item>Manifests go children first, the tag last, so a tag never names something incomplete.</item>
/// <item>A cluster image built for some platforms carries only those children of a multi-platform app image's index.
/// The index is pushed as it is (registries that accept a partial index, like the built-in one, keep its digest);
/// distribution and Harbor refuse it, and then the tag gets an index of the carried children only
/// (<see cref="MirroredImage.PlatformsLeftOut"/>). An image pinned by that index's digest cannot be served then:
/// <see cref="ErrorCodes.MirrorPartialIndexRefused"/>.</item>
/// <item>The mirror keeps the path and drops the domain (that is what hosts.toml asks for), so <c>docker.io/x/y:1</c> and
/// <c>quay.io/x/y:1</c> with different content cannot both be there: <see cref="ErrorCodes.MirrorNameClash"/>, before
/// anything is sent.</item>
/// </list>
/// </summary>
public static class ImageMirror
{
    /// <param name="registry"><c>host[:port]</c>, or <c>host[:port]/PREFIX</c> to put every image under that path by its
    /// domain (<see cref="MirrorPaths"/>: one Harbor project for all).</param>
    public static async Task<MirrorResult> MirrorAsync(CarriedImages source, string registry, PushOptions options, CancellationToken cancellationToken = default)
    {
        var (host, plan) = Plan(source, registry);
        var transport = RegistryTransport.For(host, options);
        try
        {
            var uploaders = new ConcurrentDictionary<string, BlobUploader>(StringComparer.Ordinal);
            BlobUploader Uploader(string repository) => uploaders.GetOrAdd(repository, r => new BlobUploader(transport, r, options));
            var owner = new Dictionary<string, (string Repository, Descriptor Blob)>(StringComparer.Ordinal);
            var partialRefused = new StrongBox<bool>();
            var images = new MirroredImage[plan.Count];
            long bytesTotal = plan.SelectMany(i => i.Graph.Blobs).DistinctBy(b => b.Digest).Sum(b => b.Size), bytesSent = 0, uploadedBytes = 0;
            int blobsTotal = plan.SelectMany(i => i.Graph.Blobs.Select(b => (i.Repository, b.Digest))).Distinct().Count(), done = 0, present = 0, mounted = 0, uploaded = 0;
            void Report() => options.Progress?.Report(new PushProgress(Interlocked.Read(ref bytesSent), bytesTotal, Volatile.Read(ref done), blobsTotal));
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken };

            // Images pinned to an index the cluster image carries only part of go first: a registry that refuses a
            // partial index says so after their few blobs, not after the whole 20 GB.
            var pinnedPartial = plan.Where(i => i.Reference.Digest is not null && i.Graph.AbsentChildren.Count > 0).ToList();
            foreach (var batch in new[] { pinnedPartial, plan.Except(pinnedPartial).ToList() })
            {
                // Each distinct blob to the first repository that needs it; the others mount it from there.
                var owned = new List<(string Repository, Descriptor Blob)>();
                var mounts = new HashSet<(string Repository, string Digest)>();
                foreach (var item in batch)
                {
                    foreach (var blob in item.Graph.Blobs)
                    {
                        if (owner.TryAdd(blob.Digest, (item.Repository, blob))) owned.Add((item.Repository, blob));
                        else if (owner[blob.Digest].Repository != item.Repository) mounts.Add((item.Repository, blob.Digest));
                    }
                }
                await Parallel.ForEachAsync(owned.OrderByDescending(o => o.Blob.Size), parallel, async (o, ct) =>
                {
                    var outcome = await Uploader(o.Repository).PushAsync(source, o.Blob, [], n => { Interlocked.Add(ref bytesSent, n); Report(); }, ct).ConfigureAwait(false);
                    if (outcome != BlobOutcome.Uploaded) Interlocked.Add(ref bytesSent, o.Blob.Size);
                    Count(outcome, o.Blob);
                }).ConfigureAwait(false);
                await Parallel.ForEachAsync(mounts, parallel, async (m, ct) =>
                {
                    var (from, blob) = owner[m.Digest];
                    Count(await Uploader(m.Repository).PushAsync(source, blob, [from], null, ct).ConfigureAwait(false), blob);
                }).ConfigureAwait(false);
                await Parallel.ForEachAsync(batch, parallel, async (item, ct) =>
                {
                    images[item.Order] = await PutManifestsAsync(item, new ManifestPusher(Uploader(item.Repository), transport, item.Repository), partialRefused, ct).ConfigureAwait(false);
                }).ConfigureAwait(false);
            }

            var requests = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (method, n) in uploaders.Values.SelectMany(u => u.RequestCounts)) requests[method] = requests.GetValueOrDefault(method) + n;
            return new MirrorResult(images, uploaded, mounted, present, uploadedBytes, requests);

            void Count(BlobOutcome outcome, Descriptor blob)
            {
                switch (outcome)
                {
                    case BlobOutcome.Existed: Interlocked.Increment(ref present); break;
                    case BlobOutcome.Mounted: Interlocked.Increment(ref mounted); break;
                    default: Interlocked.Increment(ref uploaded); Interlocked.Add(ref uploadedBytes, blob.Size); break;
                }
                Interlocked.Increment(ref done);
                Report();
            }
        }
        finally
        {
            transport.Dispose();
        }
    }

    /// <summary>
    /// The blobs of <paramref name="source"/> that were not unpacked (<see cref="CarriedImages.IsUnread"/>) and that
    /// <see cref="MirrorAsync"/> into <paramref name="registry"/> may have to send: those the registry lacks in any
    /// repository that will hold them (HEAD each), since an upload, or a mount the registry turns into one, reads the blob.
    /// </summary>
    public static async Task<IReadOnlySet<string>> MissingUnreadBlobsAsync(CarriedImages source, string registry, PushOptions options, CancellationToken cancellationToken = default)
    {
        var (host, plan) = Plan(source, registry);
        var asks = plan.SelectMany(i => i.Graph.Blobs.Where(b => source.IsUnread(b.ParsedDigest)).Select(b => (i.Repository, Blob: b)))
            .DistinctBy(a => (a.Repository, a.Blob.Digest)).ToList();
        if (asks.Count == 0) return new HashSet<string>(StringComparer.Ordinal);
        var missing = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        using var transport = RegistryTransport.For(host, options);
        var uploaders = new ConcurrentDictionary<string, BlobUploader>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(asks, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken }, async (a, ct) =>
        {
            if (missing.ContainsKey(a.Blob.Digest)) return;
            var uploader = uploaders.GetOrAdd(a.Repository, r => new BlobUploader(transport, r, options));
            if (!await uploader.ExistsAsync(a.Blob, ct).ConfigureAwait(false)) missing.TryAdd(a.Blob.Digest, true);
        }).ConfigureAwait(false);
        return missing.Keys.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>A partial index cut to the children the cluster image carries: what the tag names where the registry refuses the whole.</summary>
    private static byte[] CarriedIndex(ImageIndex index, ImageGraph graph)
        => OciJsonContext.ToBytes(index with { Manifests = Carried(index, graph).ToList() }, OciJsonContext.Default.ImageIndex);

    /// <summary>The children of <paramref name="index"/> the graph holds (not among its <see cref="ImageGraph.AbsentChildren"/>).</summary>
    private static IEnumerable<Descriptor> Carried(ImageIndex index, ImageGraph graph)
    {
        var absent = graph.AbsentChildren.Select(c => c.Digest).ToHashSet(StringComparer.Ordinal);
        return index.Manifests.Where(c => !absent.Contains(c.Digest));
    }

    /// <summary>
    /// What <paramref name="registry"/> serves for each carried image, against what <see cref="MirrorAsync"/> puts there
    /// (the image's digest, or for a partial index the index of its carried platforms): one line per image it lacks or
    /// serves with other content (an empty list: it holds them all). Manifests only (HEAD), nothing is sent.
    /// </summary>
    public static async Task<IReadOnlyList<string>> CheckAsync(CarriedImages source, string registry, PushOptions options, CancellationToken cancellationToken = default)
    {
        var (host, plan) = Plan(source, registry);
        using var transport = RegistryTransport.For(host, options);
        var problems = new string[plan.Count];
        await Parallel.ForEachAsync(plan, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            var root = item.Graph.Manifests[^1];
            var expected = new List<string> { root.Descriptor.Digest };
            if (item.Graph.AbsentChildren.Count > 0 && root.Index is { } index) expected.Add(Digest.Sha256(CarriedIndex(index, item.Graph)).ToString());
            try
            {
                var served = await transport.Client.HeadManifestAsync(ImageReference.Parse(item.Destination), cancellationToken: ct).ConfigureAwait(false);
                if (!expected.Contains(served.Digest, StringComparer.Ordinal)) problems[item.Order] = $"{item.Destination} is {served.Digest}, not {item.Image.Reference} ({root.Descriptor.Digest})";
            }
            catch (SealerException ex)
            {
                problems[item.Order] = $"{item.Destination}: {ex.Message}";
            }
        }).ConfigureAwait(false);
        return problems.OfType<string>().ToList();
    }

    /// <summary>One carried image and where it goes.</summary>
    private sealed record Item(int Order, CarriedImage Image, ImageReference Reference, string Repository, string Destination, ImageGraph Graph);

    private static (string Host, List<Item> Items) Plan(CarriedImages source, string registry)
    {
        var (host, prefix, problem) = MirrorPaths.SplitTarget(registry);
        if (problem is not null) throw new SealerException(ErrorCodes.RegistryMirrorInvalid, $"'{registry}' is not a mirror target (host[:port] or host[:port]/PREFIX): {problem}.");
        var items = new List<Item>();
        var names = new Dictionary<string, CarriedImage>(StringComparer.Ordinal);
        foreach (var image in source.Images)
        {
            if (!ImageReference.TryParse(image.Reference, out var reference, out string? error))
            {
                throw new SealerException(ErrorCodes.NotAClusterImage, $"'{source.Name}' carries an image named '{image.Reference}', which is not an image reference ({error}). Rebuild the cluster image.");
            }
            string repository = image.Repository is { } path ? MirrorPaths.Repository(prefix, null, path) : MirrorPaths.Repository(prefix, reference.Domain, reference.Repository);
            string at = reference.Tag ?? image.Descriptor.Digest;
            if (names.TryGetValue(repository + ":" + at, out var other) && other.Descriptor.Digest != image.Descriptor.Digest)
            {
                if (other.Reference == image.Reference)
                {
                    throw new SealerException(ErrorCodes.MirrorNameClash,
                        $"'{source.Name}' names '{image.Reference}' twice, as {other.Descriptor.Digest} and {image.Descriptor.Digest} (a platform's manifest each, not one index over them): a tag names one of them. Rebuild the cluster image with this SDK (its registry/index.json is the same for every platform).");
                }
                throw new SealerException(ErrorCodes.MirrorNameClash,
                    $"'{other.Reference}' ({other.Descriptor.Digest}) and '{image.Reference}' ({image.Descriptor.Digest}) would both be {registry}/{repository}:{at}: a mirror registry keeps an image's path and drops its domain (containerd asks it for /v2/{repository}/manifests/{at} whichever domain the pod names). Use one of them in the apps, give one another path, or mirror under a prefix, which keeps the domains apart ({host}/PREFIX/DOMAIN/PATH: externalRegistry.prefix, 'sealer mirror IMAGE {host}/PREFIX').");
            }
            names.TryAdd(repository + ":" + at, image);
            var graph = ImageGraph.Load(source, image.Descriptor, sparseIndexes: true);
            string destination = reference.Tag is null ? $"{host}/{repository}@{image.Descriptor.Digest}" : $"{host}/{repository}:{reference.Tag}";
            items.Add(new Item(items.Count, image, reference, repository, destination, graph));
        }
        return (host, items);
    }

    private static async Task<MirroredImage> PutManifestsAsync(Item item, ManifestPusher manifests, StrongBox<bool> partialRefused, CancellationToken cancellationToken)
    {
        var graph = item.Graph;
        foreach (var m in graph.Manifests.Take(graph.Manifests.Count - 1))
        {
            await manifests.PutAsync(m.Descriptor.MediaType, m.Bytes, m.Descriptor.Digest, cancellationToken).ConfigureAwait(false);
        }
        var root = graph.Manifests[^1];
        string at = item.Reference.Tag ?? root.Descriptor.Digest;
        string? refused = null;
        if (graph.AbsentChildren.Count == 0 || !partialRefused.Value)
        {
            try
            {
                await manifests.PutAsync(root.Descriptor.MediaType, root.Bytes, at, cancellationToken).ConfigureAwait(false);
                return new MirroredImage(item.Image.Reference, item.Destination, root.Descriptor.Digest, root.Descriptor.Digest, 0);
            }
            catch (SealerException ex) when (graph.AbsentChildren.Count > 0 && ex.Code == ErrorCodes.ManifestPushFailed && root.Index is not null)
            {
                partialRefused.Value = true; // the next partial index goes straight to its carried platforms
                refused = ex.Message;
            }
        }
        var index = root.Index ?? throw new SealerException(ErrorCodes.InvalidOciJson, $"'{item.Image.Reference}' lacks manifests its top manifest names ({string.Join(", ", graph.AbsentChildren.Select(c => c.Digest))}). Rebuild the cluster image.");
        if (item.Reference.Digest is not null)
        {
            string carried = string.Join(", ", Carried(index, graph).Select(c => c.Platform?.ToString() ?? c.Digest));
            throw new SealerException(ErrorCodes.MirrorPartialIndexRefused,
                $"'{item.Image.Reference}' is pinned to index {root.Descriptor.Digest}, of which the cluster image carries {carried} only, and {manifests.Registry} refuses an index whose other platforms it does not hold" +
                (refused is null ? "" : $" ({refused.Split(". If it names", 2)[0]})") + ". " +
                "Build the cluster image for every platform of that image (SealerPlatforms, sealer build --platform), pin the platform's manifest digest instead, or use a registry that accepts partial indexes (distribution 3: validation.manifests.indexes.platforms: none).");
        }
        // The tag names an index of the platforms the cluster image carries (the registry has each of them).
        byte[] bytes = CarriedIndex(index, graph);
        await manifests.PutAsync(root.Descriptor.MediaType, bytes, at, cancellationToken).ConfigureAwait(false);
        return new MirroredImage(item.Image.Reference, item.Destination, Digest.Sha256(bytes).ToString(), root.Descriptor.Digest, graph.AbsentChildren.Count);
    }
}
