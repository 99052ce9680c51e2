using Sealer.Core.Distribution.Auth;

namespace Sealer.Core.Distribution.Upload;

/// <summary>
/// The HTTP seam of the upload operations: a thin wrapper over <see cref="RegistryClient"/> (its authentication —
/// anonymous, Basic, Bearer tokens from the challenge, credentials from the environment, Docker config and credential
/// helpers —, TLS and insecure-registry rules, redirects, and retries of transient failures) bound to the push
/// destination's own registry endpoint (never a mirror). Upload code builds requests; this sends them.
/// </summary>
public sealed class RegistryTransport : IDisposable
{
    private readonly RegistryClient _client;
    private readonly bool _ownsClient;

    /// <summary>Uses <paramref name="client"/> (shared with pulls: same credentials and token cache) for <paramref name="registry"/>.</summary>
    public RegistryTransport(RegistryClient client, string registry)
    {
        _client = client;
        Registry = registry;
        // The source endpoint is always last (mirrors first); pushes go to the registry itself.
        var options = client.Options;
        Endpoint = RegistryEndpoint.Parse(RegistryEndpoint.ApiHost(registry), registry, isMirror: false, options);
    }

    /// <summary>
    /// Uses <paramref name="client"/> for the registry at <paramref name="baseUrl"/> (<c>https://host[:port]</c>, or
    /// <c>http://host[:port]</c> for loopback and the client's insecure registries): a registry addressed by URL rather
    /// than by an image's domain, such as the built-in registry's pull-through upstreams. Credentials are looked up for
    /// the URL's authority (<c>host[:port]</c>).
    /// </summary>
    public RegistryTransport(RegistryClient client, Uri baseUrl)
    {
        _client = client;
        Registry = baseUrl.Authority;
        Endpoint = RegistryEndpoint.Parse(baseUrl.GetLeftPart(UriPartial.Authority), Registry, isMirror: false, client.Options);
    }

    /// <summary>A transport with its own client: credentials from <paramref name="credentials"/>, else the environment and Docker config.</summary>
    public RegistryTransport(string registry, ICredentialProvider? credentials = null, bool plainHttp = false)
        : this(CreateClient(registry, credentials, plainHttp), registry) => _ownsClient = true;

    /// <summary>The transport a push to <paramref name="registry"/> uses: <see cref="PushOptions.Client"/>'s when given, else its
    /// own client with the options' credentials and plain-HTTP setting.</summary>
    public static RegistryTransport For(string registry, PushOptions options)
        => options.Client is { } client ? new RegistryTransport(client, registry) : new RegistryTransport(registry, options.Credentials, options.PlainHttp);

    private static RegistryClient CreateClient(string registry, ICredentialProvider? credentials, bool plainHttp)
    {
        var options = new RegistryOptions().AddFromEnvironment();
        if (credentials is not null) options.Credentials = credentials;
        if (plainHttp) options.AddInsecureRegistry(registry);
        return new RegistryClient(options);
    }

    /// <summary>Host and port, as in image references (<c>registry.example.com</c>, <c>127.0.0.1:5000</c>).</summary>
    public string Registry { get; }

    public RegistryEndpoint Endpoint { get; }

    public RegistryClient Client => _client;

    /// <summary>An absolute URI for a registry path (<c>v2/…</c>) or a Location header (relative or absolute).</summary>
    public Uri Resolve(string pathOrLocation) => new(Endpoint.BaseUri, pathOrLocation);

    /// <summary>
    /// Sends <c>create()</c> with authentication for <paramref name="scope"/>. With <paramref name="retry"/> transient failures
    /// (connection errors, 429, 5xx) are retried by the client; without it (requests carrying part of a blob) one attempt is
    /// made and the caller resumes from the registry's state instead of resending blindly.
    /// </summary>
    /// <remarks>
    /// The scheme is the client's (<c>RegistryClient.WithSchemeAsync</c>, shared with pulls): an insecure registry named
    /// without a scheme is tried over HTTPS (its certificate not checked) and, when that meets a plain-HTTP server, over
    /// HTTP from then on, as Docker does for its insecure registries (a site's Harbor without TLS, listed in
    /// SEALER_INSECURE_REGISTRIES). Requests built for the other scheme (<see cref="Resolve"/> uses the endpoint as
    /// parsed) are sent over the one that works.
    /// </remarks>
    public Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, string scope, bool retry, CancellationToken cancellationToken = default)
        => _client.WithSchemeAsync(Endpoint, retry ? _client.Options.MaxAttempts : 1,
            (ep, attempts) => _client.SendAsync(ep.SchemeGuessed ? OnSchemeOf(ep, create) : create, ep, scope, Registry, attempts, cancellationToken, streaming: true));

    /// <summary><paramref name="create"/> with a request URI for this registry sent over <paramref name="endpoint"/>'s scheme.</summary>
    private static Func<HttpRequestMessage> OnSchemeOf(RegistryEndpoint endpoint, Func<HttpRequestMessage> create) => () =>
    {
        var req = create();
        if (req.RequestUri is { IsAbsoluteUri: true } u && u.Authority == endpoint.BaseUri.Authority && u.Scheme != endpoint.BaseUri.Scheme)
        {
            req.RequestUri = new UriBuilder(u) { Scheme = endpoint.BaseUri.Scheme, Port = u.Port }.Uri;
        }
        return req;
    };

    /// <summary>Explicit credentials for one registry host (e.g. from <c>--password-stdin</c>).</summary>
    public static ICredentialProvider StaticCredentials(string registry, string username, string password)
        => new StaticCredentialProvider(new Dictionary<string, RegistryCredential>(StringComparer.Ordinal) { [registry] = new RegistryCredential(username, password) { Origin = "the command line" } });

    public void Dispose()
    {
        if (_ownsClient) _client.Dispose();
    }
}
