namespace Sealer.Core.Delivery.Clusterfile;

/// <summary>A position in the Clusterfile, kept on every value that can be wrong later (preflight, run).</summary>
public readonly record struct SourceLocation(string? File, int Line, int Column)
{
    public override string ToString() => File is null ? $"({Line},{Column})" : $"{File}({Line},{Column})";
}

/// <summary>Everything one Clusterfile holds: the last <c>kind: Cluster</c> document plus Config, Plugin and Application documents.</summary>
public sealed record ClusterfileDocument
{
    public required ClusterSpec Cluster { get; init; }
    public IReadOnlyList<ConfigSpec> Configs { get; init; } = [];
    public IReadOnlyList<PluginSpec> Plugins { get; init; } = [];
    public IReadOnlyList<ApplicationSpec> Applications { get; init; } = [];

    /// <summary>kubeadm documents (InitConfiguration, ClusterConfiguration, ...) kept verbatim, for the kubeadm step.</summary>
    public IReadOnlyList<RawDocument> KubeadmDocuments { get; init; } = [];

    /// <summary>The file the document was read from (null for text).</summary>
    public string? File { get; init; }

    /// <summary>Never the members (they hold passwords).</summary>
    public override string ToString() => $"Clusterfile {File ?? "(text)"}: cluster {Cluster.Name}";
}

public sealed record RawDocument(string Kind, string Yaml, SourceLocation Location);

public sealed record ClusterSpec
{
    public required string Name { get; init; }
    public required string Image { get; init; }
    /// <summary>Cluster env in file order; values may hold ';', ',' and quotes (kept verbatim).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];
    public IReadOnlyList<string> CmdArgs { get; init; } = [];
    public IReadOnlyList<string> Cmd { get; init; } = [];
    public IReadOnlyList<string> AppNames { get; init; } = [];
    public required SshSpec Ssh { get; init; }
    public required IReadOnlyList<HostSpec> Hosts { get; init; }
    public required RegistrySpec Registry { get; init; }
    public string? ContainerRuntime { get; init; }
    public IReadOnlyList<HostAlias> HostAliases { get; init; } = [];
    /// <summary>Sealer's default is <c>/var/lib/sealer/data</c>.</summary>
    public string DataRoot { get; init; } = "/var/lib/sealer/data";
    /// <summary><c>spec.imageVerifyKey</c>: a PEM public key (relative to the Clusterfile) the image's signature must verify with.</summary>
    public string? ImageVerifyKey { get; init; }
    public SourceLocation Location { get; init; }

    public IEnumerable<HostSpec> Masters => Hosts.Where(h => h.IsMaster);
    public IEnumerable<HostSpec> Nodes => Hosts.Where(h => !h.IsMaster);

    /// <summary>Never the members (ssh and registry settings hold passwords).</summary>
    public override string ToString() => $"cluster {Name} ({Hosts.Count} hosts)";
}

/// <summary>SSH settings; a host's ssh block overrides the cluster's field by field.</summary>
public sealed record SshSpec
{
    public string User { get; init; } = "root";
    /// <summary>The password. Never print it; <see cref="ToString"/> masks it.</summary>
    public string? Password { get; init; }
    public string? PrivateKeyPath { get; init; }
    public string? PrivateKeyPassphrase { get; init; }
    public int Port { get; init; } = 22;
    /// <summary>Optional jump host <c>user@host:port</c> (our extension; Sealer has none).</summary>
    public string? JumpHost { get; init; }

    public SshSpec Merge(SshSpec? over, SshOverrides? set) => over is null || set is null ? this : this with
    {
        User = set.User ? over.User : User,
        Password = set.Password ? over.Password : Password,
        PrivateKeyPath = set.PrivateKeyPath ? over.PrivateKeyPath : PrivateKeyPath,
        PrivateKeyPassphrase = set.PrivateKeyPassphrase ? over.PrivateKeyPassphrase : PrivateKeyPassphrase,
        Port = set.Port ? over.Port : Port,
        JumpHost = set.JumpHost ? over.JumpHost : JumpHost,
    };

    public override string ToString() =>
        $"user={User} port={Port} password={(Password is null ? "none" : "***")} pk={PrivateKeyPath ?? "none"}{(JumpHost is null ? "" : " jump=" + JumpHost)}";
}

/// <summary>Which fields a host-level ssh block set explicitly.</summary>
public sealed record SshOverrides(bool User, bool Password, bool PrivateKeyPath, bool PrivateKeyPassphrase, bool Port, bool JumpHost);

public sealed record HostSpec
{
    public required string Ip { get; init; }
    public required IReadOnlyList<string> Roles { get; init; }
    public required SshSpec Ssh { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Taints { get; init; } = [];
    public SourceLocation Location { get; init; }

    public bool IsMaster => Roles.Contains("master", StringComparer.Ordinal);

    public override string ToString() => Ip;
}

public sealed record HostAlias(string Ip, IReadOnlyList<string> Hostnames);

public sealed class RegistrySpec
{
    public LocalRegistrySpec Local { get; init; } = new();
    public ExternalRegistrySpec? External { get; init; }
}

public sealed record LocalRegistrySpec
{
    public string Domain { get; init; } = "sea.hub";
    public int Port { get; init; } = 5000;
    public string? Username { get; init; }
    public string? Password { get; init; }
    /// <summary>Sealer's default: the registry runs on every master.</summary>
    public bool Ha { get; init; } = true;
    public bool Insecure { get; init; }
    public IReadOnlyList<string> SubjectAltNameDns { get; init; } = [];
    public IReadOnlyList<string> SubjectAltNameIps { get; init; } = [];

