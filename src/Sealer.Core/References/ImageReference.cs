using System.Diagnostics.CodeAnalysis;
using Sealer.Core.Diagnostics;
using Sealer.Core.Oci;

namespace Sealer.Core.References;

/// <summary>
/// An image reference, parsed and normalized exactly as Docker and containerd do (distribution/reference
/// <c>ParseNormalizedNamed</c> + <c>TagNameOnly</c>): no domain means <c>docker.io</c>, a single-component Docker Hub name
/// gets <c>library/</c>, no tag and no digest means <c>:latest</c>, <c>index.docker.io</c> is <c>docker.io</c>.
/// The domain is always kept, so <c>docker.io/x</c> and <c>quay.io/x</c> never collide.
/// </summary>
public sealed record ImageReference
{
    public const string DefaultDomain = "docker.io";
    private const string LegacyDefaultDomain = "index.docker.io";
    private const int MaxNameLength = 255;

    private ImageReference(string domain, string repository, string? tag, string? digest)
    {
        Domain = domain;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>Registry host with optional port, e.g. <c>docker.io</c>, <c>registry.k8s.io</c>, <c>127.0.0.1:5000</c>.</summary>
    public string Domain { get; }

    /// <summary>The path inside the registry, e.g. <c>library/nginx</c>.</summary>
    public string Repository { get; }

    /// <summary>The tag, or null when the reference is by digest only.</summary>
    public string? Tag { get; }

    /// <summary>The digest (<c>sha256:...</c>), or null.</summary>
    public string? Digest { get; }

    /// <summary><c>domain/repository</c>.</summary>
    public string Name => $"{Domain}/{Repository}";

    /// <summary>Tag or digest to ask the registry for: the digest wins when both are present (it pins the content).</summary>
    public string ManifestReference => Digest ?? Tag ?? "latest";

    /// <summary>True when the reference pins content by digest (never re-resolved).</summary>
    public bool IsPinned => Digest is not null;

    /// <summary>The normalized full reference: <c>docker.io/library/nginx:1.27</c>, <c>quay.io/x/y@sha256:…</c>,
    /// or <c>name:tag@sha256:…</c> when both were given.</summary>
    public override string ToString()
        => Name + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    /// <summary>This reference with a digest added (keeping the tag), as written into the lock.</summary>
    public ImageReference WithDigest(string digest) => new(Domain, Repository, Tag, digest);

    /// <summary>This reference with the same repository on another registry domain (for mirrors).</summary>
    public ImageReference WithDomain(string domain) => new(domain, Repository, Tag, Digest);

    /// <summary>Parses and normalizes; throws <see cref="ErrorCodes.InvalidImageReference"/> naming the file and line when given.</summary>
    public static ImageReference Parse(string value, string? file = null, int line = 0)
        => TryParse(value, out var r, out var error) ? r
            : throw new SealerException(ErrorCodes.InvalidImageReference, $"'{value}' is not a valid image reference: {error}.", file, line);

    public static bool TryParse(string? value, [NotNullWhen(true)] out ImageReference? reference, [NotNullWhen(false)] out string? error)
    {
        reference = null;
        error = null;
        if (string.IsNullOrWhiteSpace(value)) { error = "it is empty"; return false; }
        string s = value.Trim();
        if (s.Length != value.Length && value.Trim() != value) s = value.Trim();
        foreach (char c in s)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c)) { error = "it contains white space or control characters"; return false; }
        }

        string? digest = null;
        int at = s.IndexOf('@');
        if (at >= 0)
        {
            digest = s[(at + 1)..];
            s = s[..at];
            if (!Oci.Digest.TryParse(digest, out _))
            {
                error = $"'{digest}' is not a valid digest (sha256:<64 lowercase hex> or sha512:<128 lowercase hex>)";
                return false;
            }
        }

        // The tag is after the last ':' that comes after the last '/' (a ':' before it belongs to a port).
        string? tag = null;
        int slash = s.LastIndexOf('/');
        int colon = s.LastIndexOf(':');
        if (colon > slash)
        {
            tag = s[(colon + 1)..];
            s = s[..colon];
            if (!IsValidTag(tag)) { error = $"'{tag}' is not a valid tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')"; return false; }
        }

        if (s.Length == 0) { error = "the name is empty"; return false; }

        string domain, path;
        int first = s.IndexOf('/');
        if (first < 0)
        {
            domain = DefaultDomain;
            path = s;
        }
        else
        {
            string head = s[..first];
            bool isDomain = head.Contains('.') || head.Contains(':') || head == "localhost" || head.Any(char.IsUpper) || head.StartsWith('[');
            if (isDomain)
            {
                domain = head;
                path = s[(first + 1)..];
            }
            else
            {
                domain = DefaultDomain;
                path = s;
            }
        }
        if (domain == LegacyDefaultDomain) domain = DefaultDomain;
        if (!IsValidDomain(domain)) { error = $"'{domain}' is not a valid registry host[:port]"; return false; }
        if (domain == DefaultDomain && !path.Contains('/')) path = "library/" + path;
        if (path.Any(char.IsUpper)) { error = "repository names must be lowercase"; return false; }
        if (!IsValidPath(path)) { error = $"'{path}' is not a valid repository path (lowercase components of [a-z0-9] joined by '.', '_', '__' or '-', separated by '/')"; return false; }
        if (domain.Length + 1 + path.Length > MaxNameLength) { error = $"the name is longer than {MaxNameLength} characters"; return false; }
        if (tag is null && digest is null) tag = "latest";
        reference = new ImageReference(domain, path, tag, digest);
        return true;
    }

    internal static bool IsValidTag(string tag)
    {
        if (tag.Length is 0 or > 128) return false;
        if (!IsWordChar(tag[0])) return false;
        foreach (char c in tag) if (!(IsWordChar(c) || c is '.' or '-')) return false;
        return true;
    }

    private static bool IsWordChar(char c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_';

    private static bool IsAlnumLower(char c) => c is >= 'a' and <= 'z' or >= '0' and <= '9';

    /// <summary>path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+ .</summary>
    internal static bool IsValidPath(string path)
    {
        foreach (var component in path.Split('/'))
        {
            if (component.Length == 0 || !IsAlnumLower(component[0]) || !IsAlnumLower(component[^1])) return false;
            int i = 0;
            while (i < component.Length)
            {
                if (IsAlnumLower(component[i])) { i++; continue; }
                int start = i;
                while (i < component.Length && !IsAlnumLower(component[i])) i++;
                string sep = component[start..i];
                bool ok = sep is "." or "_" or "__" || sep.All(c => c == '-');
                if (!ok) return false;
            }
        }
        return true;
    }

    /// <summary>host := domain-name | IPv4 | [IPv6], optional :port.</summary>
    internal static bool IsValidDomain(string domain)
    {
        string host = domain;
        if (domain.StartsWith('['))
        {
            int close = domain.IndexOf(']');
            if (close < 0) return false;
            string rest = domain[(close + 1)..];
            if (rest.Length > 0 && !(rest[0] == ':' && IsPort(rest[1..]))) return false;
            return System.Net.IPAddress.TryParse(domain[1..close], out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }
        int colon = domain.LastIndexOf(':');
        if (colon >= 0)
        {
            if (!IsPort(domain[(colon + 1)..])) return false;
            host = domain[..colon];
        }
        if (host.Length == 0) return false;
        foreach (var label in host.Split('.'))
        {
            if (label.Length == 0) return false;
            if (!char.IsAsciiLetterOrDigit(label[0]) || !char.IsAsciiLetterOrDigit(label[^1])) return false;
            if (label.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-'))) return false;
        }
        return true;
    }

    private static bool IsPort(string s) => s.Length is > 0 and <= 5 && s.All(char.IsAsciiDigit) && int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 65535;
}
