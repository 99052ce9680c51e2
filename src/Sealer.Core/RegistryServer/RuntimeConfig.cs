using System.Text;
using System.Text.Json;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.RegistryServer;

/// <summary>One address of the built-in registry as nodes reach it, e.g. <c>10.0.0.5:5000</c> with TLS.</summary>
public sealed record RegistryEndpoint(string Host, bool Tls = true)
{
    public string Url => (Tls ? "https://" : "http://") + Host;

    /// <summary>Parses <c>host:port</c>, <c>https://host:port</c> or <c>http://host:port</c> (http means no TLS).</summary>
    public static RegistryEndpoint Parse(string value)
    {
        string v = value.Trim().TrimEnd('/');
        bool tls = true;
        if (v.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) v = v[8..];
        else if (v.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) { v = v[7..]; tls = false; }
        if (v.Contains('/') || !ImageReference.IsValidDomain(v))
        {
            throw new SealerException(ErrorCodes.RegistryMirrorInvalid, $"'{value}' is not a registry address: write host:port, https://host:port or http://host:port.");
        }
        return new RegistryEndpoint(v, tls);
    }
}

/// <summary>How nodes should trust the registry and where the files go.</summary>
public sealed record RuntimeConfigOptions
{
    /// <summary>Where delivery writes containerd's hosts.toml files, and the folder it points containerd's config_path at.</summary>
    public const string DefaultContainerdCertsDir = "/etc/containerd/certs.d";

    /// <summary>containerd's registry config_path (set <c>config_path</c> in containerd's config.toml to it).</summary>
    public string ContainerdCertsDir { get; init; } = DefaultContainerdCertsDir;

    /// <summary>The CA certificate (PEM) that signed the registry's certificate; written to <see cref="CaFile"/> and referenced as <c>ca</c>.</summary>
    public string? CaPem { get; init; }

    /// <summary>Where the CA certificate is on each node.</summary>
    public string CaFile { get; init; } = "/etc/sealer/registry/ca.crt";

    /// <summary>Skip TLS verification instead of trusting a CA (not recommended).</summary>
    public bool SkipVerify { get; init; }

    /// <summary>Also write Docker's <c>/etc/docker/daemon.json</c> fragment and <c>/etc/docker/certs.d</c> (the CA of each TLS endpoint, and the same hosts.toml files as containerd's, which Docker reads with the containerd image store).</summary>
    public bool Docker { get; init; } = true;

    /// <summary>Docker Engine's settings file, where delivery merges its <c>registry-mirrors</c> (docker.io's mirror for the classic image store).</summary>
    public const string DockerDaemonJsonPath = "/etc/docker/daemon.json";

    /// <summary>Where delivery writes Docker Engine's hosts.toml files (and the classic store's CA files): the folder Docker reads.</summary>
    public const string DefaultDockerCertsDir = "/etc/docker/certs.d";

    /// <summary>
    /// Other names the registry answers to as <c>host:port</c>, pulled from directly rather than through a mirror (the
    /// local registry's domain, <c>sea.hub:5000</c>, which a Sealer base's kubeadm images are named by): Docker Engine
    /// gets the CA for each in its certs.d too, or it refuses the registry's certificate there.
    /// </summary>
    public IReadOnlyList<string> DirectNames { get; init; } = [];

    /// <summary>Where Docker Engine reads hosts.toml files (and the classic store's CA files).</summary>
    public string DockerCertsDir { get; init; } = DefaultDockerCertsDir;

    /// <summary>
    /// User and password of a registry that wants them for pulls (a localRegistry with username/password, an
    /// externalRegistry's): sent by containerd as an <c>Authorization: Basic</c> header of each mirror host
    /// (hosts.toml <c>[host."…".header]</c>, as Sealer does), the hosts.toml files then readable by root only.
    /// </summary>
    public (string User, string Password)? BasicAuth { get; init; }

    /// <summary>
    /// A registry that holds the images under a prefix, by domain (<see cref="MirrorPaths"/>: an externalRegistry's
    /// <c>prefix</c>, a Harbor project): each domain's mirror URL is <c>https://HOST/v2/PREFIX/DOMAIN</c> with
    /// <c>override_path = true</c>, then <c>https://HOST/v2/PREFIX</c> (images without a domain: a Sealer base's tree),
    /// <c>_default</c>'s the latter only. Docker Engine can only with its containerd image store (the same files in its
    /// certs.d): daemon.json's registry-mirrors take a registry's root, so none is written then.
    /// </summary>
    public string? PathPrefix { get; init; }
}

/// <summary>A file to put on each node: absolute path, content, mode.</summary>
public sealed record RuntimeConfigFile(string Path, string Content, UnixFileMode Mode = RuntimeConfigFile.Readable)
{
    /// <summary>0644.</summary>
    public const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>0600: a file holding credentials.</summary>
    public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
}

/// <summary>The generated files and notes for the operator.</summary>
public sealed record RuntimeConfig(IReadOnlyList<RuntimeConfigFile> Files, IReadOnlyList<string> Notes, IReadOnlyList<string> Domains);

