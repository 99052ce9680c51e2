using System.Diagnostics;
using System.Text;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Distribution.Auth;

/// <summary>A username/password, or an identity (refresh) token. <see cref="ToString"/> never shows the secret.</summary>
public sealed record RegistryCredential(string? Username, string? Password, string? IdentityToken = null)
{
    /// <summary>Where it came from, for messages (e.g. "SEALER_REGISTRY_USER", "~/.docker/config.json credHelpers").</summary>
    public string Origin { get; init; } = "";

    public override string ToString() => $"credential for '{Username}' from {Origin}";
}

/// <summary>Supplies credentials for a registry host (<c>host[:port]</c>; Docker Hub is asked as <c>docker.io</c>).</summary>
public interface ICredentialProvider
{
    ValueTask<RegistryCredential?> GetAsync(string host, CancellationToken cancellationToken = default);
}

/// <summary>Fixed credentials per host (tests, or a caller that already has them).</summary>
public sealed class StaticCredentialProvider(IReadOnlyDictionary<string, RegistryCredential> byHost) : ICredentialProvider
{
    public ValueTask<RegistryCredential?> GetAsync(string host, CancellationToken cancellationToken = default)
        => ValueTask.FromResult(byHost.TryGetValue(host, out var c) ? c : null);
}

/// <summary>No credentials at all (anonymous only).</summary>
public sealed class AnonymousCredentialProvider : ICredentialProvider
{
    public static readonly AnonymousCredentialProvider Instance = new();

    public ValueTask<RegistryCredential?> GetAsync(string host, CancellationToken cancellationToken = default) => ValueTask.FromResult<RegistryCredential?>(null);
}

/// <summary>
/// Credentials from the environment: <c>SEALER_REGISTRY_&lt;HOST&gt;_USER</c>/<c>_PASSWORD</c> for one registry (HOST upper-cased,
/// every character other than A-Z and 0-9 replaced by '_': <c>SEALER_REGISTRY_QUAY_IO_USER</c>,
/// <c>SEALER_REGISTRY_127_0_0_1_5000_USER</c>), then <c>SEALER_REGISTRY_USER</c>/<c>SEALER_REGISTRY_PASSWORD</c>, which apply to
/// every registry, or only to <c>SEALER_REGISTRY</c> (a host) when that is set.
/// </summary>
public sealed class EnvironmentCredentialProvider(Func<string, string?>? getVariable = null) : ICredentialProvider
{
    private readonly Func<string, string?> _get = getVariable ?? Environment.GetEnvironmentVariable;

    public static string VariablePrefix(string host)
    {
        var sb = new StringBuilder("SEALER_REGISTRY_");
        foreach (char c in host.ToUpperInvariant()) sb.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        return sb.ToString();
    }

    public ValueTask<RegistryCredential?> GetAsync(string host, CancellationToken cancellationToken = default)
    {
        string prefix = VariablePrefix(host);
        string? user = _get(prefix + "_USER"), password = _get(prefix + "_PASSWORD");
        if (!string.IsNullOrEmpty(user) && password is not null) return ValueTask.FromResult<RegistryCredential?>(new RegistryCredential(user, password) { Origin = prefix + "_USER/_PASSWORD" });
        string? only = _get("SEALER_REGISTRY");
        user = _get("SEALER_REGISTRY_USER");
        password = _get("SEALER_REGISTRY_PASSWORD");
        if (!string.IsNullOrEmpty(user) && password is not null && (string.IsNullOrEmpty(only) || string.Equals(only, host, StringComparison.OrdinalIgnoreCase)))
        {
            return ValueTask.FromResult<RegistryCredential?>(new RegistryCredential(user, password) { Origin = "SEALER_REGISTRY_USER/SEALER_REGISTRY_PASSWORD" });
        }
        return ValueTask.FromResult<RegistryCredential?>(null);
    }
}

