using System.Net;
using System.Net.Http.Headers;
using Sealer.Core.Diagnostics;
using Sealer.Core.Bundle;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;
using Sealer.Core.Signing;

namespace Sealer.Core.Artifacts;

/// <summary>
/// Pushes an image graph (a cluster image manifest, or an index over platforms) from an <see cref="OciLayout"/> to any
/// distribution-spec registry (Docker distribution, Harbor, Artifactory, zot…): blobs first with bounded concurrency
/// (largest first), each skipped when present, mounted when possible, else uploaded; then manifests children-first, and
/// the root last, by tag, so a tag never points at something incomplete. Referrers (signatures, SBOMs whose
/// <c>subject</c> is in the graph) follow, with the referrers tag schema as the fallback on registries without the API.
/// </summary>
public sealed class RegistryPusher
{
    private readonly PushOptions _options;

    public RegistryPusher(PushOptions? options = null) => _options = options ?? new PushOptions();

    /// <summary>Requests by method of the last push (HEAD/POST/PATCH/PUT/GET), for diagnostics.</summary>
    public IReadOnlyDictionary<string, int> RequestCounts { get; private set; } = new Dictionary<string, int>();

    /// <summary>Blob uploads of the last push continued after an interruption, and those started over.</summary>
    public int Resumes { get; private set; }

    public int Restarts { get; private set; }