/// <summary>
/// Makes container runtimes pull every image through the built-in registry WITHOUT rewriting any reference:
/// <list type="bullet">
/// <item>containerd: <c>certs.d/&lt;domain&gt;/hosts.toml</c> for every source domain found in the layouts, with
/// <c>server</c> = the real upstream and our registry hosts (in order: containerd fails over) as mirrors with
/// <c>capabilities = ["pull", "resolve"]</c>. containerd adds <c>?ns=&lt;domain&gt;</c> to requests it sends to a mirror,
/// and the registry uses it to pick the domain, so <c>docker.io/x</c> and <c>quay.io/x</c> stay apart. A
/// <c>_default/hosts.toml</c> covers domains added later.</item>
/// <item>Docker: the same hosts.toml files in <c>/etc/docker/certs.d</c>, which Docker Engine reads when it uses the
/// containerd image store (every domain mirrored, as for containerd); with the classic image store only the
/// <c>registry-mirrors</c> of daemon.json apply, which Docker uses for docker.io alone: the other domains are listed in
/// <see cref="RuntimeConfig.Notes"/>.</item>
/// </list>
/// The delivery step writes <see cref="RuntimeConfig.Files"/> to each node (no containerd restart needed for certs.d;
/// Docker needs a reload) and sets containerd's <c>config_path</c>.
/// </summary>
public static class RegistryRuntimeConfig
{
    public static RuntimeConfig Generate(IEnumerable<string> domains, IReadOnlyList<RegistryEndpoint> endpoints, RuntimeConfigOptions? options = null)
    {
        options ??= new RuntimeConfigOptions();
        if (endpoints.Count == 0) throw new SealerException(ErrorCodes.RegistryMirrorInvalid, "Give at least one registry address (host:port) the nodes reach the registry by.");
        var sorted = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var d in domains)
        {
            string domain = d == "index.docker.io" ? "docker.io" : d;
            if (!ImageReference.IsValidDomain(domain)) throw new SealerException(ErrorCodes.RegistryMirrorInvalid, $"'{d}' is not a registry domain.");
            sorted.Add(domain);
        }
        bool anyTls = endpoints.Any(e => e.Tls);
        string? ca = anyTls && options.CaPem is not null && !options.SkipVerify ? options.CaFile : null;
        var files = new List<RuntimeConfigFile>();
        if (ca is not null) files.Add(new RuntimeConfigFile(options.CaFile, options.CaPem!.TrimEnd() + "\n"));
        AddHostsFiles(options.ContainerdCertsDir);

        // a hosts.toml for every domain, and _default, under DIR
        void AddHostsFiles(string dir)
        {
            foreach (var domain in sorted) files.Add(HostsFile(domain, dir));
            files.Add(HostsFile(null, dir));
        }

        RuntimeConfigFile HostsFile(string? domain, string dir) => new(
            $"{dir.TrimEnd('/')}/{domain ?? "_default"}/hosts.toml", ContainerdHostsToml(domain, endpoints, ca, options.SkipVerify, options.BasicAuth, options.PathPrefix),
            options.BasicAuth is null ? RuntimeConfigFile.Readable : RuntimeConfigFile.Private);