/// <summary>Tries providers in order; the first that has a credential wins.</summary>
public sealed class ChainedCredentialProvider(params ICredentialProvider[] providers) : ICredentialProvider
{
    public async ValueTask<RegistryCredential?> GetAsync(string host, CancellationToken cancellationToken = default)
    {
        foreach (var p in providers)
        {
            var c = await p.GetAsync(host, cancellationToken).ConfigureAwait(false);
            if (c is not null) return c;
        }
        return null;
    }

    /// <summary>The default: environment variables, then the Docker config (<c>$DOCKER_CONFIG/config.json</c> or <c>~/.docker/config.json</c>).</summary>
    public static ICredentialProvider Default() => new ChainedCredentialProvider(new EnvironmentCredentialProvider(), new DockerConfigCredentialProvider());
}

/// <summary>
/// Docker's config.json: <c>credHelpers</c> (per host) → <c>credsStore</c> → <c>auths</c> (base64 <c>user:password</c>, or
/// <c>identitytoken</c>). Helpers run as <c>docker-credential-&lt;name&gt; get</c> with the server URL on stdin, as Docker does.
/// Docker Hub is looked up as <c>https://index.docker.io/v1/</c>, like Docker writes it.
/// </summary>
public sealed class DockerConfigCredentialProvider : ICredentialProvider
{
    private readonly string? _configPath;
    private readonly Func<string, string>? _helperPath;

    /// <param name="configPath">config.json to read; default <c>$DOCKER_CONFIG/config.json</c> or <c>~/.docker/config.json</c>.</param>
    /// <param name="helperPath">Maps a helper name to the program to run (default: <c>docker-credential-&lt;name&gt;</c> on PATH).</param>
    public DockerConfigCredentialProvider(string? configPath = null, Func<string, string>? helperPath = null)
    {
        _configPath = configPath;
        _helperPath = helperPath;
    }

    public static string DefaultConfigPath()
    {
        string? dir = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
        if (string.IsNullOrEmpty(dir)) dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        return Path.Combine(dir, "config.json");
    }

