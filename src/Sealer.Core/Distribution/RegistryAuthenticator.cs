using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Auth;

namespace Sealer.Core.Distribution;

/// <summary>
/// Answers registry challenges: Basic (credentials sent only after the registry asks), and Bearer tokens fetched from the
/// challenge's realm for one repository scope and cached until they expire. Secrets never reach logs or messages.
/// </summary>
internal sealed class RegistryAuthenticator
{
    private readonly RegistryClient _client;
    private readonly ICredentialProvider _credentials;
    private readonly ILogger? _logger;
    private readonly ConcurrentDictionary<string, HostState> _hosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<Task<RegistryCredential?>>> _creds = new(StringComparer.OrdinalIgnoreCase);

    public RegistryAuthenticator(RegistryClient client, ICredentialProvider credentials, ILogger? logger)
    {
        _client = client;
        _credentials = credentials;
        _logger = logger;
    }

    private sealed class HostState
    {
        public AuthChallenge? Challenge;
        public readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> Tokens = new(StringComparer.Ordinal);
        public readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);
    }

    /// <summary>Credentials for a host, asked once per client (helpers are slow).</summary>
    public Task<RegistryCredential?> CredentialsFor(string credentialHost, CancellationToken cancellationToken)
        => _creds.GetOrAdd(credentialHost, h => new Lazy<Task<RegistryCredential?>>(() => _credentials.GetAsync(h, CancellationToken.None).AsTask())).Value.WaitAsync(cancellationToken);

    /// <summary>The Authorization to send proactively (only once the host has challenged us before).</summary>
    public async ValueTask<AuthenticationHeaderValue?> GetAuthorizationAsync(RegistryEndpoint endpoint, string scope, CancellationToken cancellationToken)
    {
        if (!_hosts.TryGetValue(endpoint.Authority, out var state) || state.Challenge is null) return null;
        if (state.Challenge.IsBasic)
        {
            var c = await CredentialsFor(endpoint.CredentialHost, cancellationToken).ConfigureAwait(false);
            return c?.Username is null ? null : Basic(c);
        }
        if (state.Tokens.TryGetValue(scope, out var t) && t.Expires > DateTimeOffset.UtcNow) return new AuthenticationHeaderValue("Bearer", t.Token);
        return null;
    }

    /// <summary>
    /// Handles a 401: remembers the challenge and obtains what it asks for. Returns true when the request should be
    /// sent again; false when we have nothing better to offer (then the caller reports the refusal).
    /// </summary>
    public async Task<bool> HandleChallengeAsync(RegistryEndpoint endpoint, string scope, HttpResponseMessage response, AuthenticationHeaderValue? sent, string image, CancellationToken cancellationToken)
    {
        var challenge = response.Headers.WwwAuthenticate.Select(h => AuthChallenge.Parse(h.ToString())).FirstOrDefault(c => c is not null && (c.IsBearer || c.IsBasic));
        if (challenge is null) return false;
        var state = _hosts.GetOrAdd(endpoint.Authority, _ => new HostState());
        state.Challenge = challenge;
        if (challenge.IsBasic)
        {
            if (sent?.Scheme == "Basic") return false; // our credentials were refused
            var c = await CredentialsFor(endpoint.CredentialHost, cancellationToken).ConfigureAwait(false);
            return c?.Username is not null;
        }
        // Bearer: one token request per (host, scope) at a time.
        var gate = state.Locks.GetOrAdd(scope, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (state.Tokens.TryGetValue(scope, out var t) && t.Expires > DateTimeOffset.UtcNow && sent?.Parameter != t.Token) return true; // someone else just got one
            if (sent?.Scheme == "Bearer")
            {
                // A token we had was refused: drop it; fetch a fresh one once, unless the registry says it wants more scope than we asked.
                state.Tokens.TryRemove(scope, out _);
                if (challenge.Parameters.TryGetValue("error", out var err) && err == "insufficient_scope") return false;
            }
            string? token = await FetchTokenAsync(endpoint, challenge, scope, image, cancellationToken).ConfigureAwait(false);
            if (token is null) return false;
            if (sent?.Scheme == "Bearer" && sent.Parameter == token) return false;
            return true;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<string?> FetchTokenAsync(RegistryEndpoint endpoint, AuthChallenge challenge, string scope, string image, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm) || (realm.Scheme != "https" && realm.Scheme != "http"))
        {
            throw new SealerException(ErrorCodes.AuthenticationRefused, $"{image}: the registry {endpoint.Authority} asks for a token from an invalid realm '{challenge.Realm}'.");
        }
        if (realm.Scheme == "http" && !endpoint.IsPlainHttp && !RegistryEndpoint.IsLoopback(realm.Host) && !_client.Options.IsInsecure(realm.Authority))
        {
            throw new SealerException(ErrorCodes.InsecureRegistryNotAllowed,
                $"{image}: the registry {endpoint.Authority} wants credentials sent to the plain-HTTP token service {realm.GetLeftPart(UriPartial.Authority)}. Refusing; mark it insecure only if you trust the network.");
        }
        var cred = await CredentialsFor(endpoint.CredentialHost, cancellationToken).ConfigureAwait(false);
        var state = _hosts[endpoint.Authority];
        string requestScope = scope;
        var q = new StringBuilder();
        if (challenge.Service is { } service) q.Append("service=").Append(Uri.EscapeDataString(service));
        q.Append(q.Length > 0 ? "&" : "").Append("scope=").Append(Uri.EscapeDataString(requestScope));

        HttpRequestMessage MakeRequest()
        {
            HttpRequestMessage req;
            if (cred?.IdentityToken is { } refresh)
            {
                // OAuth2 refresh-token grant (Docker Hub identity tokens).
                var form = new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["client_id"] = "sealer", ["scope"] = requestScope };
                if (challenge.Service is { } s) form["service"] = s;
                req = new HttpRequestMessage(HttpMethod.Post, realm) { Content = new FormUrlEncodedContent(form) };
            }
            else
            {
                var ub = new UriBuilder(realm);
                ub.Query = string.IsNullOrEmpty(ub.Query) || ub.Query == "?" ? q.ToString() : ub.Query.TrimStart('?') + "&" + q;
                req = new HttpRequestMessage(HttpMethod.Get, ub.Uri);
                if (cred?.Username is not null) req.Headers.Authorization = Basic(cred);
            }
            return req;
        }

        using var response = await _client.SendRawAsync(MakeRequest, $"{image}: token from {realm.GetLeftPart(UriPartial.Authority)}", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            if (cred is null) return null;
            throw RegistryClient.AuthRefused(image, endpoint, cred, $"the token service {realm.GetLeftPart(UriPartial.Authority)} refused the credentials ({(int)response.StatusCode})");
        }
        if (!response.IsSuccessStatusCode)
        {
            throw new SealerException(ErrorCodes.RegistryError, $"{image}: the token service {realm.GetLeftPart(UriPartial.Authority)} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
        byte[] body = await RegistryClient.ReadLimitedAsync(response, 1 << 20, cancellationToken).ConfigureAwait(false);
        TokenResponse? tr;
        try { tr = System.Text.Json.JsonSerializer.Deserialize(body, AuthJsonContext.Default.TokenResponse); }
        catch (System.Text.Json.JsonException ex) { throw new SealerException(ErrorCodes.RegistryError, $"{image}: the token service {realm.GetLeftPart(UriPartial.Authority)} did not answer JSON.", inner: ex); }
        string? token = tr?.Token ?? tr?.AccessToken;
        if (string.IsNullOrEmpty(token)) throw new SealerException(ErrorCodes.RegistryError, $"{image}: the token service {realm.GetLeftPart(UriPartial.Authority)} answered without a token.");
        int seconds = tr!.ExpiresIn is > 0 ? tr.ExpiresIn.Value : 60;
        state.Tokens[scope] = (token, DateTimeOffset.UtcNow.AddSeconds(Math.Max(5, seconds - 10)));
        _logger?.LogDebug("Got a token for {Scope} from {Realm}", scope, realm.GetLeftPart(UriPartial.Authority));
        return token;
    }

    internal static AuthenticationHeaderValue Basic(RegistryCredential c)
        => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{c.Username}:{c.Password}")));
}
