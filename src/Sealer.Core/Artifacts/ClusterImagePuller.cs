using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.IO;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Artifacts;

/// <summary>Options for <see cref="ClusterImagePuller"/>.</summary>
public sealed class ClusterImagePullOptions
{
    private int _concurrency = 4;

    /// <summary>Only this platform (the store then names that platform's manifest); null pulls every platform, as a whole.</summary>
    public Platform? Platform { get; set; }

    /// <summary>Blobs downloaded at once (1–32, default 4).</summary>
    public int Concurrency
    {
        get => _concurrency;
        set => _concurrency = value is >= 1 and <= 32 ? value : throw new ArgumentOutOfRangeException(nameof(Concurrency), value, "1..32");
    }

    /// <summary>The registry client (share the build's); else one with options from the environment.</summary>
    public RegistryClient? Client { get; set; }

    /// <summary>Also fetch the image's referrers (signatures, SBOMs). Default true.</summary>
    public bool Referrers { get; set; } = true;

    /// <summary>Bytes downloaded so far (all blobs).</summary>
    public IProgress<long>? Progress { get; set; }
}

/// <summary>
/// Pulls a cluster image — every platform of its index, as a whole — from a registry into the local store, with the
/// registry client (auth, mirrors, retries, resumable digest-verified blob downloads). Manifests are verified against
/// their digests; the image is named in the store only once every blob is there.
/// </summary>
public static class ClusterImagePuller
{
    public static async Task<StoredImage> PullAsync(ClusterImageStore store, string reference, ClusterImagePullOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ClusterImagePullOptions();
        var image = ImageReference.Parse(reference);
        var client = options.Client ?? new RegistryClient(new RegistryOptions().AddFromEnvironment());
        try
        {
            var top = await client.GetManifestAsync(image, cancellationToken: cancellationToken).ConfigureAwait(false);
            var root = top.Descriptor;
            var manifests = new List<(Descriptor Descriptor, byte[] Bytes, ImageManifest Manifest)>();
            var indexes = new List<(Descriptor Descriptor, byte[] Bytes)>();
            if (top.IsIndex)
            {
                var index = OciJsonContext.FromBytes(top.Content, OciJsonContext.Default.ImageIndex, $"index of {image}");
                var children = index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType)).ToList();
                if (options.Platform is { } wanted)
                {
                    var match = children.FirstOrDefault(c => wanted.Matches(c.Platform))
                        ?? throw new SealerException(ErrorCodes.PlatformNotInImage,
                            $"{image} has no {wanted} cluster image (it has {string.Join(", ", children.Select(c => c.Platform?.ToString() ?? "?"))}). Pull another platform or all of them.");
                    children = [match];
                    root = match;
                }
                else
                {
                    indexes.Add((top.Descriptor, top.Content));
                }
                foreach (var child in children)
                {
                    var m = await client.GetManifestAsync(image, child.Digest, cancellationToken).ConfigureAwait(false);
                    manifests.Add((child, m.Content, OciJsonContext.FromBytes(m.Content, OciJsonContext.Default.ImageManifest, $"manifest {child.Digest} of {image}")));
                }
                if (index.Manifests.Any(m => MediaTypes.IsIndex(m.MediaType)) && options.Platform is null)
                {
                    throw new SealerException(ErrorCodes.InvalidOciJson, $"{image} is an index of indexes; a cluster image index lists platform manifests only.");
                }
            }
            else
            {
                manifests.Add((top.Descriptor, top.Content, OciJsonContext.FromBytes(top.Content, OciJsonContext.Default.ImageManifest, $"manifest of {image}")));
            }

