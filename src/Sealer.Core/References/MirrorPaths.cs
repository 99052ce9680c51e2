using System.Text;

namespace Sealer.Core.References;

/// <summary>
/// Where a mirror registry keeps an image. Without a prefix, under its own path (<c>library/nginx</c>): what containerd
/// asks a mirror for, the domain dropped. With a prefix (a Harbor project, <c>externalRegistry.prefix</c>,
/// <c>sealer mirror IMAGE REGISTRY/PREFIX</c>), under <c>PREFIX/DOMAIN/PATH</c> (<c>sealer/docker.io/library/nginx</c>):
/// one project holds every domain, and <c>docker.io/x/y</c> and <c>quay.io/x/y</c> stay apart. containerd reaches them by
/// hosts.toml mirror URLs with that path and <c>override_path</c>. An image without a domain (Sealer's registry format)
/// and <c>_default</c> go to <c>PREFIX/PATH</c>.
/// </summary>
public static class MirrorPaths
{
    /// <summary>The repository in the mirror for <paramref name="path"/> of <paramref name="domain"/> (null: no domain).</summary>
    public static string Repository(string? prefix, string? domain, string path)
        => prefix is null ? path : domain is null ? prefix + "/" + path : prefix + "/" + DomainSegment(domain) + "/" + path;

    /// <summary>The path under the prefix for a domain's images (<c>PREFIX/DOMAIN</c>), or the prefix itself for <c>_default</c>.</summary>
    public static string Root(string prefix, string? domain) => domain is null ? prefix : prefix + "/" + DomainSegment(domain);

    /// <summary>A domain as one path component: lower case, a port's ':' (and any other character a path cannot hold) as '-'
    /// (<c>registry.local:5000</c> → <c>registry.local-5000</c>).</summary>
    public static string DomainSegment(string domain)
    {
        var sb = new StringBuilder(domain.Length);
        foreach (char c in domain.ToLowerInvariant())
        {
            bool keep = c is >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '-';
            if (keep) sb.Append(c);
            else if (sb.Length > 0 && sb[^1] != '-') sb.Append('-');
        }
        return sb.ToString().Trim('-', '.');
    }

    /// <summary>True when <paramref name="prefix"/> is a repository path (lower-case components joined by '/').</summary>
    public static bool IsValidPrefix(string prefix) => prefix.Length > 0 && ImageReference.IsValidPath(prefix);

    /// <summary>Splits a mirror target <c>host[:port][/PREFIX]</c>; the error says what is wrong, or is null.</summary>
    public static (string Host, string? Prefix, string? Error) SplitTarget(string target)
    {
        string t = target.TrimEnd('/');
        int slash = t.IndexOf('/');
        string host = slash < 0 ? t : t[..slash];
        string? prefix = slash < 0 ? null : t[(slash + 1)..];
        if (!ImageReference.IsValidDomain(host)) return (host, prefix, $"'{host}' is not a registry host[:port]");
        if (prefix is not null && !IsValidPrefix(prefix)) return (host, prefix, $"'{prefix}' is not a path prefix (lower-case components of [a-z0-9] joined by '.', '_', '-', separated by '/')");
        return (host, prefix, null);
    }
}