    public async ValueTask<RegistryCredential?> GetAsync(string host, CancellationToken cancellationToken = default)
    {
        string path = _configPath ?? DefaultConfigPath();
        if (!File.Exists(path)) return null;
        DockerConfigFile config;
        try
        {
            config = System.Text.Json.JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), AuthJsonContext.Default.DockerConfigFile) ?? new DockerConfigFile();
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new SealerException(ErrorCodes.DockerConfigInvalid, $"'{path}' is not valid JSON ({ex.Message}); fix it or point DOCKER_CONFIG elsewhere.", path, (int)(ex.LineNumber ?? -1) + 1, inner: ex);
        }
        var keys = KeysFor(host);
        if (config.CredHelpers is not null)
        {
            foreach (var k in keys)
            {
                if (config.CredHelpers.TryGetValue(k, out var helper) && !string.IsNullOrEmpty(helper))
                {
                    return await RunHelperAsync(helper, ServerUrl(host), path, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        if (!string.IsNullOrEmpty(config.CredsStore))
        {
            var c = await RunHelperAsync(config.CredsStore, ServerUrl(host), path, cancellationToken).ConfigureAwait(false);
            if (c is not null) return c;
        }
        if (config.Auths is not null)
        {
            foreach (var (key, entry) in config.Auths)
            {
                if (!keys.Contains(NormalizeKey(key), StringComparer.OrdinalIgnoreCase)) continue;
                if (!string.IsNullOrEmpty(entry.IdentityToken)) return new RegistryCredential(null, null, entry.IdentityToken) { Origin = path + " auths identitytoken" };
                if (!string.IsNullOrEmpty(entry.Auth))
                {
                    string pair;
                    try { pair = Encoding.UTF8.GetString(Convert.FromBase64String(entry.Auth)); }
                    catch (FormatException ex) { throw new SealerException(ErrorCodes.DockerConfigInvalid, $"'{path}': the auth of '{key}' is not base64 of user:password; log in again.", path, inner: ex); }
                    int colon = pair.IndexOf(':');
                    if (colon < 0) throw new SealerException(ErrorCodes.DockerConfigInvalid, $"'{path}': the auth of '{key}' is not base64 of user:password; log in again.", path);
                    return new RegistryCredential(pair[..colon], pair[(colon + 1)..]) { Origin = path + " auths" };
                }
                if (!string.IsNullOrEmpty(entry.Username) && entry.Password is not null) return new RegistryCredential(entry.Username, entry.Password) { Origin = path + " auths" };
            }
        }
        return null;
    }

    /// <summary>Keys a host may be stored under (without scheme and path).</summary>
    internal static string[] KeysFor(string host)
        => host is "docker.io" or "index.docker.io" or "registry-1.docker.io" ? ["index.docker.io", "docker.io", "registry-1.docker.io"] : [host];

    private static string ServerUrl(string host) => host is "docker.io" or "index.docker.io" or "registry-1.docker.io" ? "https://index.docker.io/v1/" : host;

    internal static string NormalizeKey(string key)
    {
        string k = key;
        int scheme = k.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) k = k[(scheme + 3)..];
        int slash = k.IndexOf('/');
        if (slash >= 0) k = k[..slash];
        return k;
    }

    private async Task<RegistryCredential?> RunHelperAsync(string helper, string serverUrl, string configPath, CancellationToken cancellationToken)
    {
        string program = _helperPath?.Invoke(helper) ?? "docker-credential-" + helper;
        var psi = new ProcessStartInfo(program, ["get"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        Process? p;
        try
        {
            p = Process.Start(psi);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new SealerException(ErrorCodes.CredentialHelperFailed, $"The credential helper '{program}' named in '{configPath}' cannot be run ({ex.Message}); install it or remove it from the config.", configPath, inner: ex);
        }
        if (p is null) return null;
        using (p)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            try
            {
                await p.StandardInput.WriteAsync(serverUrl).ConfigureAwait(false);
                p.StandardInput.Close();
                var stdout = p.StandardOutput.ReadToEndAsync(timeout.Token);
                var stderr = p.StandardError.ReadToEndAsync(timeout.Token);
                await p.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                string output = await stdout.ConfigureAwait(false);
                string error = await stderr.ConfigureAwait(false);
                if (p.ExitCode != 0)
                {
                    // Docker's helpers say "credentials not found in native keychain" when they have nothing: that is not an error.
                    if ((output + error).Contains("credentials not found", StringComparison.OrdinalIgnoreCase)) return null;
                    throw new SealerException(ErrorCodes.CredentialHelperFailed, $"The credential helper '{program}' failed with exit code {p.ExitCode}: {Trim(output + error)}", configPath);
                }
                var answer = System.Text.Json.JsonSerializer.Deserialize(output, AuthJsonContext.Default.CredentialHelperAnswer);
                if (answer is null || string.IsNullOrEmpty(answer.Secret)) return null;
                return answer.Username == "<token>"
                    ? new RegistryCredential(null, null, answer.Secret) { Origin = $"credential helper {program}" }
                    : new RegistryCredential(answer.Username, answer.Secret) { Origin = $"credential helper {program}" };
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                try { p.Kill(true); } catch (InvalidOperationException) { }
                throw new SealerException(ErrorCodes.CredentialHelperFailed, $"The credential helper '{program}' did not answer within 60 s.", configPath);
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new SealerException(ErrorCodes.CredentialHelperFailed, $"The credential helper '{program}' did not answer with JSON {{\"Username\",\"Secret\"}}.", configPath, inner: ex);
            }
        }
    }

    // Helper output could echo a secret: keep only a short first line.
    private static string Trim(string s)
    {
        s = s.Trim();
        int nl = s.IndexOf('\n');
        if (nl >= 0) s = s[..nl];
        return s.Length > 200 ? s[..200] : s;
    }
}