            var blobs = manifests.SelectMany(m => m.Manifest.Layers.Prepend(m.Manifest.Config))
                .Where(b => b.Urls is not { Count: > 0 })
                .DistinctBy(b => b.Digest).OrderByDescending(b => b.Size).ToList();
            long done = 0;
            await Parallel.ForEachAsync(blobs, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken }, async (blob, ct) =>
            {
                long last = 0;
                var progress = options.Progress is null ? null : new SyncProgress<long>(n => options.Progress.Report(Interlocked.Add(ref done, n - Interlocked.Exchange(ref last, n))));
                await client.FetchBlobAsync(image, blob, store.Layout, progress, ct).ConfigureAwait(false);
            }).ConfigureAwait(false);

            foreach (var m in manifests) store.Layout.WriteBlob(m.Bytes, m.Descriptor.MediaType);
            foreach (var i in indexes) store.Layout.WriteBlob(i.Bytes, i.Descriptor.MediaType);
            string name = image.Digest is not null && image.Tag is null ? image.ToString() : $"{image.Name}:{image.Tag ?? "latest"}";
            var stored = store.Add(name, new Descriptor { MediaType = root.MediaType, Digest = root.Digest, Size = root.Size });
            if (options.Referrers) await PullReferrersAsync(store, client, image, root, cancellationToken).ConfigureAwait(false);
            return stored;
        }
        finally
        {
            if (options.Client is null) client.Dispose();
        }
    }

    /// <summary>
    /// Fetches the referrers (signatures, SBOMs) of <paramref name="subject"/>: the referrers API
    /// (<c>GET /v2/&lt;name&gt;/referrers/&lt;digest&gt;</c>), else the referrers tag schema (<c>sha256-&lt;hex&gt;</c>), and keeps them
    /// in the store as unnamed index.json entries next to the image.
    /// </summary>
    private static async Task PullReferrersAsync(ClusterImageStore store, RegistryClient client, ImageReference image, Descriptor subject, CancellationToken cancellationToken)
    {
        IReadOnlyList<Descriptor> found = [];
        using (var transport = new RegistryTransport(client, image.Domain))
        {
            using var response = await transport.SendAsync(() =>
            {
                var r = new HttpRequestMessage(HttpMethod.Get, transport.Resolve($"v2/{image.Repository}/referrers/{subject.Digest}"));
                r.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue(MediaTypes.OciIndex));
                return r;
            }, $"repository:{image.Repository}:pull", retry: true, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType == MediaTypes.OciIndex)
            {
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                if (bytes.Length <= Layout.OciLimits.MaxManifestBytes) found = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, $"referrers of {image}").Manifests;
            }
        }
        if (found.Count == 0)
        {
            var d = subject.ParsedDigest;
            try
            {
                var tagged = await client.GetManifestAsync(image, $"{d.Algorithm}-{d.Encoded}", cancellationToken).ConfigureAwait(false);
                if (tagged.IsIndex) found = OciJsonContext.FromBytes(tagged.Content, OciJsonContext.Default.ImageIndex, $"referrers tag of {image}").Manifests;
            }
            catch (SealerException ex) when (ex.Code is ErrorCodes.ImageNotFound)
            {
                return; // no referrers
            }
        }
        foreach (var referrer in found.Where(r => MediaTypes.IsManifest(r.MediaType)))
        {
            var m = await client.GetManifestAsync(image, referrer.Digest, cancellationToken).ConfigureAwait(false);
            var manifest = OciJsonContext.FromBytes(m.Content, OciJsonContext.Default.ImageManifest, $"referrer {referrer.Digest}");
            if (manifest.Subject?.Digest != subject.Digest) continue; // not what it claims to refer to
            foreach (var blob in manifest.Layers.Prepend(manifest.Config))
            {
                await client.FetchBlobAsync(image, blob, store.Layout, null, cancellationToken).ConfigureAwait(false);
            }
            var descriptor = store.Layout.WriteBlob(m.Content, MediaTypes.OciManifest) with { ArtifactType = manifest.ArtifactType ?? referrer.ArtifactType };
            store.Layout.UpdateIndex(list => list.Any(x => x.Digest == descriptor.Digest) ? list : list.Append(descriptor).ToList());
        }
    }
}
