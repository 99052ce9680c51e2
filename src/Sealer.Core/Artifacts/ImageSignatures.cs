using System.Net.Http.Headers;
using System.Security.Cryptography;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;
using Sealer.Core.Signing;

namespace Sealer.Core.Artifacts;

/// <summary>
/// Signs and verifies cluster images with cosign-format signatures (<see cref="CosignSignatures"/>) wherever they live:
/// the local store, a build output layout, an OCI archive (verify), a registry (verify). Signing is local — the
/// signature is an unnamed referrer entry beside the image — and <see cref="RegistryPusher"/> publishes it both as an
/// OCI referrer and as cosign's <c>sha256-&lt;hex&gt;.sig</c> tag; signing an image that is only on a registry means
/// pulling it first (or pushing it with a signing key: <see cref="PushOptions.SigningKey"/>).
/// </summary>
public static class ImageSignatures
{
    /// <summary>Signs the store image <paramref name="name"/> (its root digest: the index of a multi-platform image) as its repository.</summary>
    public static Descriptor Sign(ClusterImageStore store, string name, ECDsa key)
    {
        var image = store.Resolve(name);
        return CosignSignatures.SignInLayout(store.Layout, image.Descriptor, ImageReference.Parse(image.Name).Name, key);
    }

    /// <summary>Verifies the store image <paramref name="name"/>; throws the coded failure (unsigned, tampered, wrong key, digest mismatch).</summary>
    public static VerifiedSignature Verify(ClusterImageStore store, string name, ECDsa key, string? keyFile = null)
    {
        var image = store.Resolve(name);
        return Verify(store.Layout, image.Descriptor, image.Name, key, keyFile);
    }

    /// <summary>Verifies the image <paramref name="root"/> of a layout, or of an archive or bundle read in place.</summary>
    public static VerifiedSignature Verify(IBlobSource layout, Descriptor root, string what, ECDsa key, string? keyFile = null)
        => CosignSignatures.Verify(CosignSignatures.FindInIndex(layout, root.Digest), root.Digest, key, what, keyFile);

    /// <summary>
    /// Verifies <paramref name="reference"/> on its registry: the digest its tag resolves to, the signatures of cosign's
    /// <c>sha256-&lt;hex&gt;.sig</c> tag and the cosign signatures among its OCI referrers (API, else the tag schema).
    /// Every fetched blob is checked against its digest.
    /// </summary>
    public static async Task<VerifiedSignature> VerifyRemoteAsync(string reference, ECDsa key, RegistryClient? client = null, string? keyFile = null, CancellationToken cancellationToken = default)
    {
        var image = ImageReference.Parse(reference);
        var own = client is null;
        client ??= new RegistryClient(new RegistryOptions().AddFromEnvironment());
        string temp = Path.Combine(Path.GetTempPath(), "sealer-verify-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            string digest = image.Digest ?? (await client.GetManifestAsync(image, cancellationToken: cancellationToken).ConfigureAwait(false)).Digest.ToString();
            var blobs = OciLayout.OpenOrCreate(temp);
            var layers = new List<SignatureLayer>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            async Task AddAsync(string manifestReference)
            {
                ManifestResponse m;
                try
                {
                    m = await client.GetManifestAsync(image, manifestReference, cancellationToken).ConfigureAwait(false);
                }
                catch (SealerException ex) when (ex.Code is ErrorCodes.ImageNotFound)
                {
                    return;
                }
                if (m.IsIndex || !seen.Add(m.Digest.ToString())) return;
                var manifest = OciJsonContext.FromBytes(m.Content, OciJsonContext.Default.ImageManifest, $"signature {manifestReference} of {image}");
                foreach (var layer in manifest.Layers.Where(l => l.MediaType == CosignSignatures.PayloadMediaType && l.Size <= OciLimits.MaxManifestBytes))
                {
                    await client.FetchBlobAsync(image, layer, blobs, null, cancellationToken).ConfigureAwait(false);
                }
                layers.AddRange(CosignSignatures.LayersOf(m.Digest.ToString(), manifest, l => blobs.HasBlob(l.ParsedDigest) ? blobs.ReadBlobBytes(l.ParsedDigest) : null));
            }
            await AddAsync(CosignSignatures.SignatureTag(digest)).ConfigureAwait(false);
            foreach (var referrer in await ListReferrersAsync(client, image, digest, cancellationToken).ConfigureAwait(false))
            {
                if (referrer.ArtifactType == CosignSignatures.ArtifactType) await AddAsync(referrer.Digest).ConfigureAwait(false);
            }
            return CosignSignatures.Verify(layers, digest, key, image.ToString(), keyFile);
        }
        finally
        {
            if (own) client.Dispose();
            try { Directory.Delete(temp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The referrers of <paramref name="digest"/>: <c>GET /v2/&lt;name&gt;/referrers/&lt;digest&gt;</c>, else the <c>sha256-&lt;hex&gt;</c> index.</summary>
    internal static async Task<IReadOnlyList<Descriptor>> ListReferrersAsync(RegistryClient client, ImageReference image, string digest, CancellationToken cancellationToken)
    {
        using (var transport = new RegistryTransport(client, image.Domain))
        {
            using var response = await transport.SendAsync(() =>
            {
                var r = new HttpRequestMessage(HttpMethod.Get, transport.Resolve($"v2/{image.Repository}/referrers/{digest}"));
                r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciIndex));
                return r;
            }, $"repository:{image.Repository}:pull", retry: true, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType == MediaTypes.OciIndex)
            {
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                if (bytes.Length <= OciLimits.MaxManifestBytes)
                {
                    var listed = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, $"referrers of {image}").Manifests;
                    if (listed.Count > 0) return listed;
                }
            }
        }
        var d = Digest.Parse(digest);
        try
        {
            var tagged = await client.GetManifestAsync(image, $"{d.Algorithm}-{d.Encoded}", cancellationToken).ConfigureAwait(false);
            return tagged.IsIndex ? OciJsonContext.FromBytes(tagged.Content, OciJsonContext.Default.ImageIndex, $"referrers tag of {image}").Manifests : [];
        }
        catch (SealerException ex) when (ex.Code is ErrorCodes.ImageNotFound)
        {
            return [];
        }
    }
}
