using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.RegistryServer;

/// <summary>
/// A docker/distribution filesystem storage tree (<c>docker/registry/v2/{repositories,blobs}</c>), as Sealer's own cluster
/// images carry under <c>rootfs/registry</c>. Served read-only as it is. Sealer dropped the source domain from repository
/// paths, so these repositories are <em>domainless</em>: <c>library/nginx</c> answers for any domain that has no image of
/// that name in an OCI layout (the collision Sealer always had; OCI layouts with full names take precedence).
/// Paths are built from validated repository names and parsed digests only.
/// </summary>
public sealed class DistributionStorage
{
    private DistributionStorage(string root) => Root = root;

    /// <summary>The <c>docker/registry/v2</c> directory.</summary>
    public string Root { get; }

    /// <summary>The storage under <paramref name="directory"/> (the directory itself or its <c>docker/registry/v2</c>), or null.</summary>
    public static DistributionStorage? TryOpen(string directory)
    {
        foreach (var candidate in new[] { Path.Combine(directory, "docker", "registry", "v2"), directory })
        {
            if (Directory.Exists(Path.Combine(candidate, "repositories")) && Directory.Exists(Path.Combine(candidate, "blobs"))) return new DistributionStorage(Path.GetFullPath(candidate));
        }
        return null;
    }

    public string BlobPath(Digest digest) => Path.Combine(Root, "blobs", digest.Algorithm, digest.Encoded[..2], digest.Encoded, "data");

    /// <summary>One repository: its path, tags → manifest digest, and every digest linked to it (manifests and layers).</summary>
    public sealed record StoredRepository(string Path, IReadOnlyDictionary<string, string> Tags, IReadOnlyCollection<string> Content);

    /// <summary>Every repository (a directory holding <c>_manifests</c>) with a valid name.</summary>
    public IEnumerable<StoredRepository> Repositories()
    {
        string repos = Path.Combine(Root, "repositories");
        var pending = new Stack<string>();
        pending.Push(repos);
        while (pending.Count > 0)
        {
            string dir = pending.Pop();
            foreach (var sub in Directory.EnumerateDirectories(dir))
            {
                string name = Path.GetFileName(sub);
                if (name.StartsWith('_')) continue;
                if ((File.GetAttributes(sub) & FileAttributes.ReparsePoint) != 0) continue; // never follow links out of the tree
                if (Directory.Exists(Path.Combine(sub, "_manifests")))
                {
                    string path = System.IO.Path.GetRelativePath(repos, sub).Replace('\\', '/');
                    if (ImageReference.IsValidPath(path)) yield return Load(path, sub);
                }
                pending.Push(sub);
            }
        }
    }

    private static StoredRepository Load(string path, string dir)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        var content = new HashSet<string>(StringComparer.Ordinal);
        string tagsDir = Path.Combine(dir, "_manifests", "tags");
        if (Directory.Exists(tagsDir))
        {
            foreach (var tagDir in Directory.EnumerateDirectories(tagsDir))
            {
                string tag = Path.GetFileName(tagDir);
                if (!RegistryHandler.IsValidTag(tag)) continue;
                if (ReadLink(Path.Combine(tagDir, "current", "link")) is { } d) tags[tag] = d;
            }
        }
        foreach (var sub in new[] { Path.Combine(dir, "_manifests", "revisions"), Path.Combine(dir, "_layers") })
        {
            if (!Directory.Exists(sub)) continue;
            foreach (var algDir in Directory.EnumerateDirectories(sub))
            {
                foreach (var linkDir in Directory.EnumerateDirectories(algDir))
                {
                    if (ReadLink(Path.Combine(linkDir, "link")) is { } d) content.Add(d);
                }
            }
        }
        foreach (var d in tags.Values) content.Add(d);
        return new StoredRepository(path, tags, content);
    }

    private static string? ReadLink(string file)
    {
        try
        {
            var info = new FileInfo(file);
            if (!info.Exists || info.Length > 200) return null;
            string text = File.ReadAllText(file).Trim();
            return Digest.TryParse(text, out var d) ? d.ToString() : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
