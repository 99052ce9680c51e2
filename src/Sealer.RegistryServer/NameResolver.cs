using Sealer.Core.References;

namespace Sealer.RegistryServer;

/// <summary>
/// Maps a request's repository name to a full repository name (<c>domain/path</c>) of the store:
/// <list type="number">
/// <item><c>?ns=&lt;domain&gt;</c> (containerd sends it to mirrors): the domain is ns, the path is the name.</item>
/// <item>Otherwise a first path segment that is a domain (has '.' or ':' or is <c>localhost</c>) is the domain:
/// <c>/v2/quay.io/coreos/etcd/...</c> (path mapping, for Docker and skopeo).</item>
/// <item>Otherwise the configured default domain (docker.io: a single-segment name gets <c>library/</c>).</item>
/// </list>
/// </summary>
public sealed class NameResolver(string defaultDomain)
{
    public string DefaultDomain { get; } = NormalizeDomain(defaultDomain);

    /// <summary>The full name, or null when the name (or ns) is not a valid reference.</summary>
    public string? Resolve(string name, string? ns)
    {
        string candidate;
        if (!string.IsNullOrEmpty(ns))
        {
            candidate = NormalizeDomain(ns) + "/" + name;
        }
        else
        {
            int slash = name.IndexOf('/');
            string head = slash > 0 ? name[..slash] : "";
            candidate = slash > 0 && (head.Contains('.') || head.Contains(':') || head == "localhost")
                ? name
                : DefaultDomain + "/" + name;
        }
        // ImageReference validates domain and path exactly as containerd does, and applies docker.io's library/ rule.
        return ImageReference.TryParse(candidate + ":latest", out var reference, out _) && reference.Digest is null ? reference.Name : null;
    }

    /// <summary>The name a full repository name has when the request carried <paramref name="ns"/> (catalog listing).</summary>
    public static string NormalizeDomain(string domain) => domain is "index.docker.io" or "registry-1.docker.io" ? "docker.io" : domain.ToLowerInvariant();
}
