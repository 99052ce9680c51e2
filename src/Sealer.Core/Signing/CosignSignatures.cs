using System.Security.Cryptography;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.Signing;

/// <summary>One signature found for an image: the payload layer, its bytes and the base64 DER signature.</summary>
public sealed record SignatureLayer(string Manifest, Descriptor Layer, byte[] Payload, string? Signature);

/// <summary>A signature that verified: who signed what, and which signature manifest held it.</summary>
public sealed record VerifiedSignature(string ImageDigest, string? DockerReference, string SignatureManifest);

/// <summary>
/// Cluster image signatures in cosign's format. A signature is an OCI manifest whose one layer is the simple-signing
/// payload (<see cref="PayloadMediaType"/>) with the base64 DER ECDSA-P256/SHA-256 signature in the
/// <see cref="SignatureAnnotation"/> annotation; it carries <c>subject</c> = the signed manifest and
/// <c>artifactType</c> = <see cref="ArtifactType"/>, so the same manifest is both cosign's <c>sha256-&lt;hex&gt;.sig</c> tag
/// (<see cref="SignatureTag"/>) and an OCI referrer. Locally (store, layout, archive) it is an unnamed index.json entry.
/// </summary>
public static class CosignSignatures
{
    public const string PayloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";
    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";
    public const string ArtifactType = "application/vnd.dev.cosign.artifact.sig.v1+json";

    private static readonly byte[] EmptyJson = "{}"u8.ToArray();

    /// <summary>cosign's tag for the signatures of <paramref name="digest"/>: <c>sha256-&lt;hex&gt;.sig</c>.</summary>
    public static string SignatureTag(string digest)
    {
        var d = Digest.Parse(digest);
        return $"{d.Algorithm}-{d.Encoded}.sig";
    }

    /// <summary>Signs the payload for <paramref name="dockerReference"/>@<paramref name="digest"/>: (payload, base64 DER signature).</summary>
    public static (byte[] Payload, string Signature) Sign(ECDsa key, string dockerReference, string digest)
    {
        byte[] payload = SimpleSigning.CreatePayload(dockerReference, digest);
        byte[] signature = key.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return (payload, Convert.ToBase64String(signature));
    }

    /// <summary>The signature manifest over an already-written payload blob (config: the OCI empty descriptor).</summary>
    public static ImageManifest CreateManifest(Descriptor payload, string signature, Descriptor subject) => new()
    {
        MediaType = MediaTypes.OciManifest,
        ArtifactType = ArtifactType,
        Config = new Descriptor { MediaType = MediaTypes.OciEmpty, Digest = Digest.Sha256(EmptyJson).ToString(), Size = EmptyJson.Length },
        Layers = [payload with { Annotations = new Dictionary<string, string> { [SignatureAnnotation] = signature } }],
        Subject = new Descriptor { MediaType = subject.MediaType, Digest = subject.Digest, Size = subject.Size },
    };

