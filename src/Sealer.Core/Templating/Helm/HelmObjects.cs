using System.Text;
using System.Text.RegularExpressions;

namespace Sealer.Core.Templating.Helm;

/// <summary>Helm's <c>.Files</c>: the chart's non-template files.</summary>
public sealed class HelmFiles(IReadOnlyDictionary<string, byte[]> files) : IGoObject, IGoRangeable, IGoSized
{
    /// <summary>Go's <c>files</c> is a map: an empty one (a <c>Glob</c> that matched nothing) is false in <c>if</c>.</summary>
    public int Count => files.Count;

    public IEnumerable<KeyValuePair<string, object?>> Entries() =>
        files.Keys.Order(StringComparer.Ordinal).Select(k => new KeyValuePair<string, object?>(k, files[k]));

    public string GoTypeName => "engine.files";

    public GoFunc? GetMethod(string name) => name switch
    {
        "Get" => GoFunc.Create(name, [GoType.String], a => files.TryGetValue((string)a[0]!, out var b) ? Encoding.UTF8.GetString(b) : ""),
        "GetBytes" => GoFunc.Create(name, [GoType.String], a => files.TryGetValue((string)a[0]!, out var b) ? b : Array.Empty<byte>()),
        "Glob" => GoFunc.Create(name, [GoType.String], a => Glob((string)a[0]!)),
        "AsConfig" => GoFunc.Create(name, [], _ => AsConfig()),
        "AsSecrets" => GoFunc.Create(name, [], _ => AsSecrets()),
        "Lines" => GoFunc.Create(name, [GoType.String], a => Lines((string)a[0]!)),
        _ => null,
    };

    public bool TryGetField(string name, out object? value)
    {
        value = null;
        return false;
    }

    private HelmFiles Glob(string pattern)
    {
        var re = new Regex("^" + GlobToRegex(pattern) + "$", RegexOptions.CultureInvariant);
        var d = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (k, v) in files) if (re.IsMatch(k)) d[k] = v;
        return new HelmFiles(d);
    }

    private static string GlobToRegex(string g)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < g.Length; i++)
        {
            char c = g[i];
            switch (c)
            {
                case '*':
                    if (i + 1 < g.Length && g[i + 1] == '*') { sb.Append(".*"); i++; }
                    else sb.Append("[^/]*");
                    break;
                case '?': sb.Append("[^/]"); break;
                case '[':
                    int close = g.IndexOf(']', i);
                    if (close > i) { sb.Append('[').Append(g[(i + 1)..close].Replace("!", "^", StringComparison.Ordinal)).Append(']'); i = close; }
                    else sb.Append("\\[");
                    break;
                case '{':
                    int end = g.IndexOf('}', i);
                    if (end > i) { sb.Append('(').Append(string.Join('|', g[(i + 1)..end].Split(',').Select(Regex.Escape))).Append(')'); i = end; }
                    else sb.Append("\\{");
                    break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        return sb.ToString();
    }

    private string AsConfig()
    {
        var m = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in files) m[k[(k.LastIndexOf('/') + 1)..]] = Encoding.UTF8.GetString(v);
        return files.Count == 0 ? "" : GoYaml.Marshal(m).TrimEnd('\n');
    }

    private string AsSecrets()
    {
        var m = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in files) m[k[(k.LastIndexOf('/') + 1)..]] = Convert.ToBase64String(v);
        return files.Count == 0 ? "" : GoYaml.Marshal(m).TrimEnd('\n');
    }

    private List<object?> Lines(string path)
    {
        if (!files.TryGetValue(path, out var b) || b.Length == 0) return [];
        var s = Encoding.UTF8.GetString(b);
        if (s.EndsWith('\n')) s = s[..^1];
        return s.Split('\n').Select(x => (object?)x).ToList();
    }

    public override string ToString() =>
        "map[" + string.Join(" ", files.Keys.Order(StringComparer.Ordinal).Select(k => k + ":" + GoValues.FormatValue(files[k]))) + "]";
}

/// <summary>Kubernetes version as Helm's chartutil.KubeVersion (prints as its Version).</summary>
public sealed class HelmKubeVersion(string version) : IGoObject, IGoPlainValue
{
    public string Version { get; } = version.StartsWith('v') ? version : "v" + version;
    public string Major => Version.TrimStart('v').Split('.')[0];
    public string Minor => Version.TrimStart('v').Split('.') is { Length: > 1 } p ? p[1] : "0";
    public string GoTypeName => "chartutil.KubeVersion";
    public GoFunc? GetMethod(string name) => name == "String" ? GoFunc.Create(name, [], _ => Version) : null;
    public bool TryGetField(string name, out object? value)
    {
        value = name switch { "Version" => Version, "Major" => Major, "Minor" => Minor, "GitVersion" => Version, _ => null };
        return value is not null;
    }
    public object? ToPlainValue() => new Dictionary<string, object?>(StringComparer.Ordinal) { ["Version"] = Version, ["Major"] = Major, ["Minor"] = Minor };
    public override string ToString() => Version;
}

