using Sealer.Core.ClusterImage;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.Artifacts;

/// <summary>
/// What <c>sealer inspect</c> shows of a cluster image in a layout (the store, a build output): per platform what
/// <see cref="ClusterImageReader"/> reads (labels, env, the decoded <c>sealer.image.extension</c>, the app images the
/// registry layer carries), plus sizes and the referrers (signatures, SBOMs) stored next to it.
/// </summary>
public static class ClusterImageInspector
{
    public static ClusterImageInfo Inspect(ClusterImageStore store, string name)
    {
        var image = store.Resolve(name);
        return Inspect(store.Layout, image.Name, image.Descriptor);
    }

    public static ClusterImageInfo Inspect(OciLayout layout, string name, Descriptor root)
    {
        var graph = ImageGraph.Load(layout, root);
        var reader = ClusterImageReader.Open(layout, root, name, skipMissingPlatforms: false);
        var graphDigests = graph.Manifests.Select(m => m.Descriptor.Digest).ToHashSet(StringComparer.Ordinal);
        return Describe(reader, name, root, graph.TotalSize, p => graph.PlatformManifests().FirstOrDefault(m => m.Manifest.Descriptor.Digest == p.ManifestDescriptor.Digest).Platform,
            FindReferrers(layout, graphDigests));
    }

    /// <summary>
    /// The same as <see cref="Inspect(OciLayout, string, Descriptor)"/> for an image whose blobs the caller has just written
    /// or checked (a build's output layout; a push, which walks and checks the graph itself): read through the reader
    /// alone, with no stat per blob and no second parse of each manifest (the full inspection of a 2,105-layer image took
    /// 40–57 ms of a one-chart rebuild, most of it those). Platforms from the index's descriptors, sizes counting each
    /// digest once, as the full one does.
    /// </summary>
    public static ClusterImageInfo InspectBuilt(OciLayout layout, string name, Descriptor root)
    {
        var reader = ClusterImageReader.Open(layout, root, name, skipMissingPlatforms: false);
        var seen = new HashSet<string>(StringComparer.Ordinal) { root.Digest };
        long size = root.Size;
        foreach (var p in reader.Platforms)
        {
            if (seen.Add(p.ManifestDescriptor.Digest)) size += p.ManifestDescriptor.Size;
            if (seen.Add(p.Manifest.Config.Digest)) size += p.Manifest.Config.Size;
            foreach (var layer in p.Layers)
            {
                if (layer.Urls is { Count: > 0 } && !layout.HasBlob(layer.ParsedDigest)) continue; // foreign layer: not carried
                if (seen.Add(layer.Digest)) size += layer.Size;
            }
        }
        var digests = reader.Platforms.Select(p => p.ManifestDescriptor.Digest).Append(root.Digest).ToHashSet(StringComparer.Ordinal);
        return Describe(reader, name, root, size, p => p.ManifestDescriptor.Platform, FindReferrers(layout, digests));
    }

    /// <summary>
    /// The image of an OCI archive read in place (a <c>.tar</c> from <c>sealer save</c>, the archive inside a site bundle):
    /// <paramref name="refName"/> picks one when the archive holds several.
    /// </summary>
    public static ClusterImageInfo Inspect(ArchiveLayout archive, string? refName = null)
    {
        var reader = ClusterImageReader.Open(archive, refName);
        var root = reader.Descriptor;
        long size = (MediaTypes.IsIndex(root.MediaType) ? root.Size : 0)
            + reader.Platforms.Sum(p => p.ManifestDescriptor.Size + p.Manifest.Config.Size + p.TotalLayerBytes);
        var digests = reader.Platforms.Select(p => p.ManifestDescriptor.Digest).Append(root.Digest).ToHashSet(StringComparer.Ordinal);
        return Describe(reader, reader.RefName ?? archive.Path, root, size, _ => null,
            FindReferrers(archive, digests));
    }

    private static ClusterImageInfo Describe(ClusterImageReader reader, string name, Descriptor root, long size, Func<ClusterImagePlatform, Platform?> indexPlatform, List<ReferrerInfo> referrers)
    {
        var platforms = new List<PlatformImageInfo>();
        foreach (var p in reader.Platforms)
        {
            platforms.Add(new PlatformImageInfo
            {
                Platform = (indexPlatform(p) ?? p.Platform).ToString(),
                ManifestDigest = p.ManifestDescriptor.Digest,
                ConfigDigest = p.Manifest.Config.Digest,
                Size = p.ManifestDescriptor.Size + p.Manifest.Config.Size + p.TotalLayerBytes,
                LayerCount = p.Layers.Count,
                Labels = new SortedDictionary<string, string>(p.Labels.ToDictionary(), StringComparer.Ordinal),
                Env = p.Config.Config?.Env,
                Extension = p.Extension is { } ext ? ImageExtensionInfo.From(ext) : null,
                Images = reader.ContainedImages(p),
            });
        }
        return new ClusterImageInfo
        {
            Name = name,
            Digest = root.Digest,
            MediaType = root.MediaType,
            Size = size,
            Platforms = platforms,
            Referrers = referrers.Count == 0 ? null : referrers,
        };
    }

    /// <summary>Unnamed index.json entries whose manifest has a <c>subject</c> in the given set.</summary>
    internal static List<ReferrerInfo> FindReferrers(IBlobSource source, IReadOnlySet<string> subjects)
    {
        var result = new List<ReferrerInfo>();
        foreach (var entry in source.ReadIndex().Manifests)
        {
            if (entry.GetAnnotation(Annotations.RefName) is not null || !MediaTypes.IsManifest(entry.MediaType) || !source.HasBlob(entry.ParsedDigest)) continue;
            var m = OciJsonContext.FromBytes(source.ReadBlobBytes(entry.ParsedDigest), OciJsonContext.Default.ImageManifest, $"manifest {entry.Digest}");
            if (m.Subject is not null && subjects.Contains(m.Subject.Digest))
            {
                result.Add(new ReferrerInfo { Digest = entry.Digest, ArtifactType = m.ArtifactType ?? m.Config.MediaType, Subject = m.Subject.Digest });
            }
        }
        return result;
    }
}
