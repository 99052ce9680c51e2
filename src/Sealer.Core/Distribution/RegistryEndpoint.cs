using System.Net;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Distribution;

/// <summary>
/// Where requests for one source domain go: a mirror or the source itself. <see cref="BaseUri"/> is <c>scheme://host[:port]</c>;
/// requests to a mirror carry <c>?ns=&lt;source domain&gt;</c>, as containerd sends, so one mirror can serve many domains.
/// </summary>
public sealed record RegistryEndpoint
{
    public required Uri BaseUri { get; init; }

    /// <summary>The source domain this endpoint serves (e.g. <c>docker.io</c>).</summary>
    public required string SourceDomain { get; init; }

    public bool IsMirror { get; init; }

    /// <summary>True when certificate checks are skipped for it (an insecure registry over https).</summary>
    public bool SkipTlsVerify { get; init; }

    /// <summary>
    /// True when no scheme was given for a loopback or insecure host: the client then tries the other scheme when the
    /// first one meets the wrong protocol (http first for loopback, https first for other insecure hosts, as Docker does).
    /// </summary>
    public bool SchemeGuessed { get; init; }

    /// <summary>This endpoint over the other scheme (https without certificate checks, or http).</summary>
    public RegistryEndpoint WithOtherScheme()
    {
        bool toHttps = IsPlainHttp;
        return this with { BaseUri = new Uri($"{(toHttps ? "https" : "http")}://{BaseUri.Authority}/"), SkipTlsVerify = toHttps };
    }

    /// <summary><c>host:port</c> as used for auth state.</summary>
    public string Authority => BaseUri.Authority;

    public bool IsPlainHttp => BaseUri.Scheme == Uri.UriSchemeHttp;

    /// <summary>The host credentials are looked up for: the source domain (<c>docker.io</c>) for the source, the mirror's host:port for a mirror.</summary>
    public string CredentialHost => IsMirror ? BaseUri.IsDefaultPort ? BaseUri.Host : BaseUri.Authority : SourceDomain;

    public override string ToString() => IsMirror ? $"{BaseUri.GetLeftPart(UriPartial.Authority)} (mirror of {SourceDomain})" : BaseUri.GetLeftPart(UriPartial.Authority);

    /// <summary>Builds <c>/v2/&lt;repository&gt;/&lt;kind&gt;/&lt;reference&gt;</c> on this endpoint.</summary>
    public Uri Url(string repository, string kind, string reference)
    {
        var path = $"/v2/{repository}/{kind}/{reference}";
        return new Uri(BaseUri, IsMirror ? path + "?ns=" + Uri.EscapeDataString(SourceDomain) : path);
    }

    public static bool IsLoopback(string host)
    {
        string h = host.Trim('[', ']');
        if (h.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(h, out var ip) && IPAddress.IsLoopback(ip);
    }

    /// <summary>The host registry API requests for a source domain go to: Docker Hub's API lives at registry-1.docker.io.</summary>
    public static string ApiHost(string domain) => domain == "docker.io" ? "registry-1.docker.io" : domain;

    /// <summary>
    /// Parses an endpoint given as <c>https://host[:port]</c>, <c>http://host[:port]</c> or <c>host[:port]</c> (https, or http for
    /// loopback and insecure hosts). Plain http to a host that is neither loopback nor insecure is refused.
    /// </summary>
    public static RegistryEndpoint Parse(string value, string sourceDomain, bool isMirror, RegistryOptions options)
    {
        string v = value.Trim().TrimEnd('/');
        string? scheme = null;
        int sep = v.IndexOf("://", StringComparison.Ordinal);
        if (sep >= 0)
        {
            scheme = v[..sep].ToLowerInvariant();
            v = v[(sep + 3)..];
        }
        if (v.Contains('/') || v.Length == 0 || !References.ImageReference.IsValidDomain(v))
        {
            throw new SealerException(ErrorCodes.RegistryConfigInvalid, $"'{value}' is not a registry endpoint: write host[:port], https://host[:port] or http://host[:port] (no path).");
        }
        string host = v.StartsWith('[') ? v[..(v.IndexOf(']') + 1)] : v.Contains(':') ? v[..v.LastIndexOf(':')] : v;
        bool insecure = options.IsInsecure(v) || options.IsInsecure(host);
        bool loopback = IsLoopback(host);
        bool guessed = scheme is null && (loopback || insecure);
        scheme ??= loopback ? "http" : "https";
        if (scheme is not ("http" or "https")) throw new SealerException(ErrorCodes.RegistryConfigInvalid, $"'{value}': only http and https registries are supported.");
        if (scheme == "http" && !loopback && !insecure)
        {
            throw new SealerException(ErrorCodes.InsecureRegistryNotAllowed,
                $"'{value}' is plain HTTP to a host that is not loopback. List '{v}' in the insecure registries (SealerInsecureRegistries / SEALER_INSECURE_REGISTRIES) if that is really wanted.");
        }
        return new RegistryEndpoint { BaseUri = new Uri($"{scheme}://{v}/"), SourceDomain = sourceDomain, IsMirror = isMirror, SkipTlsVerify = scheme == "https" && insecure, SchemeGuessed = guessed };
    }
}
