using Sealer.Core.ClusterImage;
using Sealer.Core.References;

namespace Sealer.Core.Delivery.Checks;

/// <summary>
/// What the cluster image's built-in registry serves (<c>registry/images.json</c> of every platform): each repository with
/// its tags and the digests of its manifests (index and per-platform). An image is served when its repository is there
/// with its tag (no tag: <c>latest</c>), or, pinned, with its digest: containerd asks the mirror for exactly the
/// repository and the tag or digest, so both must match after normalisation (<c>nginx</c> is <c>docker.io/library/nginx:latest</c>).
/// </summary>
public sealed class ServedImages
{
    private readonly Dictionary<string, (HashSet<string> Tags, HashSet<string> Digests)> _repos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _byDigest = new(StringComparer.Ordinal);

    /// <summary>The references served, normalized, sorted.</summary>
    public IReadOnlyList<string> References { get; }

    public ServedImages(IEnumerable<ContainedImage> images)
    {
        var refs = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var i in images)
        {
            if (!ImageReference.TryParse(i.Reference, out var r, out _)) continue;
            if (!_repos.TryGetValue(r.Name, out var entry)) _repos[r.Name] = entry = (new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal));
            entry.Tags.Add(r.Tag ?? "latest");
            entry.Digests.Add(i.Digest);
            _byDigest.TryAdd(i.Digest, r.ToString());
            foreach (var p in i.Platforms)
            {
                entry.Digests.Add(p.Digest);
                _byDigest.TryAdd(p.Digest, r.ToString());
            }
            refs.Add(r.ToString());
        }
        References = refs.ToList();
    }

    /// <summary>Every platform's image list of a cluster image, merged (the registry hosts serve the content of every platform).</summary>
    public static ServedImages Of(ClusterImageSource image) => new(image.Platforms.SelectMany(image.ContainedImages));

    public int Count => References.Count;

    /// <summary>Whether the registry serves <paramref name="image"/> (a tag: that tag of that repository; pinned: that digest in that repository).</summary>
    public bool Serves(ImageReference image)
    {
        if (!_repos.TryGetValue(image.Name, out var entry)) return false;
        return image.Digest is { } d ? entry.Digests.Contains(d) : entry.Tags.Contains(image.Tag ?? "latest");
    }

    /// <summary>Whether the registry holds a manifest with this digest (any repository), and under which reference.</summary>
    public string? ByDigest(string digest) => _byDigest.GetValueOrDefault(digest);

    /// <summary>The closest served reference to a missing one (same repository, another tag or digest), for the message.</summary>
    public string? Nearest(ImageReference image) =>
        _repos.TryGetValue(image.Name, out var e) ? $"{image.Name} is served with {(image.Digest is null ? "tag(s) " + string.Join(", ", e.Tags.Order(StringComparer.Ordinal)) : "other digests")}" : null;
}