    public string Url => $"{Domain}:{Port}";
}

/// <param name="Prefix">A path the images go under, by domain (<c>PREFIX/docker.io/library/nginx</c>: one Harbor project
/// for all of them, the domains kept apart); null: each under its own path. Not a Sealer field.</param>
public sealed record ExternalRegistrySpec(string Domain, int? Port, string? Username, string? Password, string? Prefix = null)
{
    public string Url => Port is null ? Domain : $"{Domain}:{Port}";

    /// <summary>What the app images are pushed to: <see cref="Url"/>, with <c>/PREFIX</c> when there is one.</summary>
    public string Target => Prefix is null ? Url : $"{Url}/{Prefix}";
}

/// <summary>A <c>kind: Config</c> document: a file to write (or merge) under the rootfs before the run.</summary>
public sealed record ConfigSpec(string Name, string Path, string Data, string Strategy, string? Process, SourceLocation Location);

/// <summary>When a plugin hook runs.</summary>
public enum PluginPhase
{
    PreInstall,
    PreInitHost,
    PostInitHost,
    PostInstall,
    PreJoin,
    PostJoin,
    PreCleanHost,
    PostCleanHost,
    PreUninstall,
    PostUninstall,
    UpgradeHost,
    Upgrade,
}

/// <summary>A shell hook (<c>kind: Plugin</c>, <c>spec.type: SHELL</c>).</summary>
public sealed record PluginSpec(string Name, IReadOnlyList<PluginPhase> Phases, IReadOnlyList<string> Roles, string Data, SourceLocation Location)
{
    /// <summary>Roles empty means every host; an entry is a role (any role a host has, Sealer's scope) or a host IP (v0.8 <c>on</c>).</summary>
    public bool AppliesTo(HostSpec host) => Roles.Count == 0 || Roles.Any(r => host.Roles.Contains(r, StringComparer.Ordinal) || r == host.Ip);
}

/// <summary>
/// A <c>kind: Application</c> document (Sealer v2 ApplicationSpec): <c>cmds</c> (raw launch commands, highest priority),
/// <c>launchApps</c> (which apps, in order; <c>[""]</c> launches none), per-app <c>configs</c>.
/// </summary>
public sealed record ApplicationSpec(string Name, IReadOnlyList<string>? LaunchApps, IReadOnlyList<AppConfig> Configs, SourceLocation Location)
{
    public IReadOnlyList<string> Cmds { get; init; } = [];

    /// <summary>Where <c>launchApps</c> is (for errors naming an app the image does not have).</summary>
    public SourceLocation LaunchAppsLocation { get; init; }
}

/// <summary>Per-app overrides: env (renders the app's files, exported to its launch), files to write or merge, launch cmds or helm settings.</summary>
public sealed record AppConfig(string Name, IReadOnlyList<string> Cmds, IReadOnlyList<KeyValuePair<string, string>> Env)
{
    public IReadOnlyList<AppFileSpec> Files { get; init; } = [];
    public HelmLaunch? Helm { get; init; }
    public SourceLocation Location { get; init; }
}

/// <summary>A file under the app's directory (<c>application/apps/NAME/</c>): <c>overwrite</c> (Sealer's default) or <c>merge</c> (YAML deep merge).</summary>
public sealed record AppFileSpec(string Path, string Strategy, string Data, SourceLocation Location)
{
    /// <summary>The Clusterfile line holding the first line of <see cref="Data"/> (0: unknown), so a line of the data maps back to the Clusterfile.</summary>
    public int DataFirstLine { get; init; }
}

/// <summary>
/// Helm settings of an app's launch (the fields of Sealer v2's <c>Helm</c> type): release name, namespace, <c>values</c>
/// (<c>--set</c> key=value), <c>valueFiles</c> (<c>-f</c>, relative to the app's directory), wait/timeout, skipCRDs, disableHooks.
/// </summary>
public sealed record HelmLaunch
{
    public string? Name { get; init; }
    public string? Namespace { get; init; }
    public bool CreateNamespace { get; init; } = true;
    public bool? Wait { get; init; }
    /// <summary>Our extension (not in Sealer's type): <c>helm upgrade --atomic</c>, a failed install or upgrade is rolled back by helm.</summary>
    public bool Atomic { get; init; }
    public string? Timeout { get; init; }
    public bool SkipCrds { get; init; }
    public bool DisableHooks { get; init; }
    public IReadOnlyList<string> Values { get; init; } = [];

    /// <summary>Where each of <see cref="Values"/> is in the Clusterfile (same order; empty when not read from one).</summary>
    public IReadOnlyList<SourceLocation> ValueLocations { get; init; } = [];
    public IReadOnlyList<string> ValueFiles { get; init; } = [];
}
