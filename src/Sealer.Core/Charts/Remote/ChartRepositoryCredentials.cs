using Sealer.Core.Yaml;
using System.Text;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Charts.Remote;

/// <summary>Basic auth (username/password) or a bearer token for a chart repository. <see cref="ToString"/> never shows the secret.</summary>
public sealed record ChartRepositoryCredential(string? Username, string? Password, string? Token)
{
    /// <summary>Where it came from (a variable name or a file), for messages.</summary>
    public string Origin { get; init; } = "";

    public override string ToString() => Token is not null ? $"bearer token from {Origin}" : $"credential for '{Username}' from {Origin}";
}

/// <summary>
/// Credentials for HTTP chart repositories, never from a command line: first the environment —
/// <c>SEALER_HELM_REPO_&lt;HOST&gt;_USERNAME</c> / <c>_PASSWORD</c>, or <c>SEALER_HELM_REPO_&lt;HOST&gt;_TOKEN</c> (a bearer
/// token), HOST being the repository's host[:port] upper-cased with every character other than A-Z and 0-9 replaced by
/// '_' (<c>SEALER_HELM_REPO_CHARTS_EXAMPLE_COM_USERNAME</c>, <c>SEALER_HELM_REPO_127_0_0_1_8080_TOKEN</c>) — then the entry
/// of helm's repositories file (<see cref="HelmRepositoriesFile"/>) whose url is the repository's.
/// </summary>
public sealed class ChartRepositoryCredentials(Func<string, string?>? getVariable = null, HelmRepositoriesFile? repositories = null)
{
    private readonly Func<string, string?> _get = getVariable ?? Environment.GetEnvironmentVariable;

    public HelmRepositoriesFile? Repositories { get; } = repositories;

    public static string VariablePrefix(Uri repository)
    {
        var sb = new StringBuilder("SEALER_HELM_REPO_");
        foreach (char c in repository.Authority.ToUpperInvariant()) sb.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        return sb.ToString();
    }

    public ChartRepositoryCredential? For(Uri repository)
    {
        string prefix = VariablePrefix(repository);
        if (_get(prefix + "_TOKEN") is { Length: > 0 } token) return new ChartRepositoryCredential(null, null, token) { Origin = prefix + "_TOKEN" };
        string? user = _get(prefix + "_USERNAME"), password = _get(prefix + "_PASSWORD");
        if (!string.IsNullOrEmpty(user)) return new ChartRepositoryCredential(user, password ?? "", null) { Origin = prefix + "_USERNAME/_PASSWORD" };
        var entry = Repositories?.FindByUrl(repository.ToString());
        if (entry is { Username.Length: > 0 }) return new ChartRepositoryCredential(entry.Username, entry.Password ?? "", null) { Origin = Repositories!.Path };
        return null;
    }
}

/// <summary>One repository of helm's repositories.yaml.</summary>
public sealed record HelmRepositoryEntry(string Name, string Url, string? Username, string? Password, string? CaFile, bool InsecureSkipTlsVerify);

/// <summary>
/// helm's <c>repositories.yaml</c> (written by <c>helm repo add</c>), where <c>@name</c> / <c>alias:name</c> dependency
/// repositories are looked up. Read from <c>SealerHelmRepositoryConfig</c> when given, else <c>$HELM_REPOSITORY_CONFIG</c>,
/// else <c>$HELM_CONFIG_HOME/repositories.yaml</c>, else <c>$XDG_CONFIG_HOME/helm/repositories.yaml</c>, else
/// <c>~/.config/helm/repositories.yaml</c> — helm's own order. A missing file is an empty list.
/// </summary>
public sealed class HelmRepositoriesFile
{
    private HelmRepositoriesFile(string path, List<HelmRepositoryEntry> entries) { Path = path; Entries = entries; }

    public string Path { get; }

    public IReadOnlyList<HelmRepositoryEntry> Entries { get; }

    public static string DefaultPath(Func<string, string?>? getVariable = null)
    {
        var get = getVariable ?? Environment.GetEnvironmentVariable;
        if (get("HELM_REPOSITORY_CONFIG") is { Length: > 0 } p) return p;
        if (get("HELM_CONFIG_HOME") is { Length: > 0 } h) return System.IO.Path.Combine(h, "repositories.yaml");
        string config = get("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return System.IO.Path.Combine(config, "helm", "repositories.yaml");
    }

    public static HelmRepositoriesFile Read(string? path = null)
    {
        string file = string.IsNullOrEmpty(path) ? DefaultPath() : path;
        if (!File.Exists(file)) return new HelmRepositoriesFile(file, []);
        var docs = YamlReader.ParseStream(File.ReadAllText(file), file, ErrorCodes.ChartReferenceInvalid);
        var entries = new List<HelmRepositoryEntry>();
        if (docs.FirstOrDefault()?.Root is YMap root && root.Get("repositories") is YSeq seq)
        {
            foreach (var item in seq.Items.OfType<YMap>())
            {
                string? S(string k) => item.Get(k) is YScalar s ? s.Value : null;
                if (S("name") is not { Length: > 0 } name || S("url") is not { Length: > 0 } url) continue;
                entries.Add(new HelmRepositoryEntry(name, url, S("username"), S("password"), S("caFile"), S("insecure_skip_tls_verify") is "true"));
            }
        }
        return new HelmRepositoriesFile(file, entries);
    }

    public HelmRepositoryEntry? FindByName(string name) => Entries.FirstOrDefault(e => e.Name == name);

    public HelmRepositoryEntry? FindByUrl(string url)
    {
        string u = url.TrimEnd('/');
        return Entries.FirstOrDefault(e => string.Equals(e.Url.TrimEnd('/'), u, StringComparison.Ordinal));
    }
}