        var notes = new List<string>
        {
            $"containerd: set config_path = \"{options.ContainerdCertsDir}\" under [plugins.\"io.containerd.grpc.v1.cri\".registry] (containerd 1.x, config version 2) or [plugins.\"io.containerd.cri.v1.images\".registry] (containerd 2.x, version 3), then restart containerd once; later changes to hosts.toml files need no restart.",
        };
        if (options.Docker)
        {
            // registry-mirrors take a registry's root, not a path in it: with a prefix the classic store gets no mirror at all
            if (options.PathPrefix is null) files.Add(new RuntimeConfigFile(RuntimeConfigOptions.DockerDaemonJsonPath, DockerDaemonJson(endpoints)));
            // Docker Engine with the containerd image store reads the same hosts.toml files from its certs.d (its docs'
            // "Registry host configuration"); the classic store reads only *.crt/*.cert/*.key there and ignores them
            AddHostsFiles(options.DockerCertsDir);
            if (ca is not null)
            {
                var names = endpoints.Where(e => e.Tls).Select(e => e.Host).Concat(endpoints.Any(e => e.Tls) ? options.DirectNames : []).Distinct(StringComparer.Ordinal);
                foreach (var name in names) files.Add(new RuntimeConfigFile($"{options.DockerCertsDir.TrimEnd('/')}/{name}/ca.crt", options.CaPem!.TrimEnd() + "\n"));
            }
            if (options.PathPrefix is { } prefix)
            {
                notes.Add($"docker: only the containerd image store can pull through {endpoints[0].Host}/{prefix} (the hosts.toml files in {options.DockerCertsDir}, override_path); " +
                    "the classic store's registry-mirrors take a registry's root, not a path in it, so it mirrors nothing there: run such hosts with the containerd image store or containerd, or use a registry without a prefix.");
                return new RuntimeConfig(files, notes, sorted.ToList());
            }
            notes.Add("docker: merge registry-mirrors (and insecure-registries) into an existing /etc/docker/daemon.json, then 'systemctl reload docker'.");
            foreach (var domain in sorted.Where(d => d != "docker.io"))
            {
                notes.Add($"docker: {options.DockerCertsDir}/{domain}/hosts.toml mirrors {domain} when Docker uses the containerd image store ('docker info' shows driver-type io.containerd.snapshotter.v1); " +
                    $"the classic image store cannot mirror {domain}: there, pull those images as {endpoints[0].Host}/{domain}/<repository>:<tag> (the registry maps the path), or run them with containerd.");
            }
        }
        return new RuntimeConfig(files, notes, sorted.ToList());
    }

    /// <summary>The hosts.toml for one domain (null: <c>_default</c>, which has no server line: containerd uses the host itself).</summary>
    public static string ContainerdHostsToml(string? domain, IReadOnlyList<RegistryEndpoint> endpoints, string? caFile, bool skipVerify, (string User, string Password)? basicAuth = null, string? pathPrefix = null)
    {
        var sb = new StringBuilder();
        sb.Append("# Generated by sealer: pull ").Append(domain ?? "every other registry's").Append(" images through the cluster registry, by their original names.\n");
        sb.Append(pathPrefix is null ? "# containerd sends ?ns=<domain> to these hosts; the upstream below is only tried when they all fail.\n"
            : "# the registry holds them under " + MirrorPaths.Root(pathPrefix, domain) + "/ (override_path); the upstream below is only tried when they all fail.\n");
        if (domain is not null) sb.Append("server = \"").Append(UpstreamUrl(domain)).Append("\"\n");
        // with a prefix, a domain's images are under PREFIX/DOMAIN, and then PREFIX holds those without a domain (a Sealer
        // base's tree), as the root does without a prefix: containerd tries the next host on a 404
        var urls = endpoints.SelectMany(e => pathPrefix is null ? [(e, e.Url)]
            : domain is null ? [(e, e.Url + "/v2/" + pathPrefix)] : new[] { (e, e.Url + "/v2/" + MirrorPaths.Root(pathPrefix, domain)), (e, e.Url + "/v2/" + pathPrefix) });
        foreach (var (e, url) in urls)
        {
            sb.Append('\n').Append("[host.\"").Append(url).Append("\"]\n");
            sb.Append("  capabilities = [\"pull\", \"resolve\"]\n");
            if (pathPrefix is not null) sb.Append("  override_path = true\n");
            if (e.Tls && skipVerify) sb.Append("  skip_verify = true\n");
            else if (e.Tls && caFile is not null) sb.Append("  ca = \"").Append(caFile).Append("\"\n");
            if (basicAuth is { } auth)
            {
                string token = Convert.ToBase64String(Encoding.UTF8.GetBytes(auth.User + ":" + auth.Password));
                sb.Append("  [host.\"").Append(url).Append("\".header]\n");
                sb.Append("    Authorization = [\"Basic ").Append(token).Append("\"]\n");
            }
        }
        return sb.ToString();
    }

    /// <summary>The real registry URL of a domain, as containerd's default resolver uses it.</summary>
    public static string UpstreamUrl(string domain) => domain == "docker.io" ? "https://registry-1.docker.io" : "https://" + domain;

    /// <summary>Docker's daemon.json fragment: registry-mirrors (docker.io only) and insecure-registries for plain-HTTP endpoints.</summary>
    public static string DockerDaemonJson(IReadOnlyList<RegistryEndpoint> endpoints)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            w.WriteStartObject();
            w.WriteStartArray("registry-mirrors");
            foreach (var e in endpoints) w.WriteStringValue(e.Url);
            w.WriteEndArray();
            var insecure = endpoints.Where(e => !e.Tls).ToList();
            if (insecure.Count > 0)
            {
                w.WriteStartArray("insecure-registries");
                foreach (var e in insecure) w.WriteStringValue(e.Host);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    /// <summary>The source domains of every full reference in the layouts' index.json (bare tags are ignored).</summary>
    public static IReadOnlyList<string> DomainsOf(IEnumerable<OciLayout> layouts)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var layout in layouts)
        {
            foreach (var entry in layout.ReadIndex().Manifests)
            {
                string? name = entry.GetAnnotation(Annotations.RefName);
                if (name is null || name.IndexOfAny(['/', ':', '@']) < 0) continue;
                if (ImageReference.TryParse(name, out var r, out _)) set.Add(r.Domain);
            }
        }
        return set.ToList();
    }

    /// <summary>Writes the files under <paramref name="root"/> (e.g. a staging directory or "/"). Returns the paths written.</summary>
    public static IReadOnlyList<string> WriteTo(RuntimeConfig config, string root)
    {
        var written = new List<string>();
        foreach (var f in config.Files)
        {
            string path = Path.Combine(root, f.Path.TrimStart('/'));
            AtomicFile.WriteAllText(path, f.Content);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, f.Mode);
            written.Add(path);
        }
        return written;
    }
}