    /// <summary>
    /// Signs <paramref name="root"/> in <paramref name="layout"/> (a store, a build output): writes the payload, the empty
    /// config and the signature manifest, and records the manifest as an unnamed index.json entry beside the image so
    /// push, save, load and pull carry it. Returns the signature manifest's descriptor.
    /// </summary>
    public static Descriptor SignInLayout(OciLayout layout, Descriptor root, string dockerReference, ECDsa key)
    {
        var (payload, signature) = Sign(key, dockerReference, root.Digest);
        layout.WriteBlob(EmptyJson, MediaTypes.OciEmpty);
        var payloadDescriptor = layout.WriteBlob(payload, PayloadMediaType);
        var manifest = CreateManifest(payloadDescriptor, signature, root);
        var descriptor = layout.WriteBlob(OciJsonContext.ToBytes(manifest, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest) with { ArtifactType = ArtifactType };
        layout.UpdateIndex(list => list.Where(d => d.Digest != descriptor.Digest).Append(descriptor).ToList());
        return descriptor;
    }

    /// <summary>The signature layers of a manifest (layers of the payload media type), read with <paramref name="read"/>.</summary>
    public static IEnumerable<SignatureLayer> LayersOf(string manifestDigest, ImageManifest manifest, Func<Descriptor, byte[]?> read)
    {
        foreach (var layer in manifest.Layers.Where(l => l.MediaType == PayloadMediaType))
        {
            byte[]? bytes = read(layer);
            if (bytes is null) continue;
            yield return new SignatureLayer(manifestDigest, layer, bytes, layer.GetAnnotation(SignatureAnnotation));
        }
    }

    /// <summary>Signature layers stored in a layout's or archive's index.json (unnamed entries whose subject is <paramref name="digest"/>).</summary>
    public static List<SignatureLayer> FindInIndex(IBlobSource source, string digest)
    {
        var found = new List<SignatureLayer>();
        Func<Digest, bool> has = d => source.HasBlob(d);
        Func<Digest, byte[]> read = d => source.ReadBlobBytes(d);
        foreach (var entry in source.ReadIndex().Manifests)
        {
            if (entry.GetAnnotation(Annotations.RefName) is not null || !MediaTypes.IsManifest(entry.MediaType) || !has(entry.ParsedDigest)) continue;
            var m = OciJsonContext.FromBytes(read(entry.ParsedDigest), OciJsonContext.Default.ImageManifest, $"manifest {entry.Digest}");
            if (m.Subject?.Digest != digest) continue;
            found.AddRange(LayersOf(entry.Digest, m, l =>
            {
                if (!has(l.ParsedDigest)) return null;
                try
                {
                    return read(l.ParsedDigest);
                }
                catch (SealerException ex) when (ex.Code == ErrorCodes.DigestMismatch)
                {
                    return []; // altered on disk: Verify reports it as tampered (no content hashes to the digest)
                }
            }));
        }
        return found;
    }

    /// <summary>
    /// Verifies that one of <paramref name="layers"/> is a signature of <paramref name="digest"/> by <paramref name="key"/>.
    /// When none is: no layers is <see cref="ErrorCodes.ImageUnsigned"/>; a payload that does not hash to its descriptor
    /// is <see cref="ErrorCodes.SignaturePayloadTampered"/>; a good signature over another digest is
    /// <see cref="ErrorCodes.SignatureDigestMismatch"/>; else <see cref="ErrorCodes.SignatureWrongKey"/>.
    /// </summary>
    public static VerifiedSignature Verify(IReadOnlyList<SignatureLayer> layers, string digest, ECDsa key, string what, string? keyFile = null)
    {
        if (layers.Count == 0)
        {
            throw new SealerException(ErrorCodes.ImageUnsigned,
                $"{what} ({digest}) is not signed: it has no cosign signature. Sign it with 'sealer sign --key cosign.key', or push it with -p:SealerSigningKey.");
        }
        SealerException? tampered = null, mismatch = null;
        foreach (var layer in layers)
        {
            if (Digest.Sha256(layer.Payload).ToString() != layer.Layer.Digest || layer.Payload.Length != layer.Layer.Size)
            {
                tampered ??= new SealerException(ErrorCodes.SignaturePayloadTampered,
                    $"The signed payload {layer.Layer.Digest} of {what} (signature {layer.Manifest}) does not match its digest: it was altered after signing. Do not use this image; get it again from its source.");
                continue;
            }
            byte[] signature;
            try
            {
                signature = Convert.FromBase64String(layer.Signature ?? "");
            }
            catch (FormatException)
            {
                continue; // not a signature we can check; others may be
            }
            if (signature.Length == 0 || !key.VerifyData(layer.Payload, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)) continue;
            SimpleSigningPayload payload;
            try
            {
                payload = SimpleSigning.ReadPayload(layer.Payload, what);
            }
            catch (SealerException ex)
            {
                tampered ??= ex;
                continue;
            }
            string signed = payload.Critical!.Image!.DockerManifestDigest!;
            if (signed != digest)
            {
                mismatch ??= new SealerException(ErrorCodes.SignatureDigestMismatch,
                    $"The signature {layer.Manifest} of {what} is valid but signs {signed}, not this image ({digest}): it was copied from another image. Do not use this image.");
                continue;
            }
            return new VerifiedSignature(digest, payload.Critical.Identity?.DockerReference, layer.Manifest);
        }
        throw mismatch ?? tampered ?? new SealerException(ErrorCodes.SignatureWrongKey,
            $"None of the {layers.Count} signature(s) of {what} ({digest}) verifies with the public key{(keyFile is null ? "" : $" '{keyFile}'")}: it was signed with another key, or the signed payload was replaced. Check that you have the vendor's public key; do not use this image otherwise.",
            keyFile);
    }
}
