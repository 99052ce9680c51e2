using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Distribution.Upload;

/// <summary>Username/password (or identity token) for one registry. Never printed.</summary>
public sealed record RegistryCredential(string Username, string Password)
{
    public override string ToString() => $"RegistryCredential({Username}, ***)";
}

/// <summary>
/// The HTTP seam of the upload operations: sends requests to one registry with authentication applied — anonymous,
/// HTTP Basic, or Bearer tokens from the registry's token service (distribution token spec), negotiated from the
/// <c>WWW-Authenticate</c> challenge and cached per scope. Requests are made by factories so a request can be sent again
/// after a challenge. <c>HttpClient.Timeout</c> is infinite; callers give each operation its own timeout.
/// This is the thin wrapper the push needs over the registry client's auth; see <see cref="ForRegistry"/>.
/// </summary>
public sealed class RegistryTransport : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsClient;
    private readonly Func<string, RegistryCredential?> _credentials;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _authLock = new(1, 1);
    private AuthenticationHeaderValue? _basic;
    private string? _bearerScheme;
    private string? _realm, _service;

    public RegistryTransport(string registry, Func<string, RegistryCredential?>? credentials = null, bool? plainHttp = null, HttpMessageHandler? handler = null, int maxConnections = 16)
    {
        Registry = registry;
        bool http = plainHttp ?? IsLoopback(registry);
        BaseUri = new Uri($"{(http ? "http" : "https")}://{registry}/");
        _credentials = credentials ?? (_ => null);
        _ownsClient = true;
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = true,
        }, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("sealer/0.1");
    }

    /// <summary>Host and port, as in image references (<c>registry.example.com</c>, <c>127.0.0.1:5000</c>).</summary>
    public string Registry { get; }

    public Uri BaseUri { get; }

    /// <summary>A transport for a registry with credentials from the usual places (see <see cref="DockerCredentials"/>).</summary>
    public static RegistryTransport ForRegistry(string registry, RegistryCredential? explicitCredential = null, bool? plainHttp = null)
        => new(registry, host => explicitCredential ?? DockerCredentials.Find(host), plainHttp);

    internal static bool IsLoopback(string registry)
    {
        string host = registry.StartsWith('[') ? registry[1..registry.IndexOf(']')] : registry.Split(':')[0];
        return host is "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    /// <summary>An absolute URI for a registry path (<c>v2/…</c>) or a Location header (relative or absolute).</summary>
    public Uri Resolve(string pathOrLocation) => new(BaseUri, pathOrLocation);

    /// <summary>
    /// Sends <c>create()</c> with the current credentials; on 401 it reads the challenge, gets a token (or uses Basic) for
    /// <paramref name="scope"/> and sends a fresh request once more. A second 401 throws <see cref="ErrorCodes.PushUnauthorized"/>.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, string scope, HttpCompletionOption completion = HttpCompletionOption.ResponseHeadersRead, CancellationToken cancellationToken = default)
    {
        for (int attempt = 0; ; attempt++)
        {
            var request = create();
            ApplyAuth(request, scope);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (ex.InnerException is System.Net.Sockets.SocketException se && se.SocketErrorCode is System.Net.Sockets.SocketError.ConnectionRefused or System.Net.Sockets.SocketError.HostNotFound)
            {
                throw new SealerException(ErrorCodes.RegistryUnreachable, $"Cannot reach registry {Registry} ({se.SocketErrorCode}). Check the name and port, and that it is running.", inner: ex);
            }
            if (response.StatusCode != HttpStatusCode.Unauthorized || attempt > 0) return response;
            var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
            response.Dispose();
            if (challenge is null) return await _http.SendAsync(create(), completion, cancellationToken).ConfigureAwait(false);
            await AuthenticateAsync(challenge, scope, cancellationToken).ConfigureAwait(false);
        }
    }

    private void ApplyAuth(HttpRequestMessage request, string scope)
    {
        if (_bearerScheme is not null && _tokens.TryGetValue(scope, out var token)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        else if (_basic is not null) request.Headers.Authorization = _basic;
    }

    private async Task AuthenticateAsync(AuthenticationHeaderValue challenge, string scope, CancellationToken cancellationToken)
    {
        await _authLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var credential = _credentials(Registry);
            if (string.Equals(challenge.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
            {
                if (credential is null) throw Unauthorized("it asks for a username and password and none were found");
                _basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
                return;
            }
            if (!string.Equals(challenge.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)) throw Unauthorized($"it asks for unsupported '{challenge.Scheme}' authentication");
            var p = ParseChallenge(challenge.Parameter ?? "");
            _realm = p.GetValueOrDefault("realm") ?? _realm ?? throw Unauthorized("its Bearer challenge has no realm");
            _service = p.GetValueOrDefault("service") ?? _service;
            string url = _realm + (_realm.Contains('?') ? "&" : "?") + (string.IsNullOrEmpty(_service) ? "" : $"service={Uri.EscapeDataString(_service)}&") + string.Join('&', scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(x => $"scope={Uri.EscapeDataString(x)}"));
            using var req = new HttpRequestMessage(HttpMethod.Get, url);
            if (credential is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(TimeSpan.FromSeconds(60));
            using var resp = await _http.SendAsync(req, cts.Token).ConfigureAwait(false);
            if (!resp.IsSuccessStatusCode)
            {
                throw Unauthorized($"its token service refused {(credential is null ? "anonymous access" : $"user '{credential.Username}'")} ({(int)resp.StatusCode})");
            }
            using var doc = JsonDocument.Parse(await resp.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false));
            string? token = doc.RootElement.TryGetProperty("token", out var t) ? t.GetString() : doc.RootElement.TryGetProperty("access_token", out var a) ? a.GetString() : null;
            _tokens[scope] = token ?? throw Unauthorized("its token service answered without a token");
            _bearerScheme = "Bearer";
        }
        finally
        {
            _authLock.Release();
        }
    }

    private SealerException Unauthorized(string why) => new(ErrorCodes.PushUnauthorized,
        $"Registry {Registry} refused access: {why}. Log in with credentials that may push (docker login {Registry}, or SEALER_REGISTRY_USER/SEALER_REGISTRY_PASSWORD).");

    /// <summary>Parses <c>realm="…",service="…",scope="…"</c>.</summary>
    internal static Dictionary<string, string> ParseChallenge(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (i < parameter.Length)
        {
            while (i < parameter.Length && (parameter[i] == ',' || char.IsWhiteSpace(parameter[i]))) i++;
            int eq = parameter.IndexOf('=', i);
            if (eq < 0) break;
            string key = parameter[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < parameter.Length && parameter[i] == '"')
            {
                int end = parameter.IndexOf('"', i + 1);
                if (end < 0) end = parameter.Length;
                value = parameter[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                int end = parameter.IndexOf(',', i);
                if (end < 0) end = parameter.Length;
                value = parameter[i..end].Trim();
                i = end;
            }
            result[key] = value;
        }
        return result;
    }

    public void Dispose()
    {
        if (_ownsClient) _http.Dispose();
        _authLock.Dispose();
    }
}

/// <summary>
/// Credentials for a registry host: <c>SEALER_REGISTRY_USER</c>/<c>SEALER_REGISTRY_PASSWORD</c>, else the <c>auths</c>
/// entry of the Docker config (<c>$DOCKER_CONFIG/config.json</c> or <c>~/.docker/config.json</c>). Never from project files.
/// </summary>
public static class DockerCredentials
{
    public static RegistryCredential? Find(string registry)
    {
        string? user = Environment.GetEnvironmentVariable("SEALER_REGISTRY_USER");
        string? pass = Environment.GetEnvironmentVariable("SEALER_REGISTRY_PASSWORD");
        if (!string.IsNullOrEmpty(user) && pass is not null) return new RegistryCredential(user, pass);
        string dir = Environment.GetEnvironmentVariable("DOCKER_CONFIG") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        string path = Path.Combine(dir, "config.json");
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (!doc.RootElement.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object) return null;
            foreach (var entry in auths.EnumerateObject())
            {
                string key = entry.Name;
                if (key.StartsWith("https://", StringComparison.Ordinal)) key = key[8..];
                else if (key.StartsWith("http://", StringComparison.Ordinal)) key = key[7..];
                key = key.TrimEnd('/');
                if (key.EndsWith("/v1", StringComparison.Ordinal) || key.EndsWith("/v2", StringComparison.Ordinal)) key = key[..^3];
                bool match = key == registry || (registry == "docker.io" && key is "index.docker.io" or "registry-1.docker.io");
                if (!match || !entry.Value.TryGetProperty("auth", out var auth) || auth.GetString() is not { Length: > 0 } b64) continue;
                string pair = Encoding.UTF8.GetString(Convert.FromBase64String(b64));
                int colon = pair.IndexOf(':');
                if (colon > 0) return new RegistryCredential(pair[..colon], pair[(colon + 1)..]);
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException or IOException)
        {
            return null;
        }
        return null;
    }
}