/// <summary>Helm's APIVersions: a list with <c>.Has</c>.</summary>
public sealed class HelmApiVersions(IReadOnlyList<string> versions) : IGoObject, IGoPlainValue
{
    public IReadOnlyList<string> Versions { get; } = versions;
    public string GoTypeName => "chartutil.VersionSet";
    public GoFunc? GetMethod(string name) => name == "Has" ? GoFunc.Create(name, [GoType.String], a => Versions.Contains((string)a[0]!)) : null;
    public bool TryGetField(string name, out object? value)
    {
        value = null;
        return false;
    }
    public object? ToPlainValue() => Versions.Select(v => (object?)v).ToList();
    public override string ToString() => "[" + string.Join(" ", Versions) + "]";
}

/// <summary>Helm's version info (<c>.Capabilities.HelmVersion</c>).</summary>
public sealed class HelmVersionInfo(string version, string gitCommit, string goVersion) : IGoObject, IGoPlainValue
{
    public string Version { get; } = version;
    public string GitCommit { get; } = gitCommit;
    public string GitTreeState => "clean";
    public string GoVersion { get; } = goVersion;
    public string GoTypeName => "version.BuildInfo";
    public GoFunc? GetMethod(string name) => null;
    public bool TryGetField(string name, out object? value)
    {
        value = name switch { "Version" => Version, "GitCommit" => GitCommit, "GitTreeState" => GitTreeState, "GoVersion" => GoVersion, _ => null };
        return value is not null;
    }
    public object? ToPlainValue() => new Dictionary<string, object?>(StringComparer.Ordinal)
    {
        ["version"] = Version, ["git_commit"] = GitCommit, ["git_tree_state"] = GitTreeState, ["go_version"] = GoVersion,
    };
    public override string ToString() => "{" + Version + " " + GitCommit + " " + GitTreeState + " " + GoVersion + "}";
}

/// <summary>Helm's <c>.Capabilities</c>.</summary>
public sealed class HelmCapabilities : IGoObject
{
    public required HelmKubeVersion KubeVersion { get; init; }
    public required HelmApiVersions APIVersions { get; init; }
    public required HelmVersionInfo HelmVersion { get; init; }

    public string GoTypeName => "*chartutil.Capabilities";
    public GoFunc? GetMethod(string name) => null;
    public bool TryGetField(string name, out object? value)
    {
        value = name switch { "KubeVersion" => KubeVersion, "APIVersions" => APIVersions, "HelmVersion" => HelmVersion, _ => null };
        return value is not null;
    }

    /// <summary>The API versions helm 3.17 reports without a cluster (chartutil.DefaultVersionSet).</summary>
    public static readonly IReadOnlyList<string> DefaultApiVersions =
    [
        "v1", "admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1alpha1", "admissionregistration.k8s.io/v1beta1",
        "internal.apiserver.k8s.io/v1alpha1", "apps/v1", "apps/v1beta1", "apps/v1beta2", "authentication.k8s.io/v1",
        "authentication.k8s.io/v1alpha1", "authentication.k8s.io/v1beta1", "authorization.k8s.io/v1", "authorization.k8s.io/v1beta1",
        "autoscaling/v1", "autoscaling/v2", "autoscaling/v2beta1", "autoscaling/v2beta2", "batch/v1", "batch/v1beta1",
        "certificates.k8s.io/v1", "certificates.k8s.io/v1beta1", "certificates.k8s.io/v1alpha1", "coordination.k8s.io/v1alpha2",
        "coordination.k8s.io/v1beta1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "discovery.k8s.io/v1beta1", "events.k8s.io/v1",
        "events.k8s.io/v1beta1", "extensions/v1beta1", "flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta1",
        "flowcontrol.apiserver.k8s.io/v1beta2", "flowcontrol.apiserver.k8s.io/v1beta3", "networking.k8s.io/v1", "networking.k8s.io/v1alpha1",
        "networking.k8s.io/v1beta1", "node.k8s.io/v1", "node.k8s.io/v1alpha1", "node.k8s.io/v1beta1", "policy/v1", "policy/v1beta1",
        "rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1alpha1", "resource.k8s.io/v1beta1",
        "resource.k8s.io/v1alpha3", "scheduling.k8s.io/v1alpha1", "scheduling.k8s.io/v1beta1", "scheduling.k8s.io/v1", "storage.k8s.io/v1beta1",
        "storage.k8s.io/v1", "storage.k8s.io/v1alpha1", "storagemigration.k8s.io/v1alpha1", "apiextensions.k8s.io/v1beta1", "apiextensions.k8s.io/v1",
    ];

    /// <summary>Same defaults as helm 3.17.2 <c>helm template</c>: Kubernetes v1.32.0, the default API version set.</summary>
    public static HelmCapabilities Default { get; } = new()
    {
        KubeVersion = new HelmKubeVersion("v1.32.0"),
        APIVersions = new HelmApiVersions(DefaultApiVersions),
        HelmVersion = new HelmVersionInfo("v3.17.2", "cc0bbbd6d6276b83880042c1ecb34087e84d41eb", "go1.23.7"),
    };

    /// <summary>Defaults with another Kubernetes version (helm template --kube-version) and extra API versions (--api-versions).</summary>
    public static HelmCapabilities With(string kubeVersion, IEnumerable<string>? extraApiVersions = null) => new()
    {
        KubeVersion = new HelmKubeVersion(kubeVersion),
        APIVersions = new HelmApiVersions(extraApiVersions is null ? DefaultApiVersions : [.. DefaultApiVersions, .. extraApiVersions]),
        HelmVersion = Default.HelmVersion,
    };
}
