using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.ClusterImage;

/// <summary>An app image a FROM base already carries: its registry/index.json entry and, per build platform, the manifest digest.</summary>
public sealed record CarriedImage(string Reference, Descriptor Top, IReadOnlyDictionary<string, string> Platforms);

/// <summary>
/// What a FROM base cluster image already holds, so a child build neither pulls nor re-collects it: the app images of its
/// <c>registry/index.json</c> (full refs and digests) and the image blobs its image-blob layers carry.
/// </summary>
public static class BaseImageContent
{
    /// <summary>
    /// The app images <paramref name="baseImage"/> carries for every one of <paramref name="platforms"/>, by full reference:
    /// listed in each platform's <c>registry/index.json</c> with one digest, and with that platform's manifest stored in the
    /// base's registry layers (an image the base lists but cannot serve for a platform is not carried).
    /// </summary>
    public static IReadOnlyDictionary<string, CarriedImage> CarriedImages(BaseImage baseImage, IReadOnlyList<Platform> platforms)
    {
        var reader = ClusterImageReader.Open(baseImage.Layout, baseImage.Descriptor, baseImage.Reference);
        Dictionary<string, CarriedImage>? result = null;
        foreach (var platform in platforms)
        {
            var pm = reader.ManifestFor(platform)
                ?? throw new SealerException(ErrorCodes.BaseImagePlatformMissing, $"The base image {baseImage.Reference} has no {platform} manifest. Build for the platforms it has, or pull it for {platform}.");
            var files = reader.RegistryFiles(pm);
            var here = new Dictionary<string, CarriedImage>(StringComparer.Ordinal);
            if (files.TryGetValue(ClusterImageFormat.RegistryIndexPath, out var indexBytes))
            {
                var index = OciJsonContext.FromBytes(indexBytes, OciJsonContext.Default.ImageIndex, $"registry/index.json of {baseImage.Reference}");
                foreach (var top in index.Manifests)
                {
                    if (top.GetAnnotation(Annotations.RefName) is not { } name || !Digest.TryParse(top.Digest, out var d)) continue;
                    string? manifest = PlatformManifest(top, d, platform, files);
                    if (manifest is not null) here[name] = new CarriedImage(name, top, new Dictionary<string, string>(StringComparer.Ordinal) { [platform.ToString()] = manifest });
                }
            }
            if (result is null)
            {
                result = here;
                continue;
            }
            foreach (var name in result.Keys.ToList())
            {
                if (!here.TryGetValue(name, out var other) || other.Top.Digest != result[name].Top.Digest)
                {
                    result.Remove(name);
                    continue;
                }
                var merged = new Dictionary<string, string>(result[name].Platforms, StringComparer.Ordinal);
                foreach (var kv in other.Platforms) merged[kv.Key] = kv.Value;
                result[name] = result[name] with { Platforms = merged };
            }
        }
        return result ?? new Dictionary<string, CarriedImage>(StringComparer.Ordinal);
    }

    /// <summary>The image blobs (app image layers) the base's image-blob layers hold, for one platform's manifest.</summary>
    public static IReadOnlySet<string> CarriedBlobs(ImageManifest baseManifest)
        => baseManifest.Layers
            .Where(l => l.GetAnnotation(ClusterImageFormat.LayerKindAnnotation) == ClusterImageFormat.LayerKindImageBlob)
            .Select(l => l.GetAnnotation(ClusterImageFormat.LayerBlobAnnotation))
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// A <see cref="Images.PullOptions.LocalBlobs"/> source over the base's image-blob layers (for every platform of
    /// <paramref name="platforms"/>): an app image blob the base carries is read out of its one-file tar layer instead of
    /// downloaded (the puller verifies it).
    /// </summary>
    public static Func<Descriptor, Stream?> BlobSource(BaseImage baseImage, IReadOnlyList<Platform> platforms)
    {
        var reader = ClusterImageReader.Open(baseImage.Layout, baseImage.Descriptor, baseImage.Reference);
        var layers = new Dictionary<string, Descriptor>(StringComparer.Ordinal);
        foreach (var platform in platforms)
        {
            foreach (var l in reader.ManifestFor(platform)?.Manifest.Layers ?? [])
            {
                if (ClusterImageFormat.ImageBlobOf(l) is { } blob) layers.TryAdd(blob.ToString(), l);
            }
        }
        return blob => layers.TryGetValue(blob.Digest, out var layer) && baseImage.Layout.HasBlob(layer.ParsedDigest, layer.Size)
            && InStoreBlobs.Locate(baseImage.Layout.BlobPath(layer.ParsedDigest), blob.ParsedDigest, out _) is { } at && at.Length == blob.Size
                ? at.Open()
                : null;
    }

    private static string? PlatformManifest(Descriptor top, Digest digest, Platform platform, IReadOnlyDictionary<string, byte[]> files)
    {
        if (!files.TryGetValue(ClusterImageFormat.RegistryBlobPath(digest), out var bytes)) return null;
        var probe = OciJsonContext.FromBytes(bytes, OciJsonContext.Default.ManifestProbe, $"manifest {digest}");
        if (!(MediaTypes.IsIndex(top.MediaType) || (probe.Manifests is not null && probe.Config is null))) return top.Digest;
        // An index: the child the base's build stored for this platform (assembly keeps exactly one per platform).
        foreach (var child in probe.Manifests ?? [])
        {
            if (platform.Matches(child.Platform) && Digest.TryParse(child.Digest, out var cd) && files.ContainsKey(ClusterImageFormat.RegistryBlobPath(cd))) return child.Digest;
        }
        return null;
    }
}
