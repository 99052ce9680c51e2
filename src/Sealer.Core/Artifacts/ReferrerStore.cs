using Sealer.Core.Oci;

namespace Sealer.Core.Artifacts;

/// <summary>
/// Artifacts attached to a cluster image (signatures, SBOMs, attestations) as OCI referrers: an artifact manifest whose
/// <c>subject</c> is the image, kept in the store's index.json without a name, so it survives prune while the image
/// does and travels with push (referrers API, or the referrers tag schema on older registries).
/// </summary>
public static class ReferrerStore
{
    private static readonly byte[] EmptyJson = "{}"u8.ToArray();

    /// <summary>Attaches <paramref name="content"/> (of <paramref name="artifactType"/>) to the image <paramref name="name"/>; returns the referrer manifest.</summary>
    public static Descriptor Attach(ClusterImageStore store, string name, string artifactType, byte[] content, IReadOnlyDictionary<string, string>? annotations = null)
    {
        var image = store.Resolve(name);
        var layout = store.Layout;
        var config = layout.WriteBlob(EmptyJson, MediaTypes.OciEmpty);
        var layer = layout.WriteBlob(content, artifactType);
        var manifest = new ImageManifest
        {
            MediaType = MediaTypes.OciManifest,
            ArtifactType = artifactType,
            Config = config,
            Layers = [layer],
            Subject = new Descriptor { MediaType = image.Descriptor.MediaType, Digest = image.Descriptor.Digest, Size = image.Descriptor.Size },
            Annotations = annotations,
        };
        var descriptor = layout.WriteBlob(OciJsonContext.ToBytes(manifest, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest) with { ArtifactType = artifactType };
        layout.UpdateIndex(list => list.Where(d => d.Digest != descriptor.Digest).Append(descriptor).ToList());
        return descriptor;
    }
}