    /// <summary>
    /// Pushes the cluster image of a layout directory (a build's <c>bin/&lt;Configuration&gt;/&lt;name&gt;/</c>), an OCI archive
    /// file or a site bundle (split or not): the entry named <paramref name="refName"/>, or the only image in it. This is
    /// what <c>PushClusterImage</c> and <c>sealer push FILE</c> call. A plain archive and a bundle are pushed from where
    /// their blobs lie (<see cref="ArchiveLayout"/>): nothing is unpacked, so a 20 GB archive needs no 20 GB of room
    /// elsewhere, and the registry checks each blob's digest as it arrives. A compressed archive (zstd, gzip), or a push
    /// that adds to the image (<see cref="PushOptions.AttachSbom"/>, <see cref="PushOptions.SigningKey"/>), is loaded into a
    /// private store first (verified), then pushed from there.
    /// </summary>
    public async Task<PushResult> PushAsync(string layoutOrArchive, string destination, string? refName = null, CancellationToken cancellationToken = default)
    {
        var dest = ImageReference.Parse(destination);
        if (Directory.Exists(layoutOrArchive))
        {
            var layout = OciLayout.Open(layoutOrArchive);
            return await PushAsync(layout, PickRoot(layout, layoutOrArchive, refName), dest, cancellationToken).ConfigureAwait(false);
        }
        bool addsToImage = _options.AttachSbom || _options.SigningKey is not null;
        if (!addsToImage && OpenInPlace(layoutOrArchive) is { } archive)
        {
            return await PushAsync(archive, PickRoot(archive, layoutOrArchive, refName), dest, cancellationToken).ConfigureAwait(false);
        }
        // Load it into a private store next to it (verified), then push from there.
        string temp = Path.Combine(Path.GetTempPath(), "sealer-push-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var store = ClusterImageStore.Open(temp);
            var loaded = await OciArchive.LoadAsync(store, layoutOrArchive, new OciArchive.LoadOptions { Name = refName is null ? destination : null }, cancellationToken).ConfigureAwait(false);
            var image = refName is null ? (loaded.Count == 1 ? loaded[0] : throw new SealerException(ErrorCodes.InvalidPushDestination, $"'{layoutOrArchive}' holds {loaded.Count} images; say which one to push."))
                : store.Resolve(refName);
            return await PushAsync(store.Layout, image.Descriptor, dest, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            try { Directory.Delete(temp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>A site bundle's archive, or a plain (uncompressed) tar, read in place; null for anything else (compressed).</summary>
    private static ArchiveLayout? OpenInPlace(string path)
    {
        if (!File.Exists(path)) throw new SealerException(ErrorCodes.NotAnOciArchive, $"'{path}' does not exist. Give a layout directory, an OCI archive (sealer save, dotnet build) or a site bundle.", path);
        return ArchiveLayout.IsCompressedFile(path) ? null : SiteBundle.OpenArchiveOf(path);
    }

    /// <summary>
    /// The image of <paramref name="source"/> named <paramref name="refName"/>, or its only one. Images are the index's named
    /// entries (<c>org.opencontainers.image.ref.name</c>, or containerd's name); with none named, its entries that are no
    /// artifact. Unnamed entries beside named ones are referrers (signatures, SBOMs), pushed with their subject.
    /// </summary>
    private static Descriptor PickRoot(IBlobSource source, string what, string? refName)
    {
        var entries = source.ReadIndex().Manifests;
        var roots = entries.Where(d => d.GetAnnotation(Annotations.RefName) is not null || d.GetAnnotation("io.containerd.image.name") is not null).ToList();
        if (roots.Count == 0) roots = entries.Where(d => d.ArtifactType is null).ToList();
        var root = refName is null
            ? (roots.Count == 1 ? roots[0] : throw new SealerException(ErrorCodes.InvalidPushDestination, $"'{what}' holds {roots.Count} images; say which one to push."))
            : roots.FirstOrDefault(d => d.GetAnnotation(Annotations.RefName) is { } n && (n == refName || ClusterImageStore.NormalizeName(n) == ClusterImageStore.NormalizeName(refName)))
              ?? throw new SealerException(ErrorCodes.ImageNotInStore, $"'{what}' has no image named '{refName}'.");
        return root with { Annotations = null };
    }

    /// <summary>
    /// Pushes the graph of <paramref name="root"/> from <paramref name="layout"/>: a layout, or an archive read in place (a
    /// blob of it that the registry finds corrupt is <see cref="ErrorCodes.ArchiveBlobCorrupt"/>, and the tag is not pushed).
    /// </summary>
    public async Task<PushResult> PushAsync(IBlobSource layout, Descriptor root, ImageReference destination, CancellationToken cancellationToken = default)
    {
        if (destination.Tag is null && destination.Digest is null)
        {
            throw new SealerException(ErrorCodes.InvalidPushDestination, $"Push destination '{destination}' needs a tag.");
        }
        if (destination.Digest is not null && destination.Digest != root.Digest)
        {
            throw new SealerException(ErrorCodes.InvalidPushDestination,
                $"Push destination '{destination}' names digest {destination.Digest} but the image is {root.Digest}. Push to a tag instead.");
        }
        var graph = ImageGraph.Load(layout, root);
        if (_options.AttachSbom || _options.SigningKey is not null)
        {
            // Both write into the layout (the SBOM or signature as a referrer); an archive read in place takes no writes.
            var writable = layout as OciLayout ?? throw new SealerException(ErrorCodes.InvalidPushDestination,
                $"'{layout.Name}' is read in place; an SBOM or a signature is added to a layout. Push it by path (it is loaded into a private store first) or load it and push by name.");
            if (_options.AttachSbom) ClusterImageSbom.EnsureAttached(writable, root, $"{destination.Name}:{destination.Tag ?? "latest"}");
            if (_options.SigningKey is { } signingKey) CosignSignatures.SignInLayout(writable, root, destination.Name, signingKey);
        }
        var transport = RegistryTransport.For(destination.Domain, _options);
        try
        {
            var uploader = new BlobUploader(transport, destination.Repository, _options);
            var mountFrom = _options.MountFrom.Concat(BaseRepositories(graph, destination)).Distinct(StringComparer.Ordinal).ToList();

            long bytesTotal = graph.Blobs.Sum(b => b.Size), bytesSent = 0;
            int done = 0, skipped = 0, mounted = 0, uploaded = 0;
            long uploadedBytes = 0;
            void Report() => _options.Progress?.Report(new PushProgress(Interlocked.Read(ref bytesSent), bytesTotal, Volatile.Read(ref done), graph.Blobs.Count));

            await Parallel.ForEachAsync(graph.Blobs.OrderByDescending(b => b.Size),
                new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
                async (blob, ct) =>
                {
                    var outcome = await uploader.PushAsync(layout, blob, mountFrom, n => { Interlocked.Add(ref bytesSent, n); Report(); }, ct).ConfigureAwait(false);
                    switch (outcome)
                    {
                        case BlobOutcome.Existed: Interlocked.Increment(ref skipped); Interlocked.Add(ref bytesSent, blob.Size); break;
                        case BlobOutcome.Mounted: Interlocked.Increment(ref mounted); Interlocked.Add(ref bytesSent, blob.Size); break;
                        default: Interlocked.Increment(ref uploaded); Interlocked.Add(ref uploadedBytes, blob.Size); break;
                    }
                    Interlocked.Increment(ref done);
                    Report();
                }).ConfigureAwait(false);

            var manifests = new ManifestPusher(uploader, transport, destination.Repository);
            foreach (var m in graph.Manifests.Take(graph.Manifests.Count - 1))
            {
                await manifests.PutAsync(m.Descriptor.MediaType, m.Bytes, m.Descriptor.Digest, cancellationToken).ConfigureAwait(false);
            }
            var rootManifest = graph.Manifests[^1];
            string tag = destination.Tag ?? root.Digest;
            await manifests.PutAsync(rootManifest.Descriptor.MediaType, rootManifest.Bytes, tag, cancellationToken).ConfigureAwait(false);
            foreach (var extra in _options.AdditionalTags)
            {
                await manifests.PutAsync(rootManifest.Descriptor.MediaType, rootManifest.Bytes, extra, cancellationToken).ConfigureAwait(false);
            }

            int referrers = 0;
            if (_options.PushReferrers)
            {
                var subjects = graph.Manifests.Select(m => m.Descriptor.Digest).ToHashSet(StringComparer.Ordinal);
                foreach (var r in ClusterImageInspector.FindReferrers(layout, subjects))
                {
                    await PushReferrerAsync(layout, uploader, manifests, r, cancellationToken).ConfigureAwait(false);
                    referrers++;
                }
            }
            RequestCounts = uploader.RequestCounts.ToDictionary();
            Resumes = uploader.Resumes;
            Restarts = uploader.Restarts;
            return new PushResult
            {
                Reference = destination.Tag is null ? $"{destination.Name}@{root.Digest}" : $"{destination.Name}:{destination.Tag}",
                Digest = root.Digest,
                MediaType = root.MediaType,
                Manifests = graph.Manifests.Count,
                BlobsTotal = graph.Blobs.Count,
                BlobsSkipped = skipped,
                BlobsMounted = mounted,
                BlobsUploaded = uploaded,
                BytesUploaded = uploadedBytes,
                Referrers = referrers,
                Platforms = graph.PlatformManifests().GroupBy(p => p.Platform?.ToString() ?? "unknown")
                    .ToDictionary(g => g.Key, g => g.First().Manifest.Descriptor.Digest, StringComparer.Ordinal),
                Tags = destination.Tag is null ? [.. _options.AdditionalTags] : [destination.Tag, .. _options.AdditionalTags],
            };
        }
        finally
        {
            transport.Dispose();
        }
    }

    /// <summary>Repositories of FROM images on the same registry (<c>org.opencontainers.image.base.name</c>): mount sources.</summary>
    private static IEnumerable<string> BaseRepositories(ImageGraph graph, ImageReference destination)
    {
        foreach (var m in graph.Manifests)
        {
            string? baseName = m.Manifest?.Annotations?.GetValueOrDefault(Annotations.BaseName) ?? m.Index?.Annotations?.GetValueOrDefault(Annotations.BaseName);
            if (baseName is not null && ImageReference.TryParse(baseName, out var b, out _) && b.Domain == destination.Domain) yield return b.Repository;
        }
    }

    private static async Task PushReferrerAsync(IBlobSource layout, BlobUploader uploader, ManifestPusher manifests, ReferrerInfo referrer, CancellationToken cancellationToken)
    {
        var descriptor = new Descriptor { MediaType = MediaTypes.OciManifest, Digest = referrer.Digest, Size = 0 };
        var graph = ImageGraph.Load(layout, descriptor with { Size = layout.Locate(descriptor.ParsedDigest).Length });
        foreach (var blob in graph.Blobs) await uploader.PushAsync(layout, blob, [], null, cancellationToken).ConfigureAwait(false);
        var m = graph.Manifests[^1];
        bool referrersApi = await manifests.PutAsync(MediaTypes.OciManifest, m.Bytes, referrer.Digest, cancellationToken).ConfigureAwait(false);
        if (!referrersApi)
        {
            await manifests.AddToReferrersTagAsync(referrer.Subject, m.Descriptor with { ArtifactType = referrer.ArtifactType, Annotations = m.Manifest?.Annotations }, cancellationToken).ConfigureAwait(false);
        }
        if (referrer.ArtifactType == CosignSignatures.ArtifactType)
        {
            // cosign finds signatures by this tag (the same manifest is the referrer); a tag that already holds other
            // signatures of the same image (another key, an earlier signing) keeps them: cosign appends layers too
            await manifests.PutSignatureTagAsync(referrer.Subject, m.Bytes, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Manifest PUT/GET on one repository, and the referrers tag schema (<c>sha256-&lt;hex&gt;</c> index) fallback.</summary>
internal sealed class ManifestPusher(BlobUploader uploader, RegistryTransport transport, string repository)
{
    private readonly string _scope = $"repository:{repository}:pull,push";

    /// <summary>The registry (host and port), for messages.</summary>
    public string Registry => transport.Registry;

    /// <summary>PUTs a manifest; true when the registry answered <c>OCI-Subject</c> (it indexes referrers itself).</summary>
    public async Task<bool> PutAsync(string mediaType, byte[] bytes, string reference, CancellationToken cancellationToken)
    {
        using var response = await uploader.SendAsync(() =>
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return new HttpRequestMessage(HttpMethod.Put, transport.Resolve($"v2/{repository}/manifests/{reference}")) { Content = content };
        }, _scope, TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            string body = await BlobUploader.SafeBodyAsync(response).ConfigureAwait(false);
            throw new SealerException(ErrorCodes.ManifestPushFailed,
                $"Registry {transport.Registry} refused manifest {reference} ({mediaType}) of '{repository}': HTTP {(int)response.StatusCode} {body.Trim()}. " +
                "If it names an unsupported media type, the registry needs OCI image support (Harbor ≥ 2.0, distribution ≥ 2.7).");
        }
        string expected = Digest.Sha256(bytes).ToString();
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var digests) && digests.FirstOrDefault() is { } got && got != expected)
        {
            throw new SealerException(ErrorCodes.PushDigestMismatch, $"Registry {transport.Registry} stored manifest {reference} of '{repository}' as {got}, not {expected}; it rewrote the manifest. Use a registry that keeps manifests as sent.");
        }
        return response.Headers.Contains("OCI-Subject");
    }

    /// <summary>
    /// Points cosign's <c>sha256-&lt;hex&gt;.sig</c> tag of <paramref name="subject"/> at a manifest holding the signature
    /// layers of <paramref name="signature"/> and those the tag already holds (by payload digest and signature), so a
    /// second signature (another key) does not replace the first. The tag's existing layers are already in the repository.
    /// </summary>
    public async Task PutSignatureTagAsync(string subject, byte[] signature, CancellationToken cancellationToken)
    {
        string tag = CosignSignatures.SignatureTag(subject);
        byte[] bytes = signature;
        ImageManifest? existing = null;
        if (await GetTagAsync(tag, MediaTypes.OciManifest, cancellationToken).ConfigureAwait(false) is { MediaType: MediaTypes.OciManifest } current
            && current.Bytes.Length <= OciLimits.MaxManifestBytes)
        {
            existing = OciJsonContext.FromBytes(current.Bytes, OciJsonContext.Default.ImageManifest, $"signature tag {tag}");
        }
        if (existing is not null)
        {
            var added = OciJsonContext.FromBytes(signature, OciJsonContext.Default.ImageManifest, $"signature of {subject}");
            static string Key(Descriptor l) => l.Digest + " " + l.GetAnnotation(CosignSignatures.SignatureAnnotation);
            var kept = existing.Layers.Where(l => l.MediaType == CosignSignatures.PayloadMediaType).ToList();
            var keys = kept.Select(Key).ToHashSet(StringComparer.Ordinal);
            var fresh = added.Layers.Where(l => keys.Add(Key(l))).ToList();
            if (fresh.Count == 0) return; // every signature is already there
            if (kept.Count > 0) bytes = OciJsonContext.ToBytes(added with { Layers = [.. kept, .. fresh] }, OciJsonContext.Default.ImageManifest);
        }
        await PutAsync(MediaTypes.OciManifest, bytes, tag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds <paramref name="referrer"/> to the index tagged <c>sha256-&lt;subject hex&gt;</c> (OCI distribution spec, referrers tag schema).</summary>
    public async Task AddToReferrersTagAsync(string subject, Descriptor referrer, CancellationToken cancellationToken)
    {
        var subjectDigest = Digest.Parse(subject);
        string tag = $"{subjectDigest.Algorithm}-{subjectDigest.Encoded}";
        List<Descriptor> existing = [];
        if (await GetTagAsync(tag, MediaTypes.OciIndex, cancellationToken).ConfigureAwait(false) is { } current)
        {
            existing = OciJsonContext.FromBytes(current.Bytes, OciJsonContext.Default.ImageIndex, $"referrers index {tag}").Manifests.ToList();
        }
        if (existing.Any(d => d.Digest == referrer.Digest)) return;
        existing.Add(referrer);
        var index = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = existing };
        await PutAsync(MediaTypes.OciIndex, OciJsonContext.ToBytes(index, OciJsonContext.Default.ImageIndex), tag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// GETs the manifest tagged <paramref name="tag"/>, asking for <paramref name="accept"/>: its bytes and the media type the
    /// registry answered with, or null unless it answered 200 (a tag not there yet).
    /// </summary>
    private async Task<(byte[] Bytes, string? MediaType)?> GetTagAsync(string tag, string accept, CancellationToken cancellationToken)
    {
        using var response = await uploader.SendAsync(() =>
        {
            var r = new HttpRequestMessage(HttpMethod.Get, transport.Resolve($"v2/{repository}/manifests/{tag}"));
            r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            return r;
        }, _scope, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK) return null;
        return (await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false), response.Content.Headers.ContentType?.MediaType);
    }
}
