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
        var platforms = new List<PlatformImageInfo>();
        foreach (var p in reader.Platforms)
        {
            var indexPlatform = graph.PlatformManifests().FirstOrDefault(m => m.Manifest.Descriptor.Digest == p.ManifestDescriptor.Digest).Platform;
            platforms.Add(new PlatformImageInfo
            {
                Platform = (indexPlatform ?? p.Platform).ToString(),
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
        var graphDigests = graph.Manifests.Select(m => m.Descriptor.Digest).ToHashSet(StringComparer.Ordinal);
        var referrers = FindReferrers(layout, graphDigests);
        return new ClusterImageInfo
        {
            Name = name,
            Digest = root.Digest,
            MediaType = root.MediaType,
            Size = graph.TotalSize,
            Platforms = platforms,
            Referrers = referrers.Count == 0 ? null : referrers,
        };
    }

    /// <summary>Unnamed index.json entries whose manifest has a <c>subject</c> in the given set.</summary>
    internal static List<ReferrerInfo> FindReferrers(OciLayout layout, IReadOnlySet<string> subjects)
    {
        var result = new List<ReferrerInfo>();
        foreach (var entry in layout.ReadIndex().Manifests)
        {
            if (entry.GetAnnotation(Annotations.RefName) is not null || !MediaTypes.IsManifest(entry.MediaType) || !layout.HasBlob(entry.ParsedDigest)) continue;
            var m = OciJsonContext.FromBytes(layout.ReadBlobBytes(entry.ParsedDigest), OciJsonContext.Default.ImageManifest, $"manifest {entry.Digest}");
            if (m.Subject is not null && subjects.Contains(m.Subject.Digest))
            {
                result.Add(new ReferrerInfo { Digest = entry.Digest, ArtifactType = m.ArtifactType ?? m.Config.MediaType, Subject = m.Subject.Digest });
            }
        }
        return result;
    }
}
