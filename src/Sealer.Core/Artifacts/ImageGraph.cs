using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.Artifacts;

/// <summary>A manifest or index of an image graph, with its exact bytes (what gets hashed and pushed).</summary>
public sealed record GraphManifest(Descriptor Descriptor, byte[] Bytes, ImageManifest? Manifest, ImageIndex? Index)
{
    public bool IsIndex => Index is not null;
}

/// <summary>
/// Everything a root descriptor (a cluster image manifest, or an index over several platforms) reaches in a layout:
/// manifests and indexes in <b>children-first</b> order (so pushing them in order never references a missing child,
/// and the root comes last), and the distinct leaf blobs (configs, layers). Every manifest read is digest-verified.
/// </summary>
public sealed class ImageGraph
{
    private ImageGraph(Descriptor root, IReadOnlyList<GraphManifest> manifests, IReadOnlyList<Descriptor> blobs, IReadOnlyList<Descriptor> absentChildren)
    {
        Root = root;
        Manifests = manifests;
        Blobs = blobs;
        AbsentChildren = absentChildren;
    }

    /// <summary>The index children left out because the source does not hold them (only with <c>sparseIndexes</c>):
    /// the platforms of a multi-platform app image that a build for other platforms did not pull.</summary>
    public IReadOnlyList<Descriptor> AbsentChildren { get; }

    public Descriptor Root { get; }

    /// <summary>Manifests and indexes, children before parents; the last one is <see cref="Root"/>.</summary>
    public IReadOnlyList<GraphManifest> Manifests { get; }

    /// <summary>Configs and layers, each digest once.</summary>
    public IReadOnlyList<Descriptor> Blobs { get; }

    /// <summary>Every digest of the graph (manifests and blobs).</summary>
    public IEnumerable<Digest> AllDigests => Manifests.Select(m => m.Descriptor.ParsedDigest).Concat(Blobs.Select(b => b.ParsedDigest));

    /// <summary>Sum of the distinct blob and manifest sizes: what a full push or save moves.</summary>
    public long TotalSize => Manifests.Sum(m => m.Descriptor.Size) + Blobs.Sum(b => b.Size);

    /// <summary>The platform manifests (leaf image manifests) with their platform from the parent index, if any.</summary>
    public IEnumerable<(GraphManifest Manifest, Platform? Platform)> PlatformManifests()
    {
        var platforms = new Dictionary<string, Platform?>(StringComparer.Ordinal);
        foreach (var m in Manifests.Where(m => m.IsIndex))
        {
            foreach (var child in m.Index!.Manifests) platforms.TryAdd(child.Digest, child.Platform);
        }
        foreach (var m in Manifests.Where(m => !m.IsIndex))
        {
            yield return (m, platforms.GetValueOrDefault(m.Descriptor.Digest) ?? m.Descriptor.Platform);
        }
    }

    /// <summary>
    /// Walks the graph of <paramref name="root"/> in <paramref name="layout"/>. With <paramref name="requireBlobs"/> every
    /// config and layer must be present (size checked) or <see cref="ErrorCodes.StoreImageIncomplete"/> is thrown.
    /// Index children whose manifests are absent are an error too: a cluster image always travels whole. With
    /// <paramref name="sparseIndexes"/> (an app image a cluster image carries for its own platforms only) an absent child
    /// of an index is left out and listed in <see cref="AbsentChildren"/>; what the present manifests name is still required.
    /// </summary>
    public static ImageGraph Load(IBlobSource layout, Descriptor root, bool requireBlobs = true, bool sparseIndexes = false)
    {
        var manifests = new List<GraphManifest>();
        var blobs = new List<Descriptor>();
        var absent = new List<Descriptor>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Visit(root, 0);
        return new ImageGraph(root, manifests, blobs, absent);

        void Visit(Descriptor d, int depth)
        {
            if (depth > 8) throw new SealerException(ErrorCodes.InvalidOciJson, $"Index nesting under {root.Digest} is deeper than 8 levels; refusing it.");
            if (!seen.Add(d.Digest)) return;
            var digest = d.ParsedDigest;
            if (!layout.HasBlob(digest))
            {
                if (sparseIndexes && depth > 0) { absent.Add(d); return; }
                if (!requireBlobs) return; // a platform-filtered cache entry: only the wanted children are present
                throw new SealerException(ErrorCodes.StoreImageIncomplete,
                    $"Manifest {d.Digest} of image {root.Digest} is missing from '{layout.Name}'. Pull or load the image again.");
            }
            byte[] bytes = layout.ReadBlobBytes(digest);
            var probe = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ManifestProbe, $"manifest {d.Digest}");
            string? mediaType = probe.MediaType ?? d.MediaType;
            if (MediaTypes.IsIndex(mediaType) || (probe.Manifests is not null && probe.Config is null))
            {
                var index = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageIndex, $"index {d.Digest}");
                foreach (var child in index.Manifests) Visit(child, depth + 1);
                manifests.Add(new GraphManifest(d, bytes, null, index));
                return;
            }
            var manifest = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ImageManifest, $"manifest {d.Digest}");
            foreach (var blob in manifest.Layers.Prepend(manifest.Config))
            {
                if (!seen.Add(blob.Digest)) continue;
                if (blob.Urls is { Count: > 0 } && !layout.HasBlob(blob.ParsedDigest)) continue; // foreign layer: not ours to carry
                if (requireBlobs && !layout.HasBlob(blob.ParsedDigest, blob.Size))
                {
                    throw new SealerException(ErrorCodes.StoreImageIncomplete,
                        $"Blob {blob.Digest} ({blob.MediaType}) of image {root.Digest} is missing from '{layout.Name}' or has the wrong size. Pull or load the image again.");
                }
                blobs.Add(blob);
            }
            manifests.Add(new GraphManifest(d, bytes, manifest, null));
        }
    }
}
