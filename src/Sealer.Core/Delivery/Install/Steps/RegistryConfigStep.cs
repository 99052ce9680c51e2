using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;
using Sealer.Core.RegistryServer;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// Every host pulls through the registry hosts: containerd's <c>certs.d/&lt;domain&gt;/hosts.toml</c> for every image domain
/// and <c>_default</c> (this host's own registry first), the CA, <c>config_path</c> in containerd's config.toml (<see cref="ContainerdConfigToml"/>); for Docker the mirrors
/// merged into the host's daemon.json (an externalRegistry's too, unless it has a prefix: registry-mirrors take a registry's root), and the hosts.toml files in /etc/docker/certs.d too. With an externalRegistry every domain is mirrored to it. A registry with a
/// username and password gets them as an Authorization header in hosts.toml (files 0600), so containerd's pulls log in.
/// </summary>
internal sealed class RegistryConfigStep : HostStep
{
    public const string StepName = "registry-config";

    public override string Name => StepName;

    public override string Does => "first each host connects to the registries it is to pull from (none answering: SEA4031, nothing written there); then containerd certs.d/<domain>/hosts.toml for every image domain and _default, the CA in /etc/sealer/registry, config_path in config.toml; Docker: mirrors merged into daemon.json, the registry's login (with credentials) merged into kubelet's and root's Docker config.json, and the same hosts.toml files in /etc/docker/certs.d (read with the containerd image store; SEA4028 names the domains the classic store leaves unmirrored; SEA4029 refuses an externalRegistry prefix that store cannot take)";

    public override string Reads => "the image domains of registry/index.json, the registry hosts (or externalRegistry), the CA, the container runtime, the host's daemon.json and Docker config.json files";

    public override string Fingerprint => "the registry settings (externalRegistry domain, port, prefix and credentials; else localRegistry domain, port and credentials, the registry hosts, TLS), the host's container runtime and the revision of what the step writes";

    /// <summary>Raised when the step starts writing something new, so that clusters installed before redo it once.</summary>
    internal const int FilesRevision = 4;

    /// <summary>
    /// A changed registry (another externalRegistry or prefix, new credentials, other registry hosts) rewrites the hosts'
    /// files on a re-run, as it does for a state written before this fingerprint (clusters whose hosts.toml lack the
    /// Authorization header get it). The image domains are not in it: a new image comes with an upgrade, which redoes the step.
    /// </summary>
    public override string? FingerprintOf(InstallContext ctx, InstallHost host)
    {
        var registry = ctx.Cluster.Registry;
        var sb = new StringBuilder();
        if (registry.External is { } e) sb.Append("external\0").Append(e.Target).Append('\0').Append(e.Username).Append('\0').Append(e.Password);
        else
        {
            var l = registry.Local;
            sb.Append("local\0").Append(l.Url).Append('\0').Append(l.Username).Append('\0').Append(l.Password).Append('\0').Append(ctx.Tls).Append('\0').AppendJoin(',', ctx.RegistryIps);
        }
        sb.Append('\0').Append(ctx.CriOf(host));
        // what the step writes, by revision: a cluster installed before containerd 2.x's config_path, Docker's certs.d
        // hosts.toml files (2), Docker's CA under the registry's domain (3) and an externalRegistry's daemon.json mirror on
        // Docker hosts and, with credentials, the logins kubelet and root's docker CLI send there (4) were written gets them on its next run
        sb.Append('\0').Append(FilesRevision);
        return Sealer.Core.Oci.Digest.Sha256(Encoding.UTF8.GetBytes(sb.ToString())).Encoded;
    }

    public override Task RunOnAsync(InstallContext ctx, InstallHost host, CancellationToken cancellationToken) =>
        ConfigureAsync(ctx, host, Domains(ctx), cancellationToken);

    public override Task RunAsync(InstallContext ctx, StepRunner runner, CancellationToken cancellationToken)
    {
        // read from the image once, and only when a host needs them
        var domains = new Lazy<IReadOnlyList<string>>(() => Domains(ctx));
        return runner.HostStepAsync(this, HostsOf(ctx), cancellationToken, h => ConfigureAsync(ctx, h, domains.Value, cancellationToken));
    }

    /// <summary>The domains to mirror: every app image's, and the local registry's.</summary>
    private static List<string> Domains(InstallContext ctx) =>
        ctx.Image.RegistryDomains(ctx.Master0!.Platform).Append(ctx.Cluster.Registry.Local.Domain).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>A registry's pull credentials for containerd (an Authorization header in hosts.toml), when it has them.</summary>
    private static (string, string)? Credentials(string? user, string? password) => user is not null && password is not null ? (user, password) : null;

    private static async Task ConfigureAsync(InstallContext ctx, InstallHost n, IReadOnlyList<string> domains, CancellationToken cancellationToken)
    {
        var local = ctx.Cluster.Registry.Local;
        bool docker = ctx.IsDocker(n);
        // Docker hosts: which image store reads what we write (the warning below, and a prefix the classic store cannot take)
        string? store = docker ? await DockerStoreAsync(ctx, n, cancellationToken).ConfigureAwait(false) : null;
        RuntimeConfig config;
        (string User, string Password)? credentials;
        string mirror;
        IEnumerable<string> unmirrored; // by the classic store
        string caveat; // why the classic store's docker.io mirror is refused when the registry wants credentials
        if (ctx.Cluster.Registry.External is { } external)
        {
            if (store == DockerImageStore.Classic && external.Prefix is { } prefix)
            {
                throw new SealerException(ErrorCodes.DockerPrefixedMirrorRefused,
                    $"{n.Ip}: Docker uses its classic image store, which mirrors through daemon.json's registry-mirrors only, and they take a registry's root, not a path in it: " +
                    $"through the externalRegistry's prefix ({external.Url}/{prefix}) it would pull every image from the internet. Turn on Docker's containerd image store " +
                    "(\"features\": {\"containerd-snapshotter\": true} in /etc/docker/daemon.json, restart docker), run the host on containerd, or give the Clusterfile's externalRegistry no prefix.");
            }
            // every domain is mirrored from the external registry (it holds the images under their original paths, or
            // under PREFIX/DOMAIN/ with a prefix); no local registry, so its name is no image domain here
            await CheckReachableAsync(ctx, n, [external.Url], $"the externalRegistry {external.Url}", cancellationToken).ConfigureAwait(false);
            credentials = Credentials(external.Username, external.Password);
            config = RegistryRuntimeConfig.Generate(domains.Where(d => d != local.Domain), [new RegistryEndpoint(external.Url, Tls: true)],
                new RuntimeConfigOptions { Docker = docker, BasicAuth = credentials, PathPrefix = external.Prefix });
            mirror = external.Url;
            unmirrored = domains.Where(d => d != DockerImageStore.MirroredDomain && d != local.Domain);
            caveat = $"docker.io too, unless {mirror} lets anyone pull: {DockerImageStore.MirrorGetsNoCredentials}";
        }
        else
        {
            var endpoints = LocalEndpoints(ctx, n.Ip);
            if (endpoints.Count == 0) return;
            await CheckReachableAsync(ctx, n, endpoints.Select(e => e.Host).ToList(), "the cluster's registry", cancellationToken).ConfigureAwait(false);
            if (ctx.Tls && ctx.CaPem is null)
            {
                string caFile = Path.Combine(ctx.LocalCertDir, CertificateGenerator.CaCertificateFile);
                ctx.CaPem = File.Exists(caFile) ? File.ReadAllText(caFile) : null;
            }
            credentials = Credentials(local.Username, local.Password);
            config = RegistryRuntimeConfig.Generate(domains, endpoints, new RuntimeConfigOptions { Docker = docker, CaPem = ctx.CaPem, BasicAuth = credentials, DirectNames = [local.Url] });
            mirror = endpoints[0].Host;
            // the registry's own name (sea.hub:5000, with its CA) is pulled from directly: not left to the internet
            unmirrored = domains.Where(d => d != DockerImageStore.MirroredDomain && d != local.Domain && d != local.Url);
            caveat = $"docker.io too: {LocalMirrorRefusal}";
        }
        string? fragment = config.Files.FirstOrDefault(f => f.Path == RuntimeConfigOptions.DockerDaemonJsonPath)?.Content;
        bool daemonJson = fragment is not null, reload = false;
        config = config with { Files = config.Files.Where(f => f.Path != RuntimeConfigOptions.DockerDaemonJsonPath).ToList() };
        if (docker)
        {
            // files of the host's own that get our part merged in, never overwritten: daemon.json's mirrors (what an
            // earlier run merged, as recorded beside the cluster, taken out first: registry hosts that changed leave no
            // stale mirror); with registry credentials the logins kubelet and root's docker CLI send (Docker Engine keeps none)
            string record = MirrorsRecordOf(ctx);
            var logins = DockerLogins(ctx);
            string[] loginFiles = logins is null ? [] : DockerAuths.ConfigFiles;
            var existing = await ReadFilesAsync(n, [RuntimeConfigOptions.DockerDaemonJsonPath, record, .. loginFiles], $"{StepName}: read docker's settings", cancellationToken).ConfigureAwait(false);
            string current = existing[RuntimeConfigOptions.DockerDaemonJsonPath], previous = existing[record];
            string cleaned = previous.Length > 0 ? DaemonJsonMerge.Unmerge(current, previous) ?? current : current;
            string? merged = fragment is not null ? DaemonJsonMerge.Merge(cleaned, fragment, n.Ip) : cleaned != current ? cleaned : null;
            var files = config.Files.ToList();
            if (merged is not null)
            {
                files.Add(new RuntimeConfigFile(RuntimeConfigOptions.DockerDaemonJsonPath, merged));
                reload = true;
            }
            if (fragment is not null) files.Add(new RuntimeConfigFile(record, fragment));
            foreach (var path in loginFiles) files.Add(new RuntimeConfigFile(path, DockerAuths.Merge(existing[path], logins!.Value.Registries, logins.Value.Token, n.Ip, path), RuntimeConfigFile.Private));
            config = config with { Files = files };
            if (fragment is null && previous.Length > 0)
            {
                await n.Ssh.RunAsync($"rm -f {SshHost.ShellQuote(record)}", new CommandOptions { Description = $"{StepName}: forget the mirrors merged before" }, cancellationToken).ConfigureAwait(false);
            }
        }
        await n.Ssh.WriteFilesAsync("/", config.Files.Select(f => new RemoteFile(f.Path, Encoding.UTF8.GetBytes(f.Content), f.Mode)),
            new CommandOptions { Description = $"{StepName}: write hosts.toml for {config.Domains.Count} domains ({mirror})" }, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!docker)
        {
            await PointContainerdAsync(ctx, n, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (reload)
        {
            await n.Ssh.RunAsync(ReloadDocker, ctx.Cmd(n, StepName, "reload docker"), cancellationToken).ConfigureAwait(false);
        }
        if (store == DockerImageStore.Classic) WarnOfClassicStore(ctx, n, unmirrored.ToList(), daemonJson && credentials is not null ? caveat : null);
    }

    /// <summary>
    /// The host connects (TCP, 5 s, all at once) to the registry endpoints it is to pull from, before anything is written
    /// there: none answering stops the step with SEA4031 (a firewall between the hosts, most often: kubeadm's and kubelet's
    /// pulls would otherwise fail much later, or go to the internet); some not answering is a warning (pulls go to the others).
    /// </summary>
    private static async Task CheckReachableAsync(InstallContext ctx, InstallHost n, IReadOnlyList<string> endpoints, string what, CancellationToken cancellationToken)
    {
        var r = await n.Ssh.RunAsync(ConnectScript(endpoints), new CommandOptions { Description = $"{StepName}: connect to {what}" }, cancellationToken).ConfigureAwait(false);
        var dead = Unanswered(endpoints, r.Stdout).Select(SplitEndpoint).ToList();
        if (dead.Count == 0) return;
        var ports = dead.Select(d => d.Port).Distinct(StringComparer.Ordinal).Select(p => p + "/tcp").ToList();
        string list = string.Join(", ", dead.Select(d => d.Endpoint));
        string open = ctx.Cluster.Registry.External is null
            ? $"Open {string.Join(", ", ports)} on the registry hosts to the cluster's hosts (firewalld: firewall-cmd --permanent --add-port={dead[0].Port}/tcp && firewall-cmd --reload; ufw: ufw allow {dead[0].Port}/tcp)"
            : System.Net.IPAddress.TryParse(dead[0].Host, out _)
                ? $"Check that a firewall lets {n.Ip} through to {string.Join(", ", ports)} there"
                : $"Check that {n.Ip} resolves {dead[0].Host} (DNS, or spec.hostAliases) and that a firewall lets it through to {string.Join(", ", ports)}";
        if (dead.Count < endpoints.Count)
        {
            ctx.Options.Logger.LogWarning("{Code}: {Host} cannot connect to {Endpoints} of {What} (nothing answered within 5 s): its pulls go to the others. {Open}.",
                ErrorCodes.RegistryUnreachableFromHost, n.Ip, list, what, open);
            ctx.Status($"{StepName,-16} {ErrorCodes.RegistryUnreachableFromHost}: {n.Ip} cannot connect to {list}: its pulls go to the other registry hosts");
            return;
        }
        throw new SealerException(ErrorCodes.RegistryUnreachableFromHost,
            $"{n.Ip} cannot connect to {what} at {list}: nothing answered within 5 s, so no image could be pulled there. {open}, and run again.");
    }

    /// <summary><c>HOST:PORT</c>, <c>[IPv6]:PORT</c> or <c>HOST</c> (443) as the host and port to connect to.</summary>
    internal static (string Endpoint, string Host, string Port) SplitEndpoint(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        bool port = colon > 0 && endpoint.IndexOf(']', StringComparison.Ordinal) < colon && (endpoint.StartsWith('[') || endpoint.IndexOf(':', StringComparison.Ordinal) == colon);
        return (endpoint, (port ? endpoint[..colon] : endpoint).Trim('[', ']'), port ? endpoint[(colon + 1)..] : "443");
    }

    /// <summary>Shell connecting to every endpoint at once (TCP, 5 s each) and printing <c>reach I ok</c> for each that answered.</summary>
    internal static string ConnectScript(IReadOnlyList<string> endpoints)
    {
        var script = new StringBuilder();
        for (int i = 0; i < endpoints.Count; i++)
        {
            var (_, host, port) = SplitEndpoint(endpoints[i]);
            script.Append(CultureInfo.InvariantCulture, $"( if timeout 5 bash -c {SshHost.ShellQuote($"exec 3<>/dev/tcp/{host}/{port}")} 2>/dev/null; then echo 'reach {i} ok'; fi ) &\n");
        }
        return script.Append("wait\n").ToString();
    }

    /// <summary>The endpoints <see cref="ConnectScript"/> printed no answer for.</summary>
    internal static List<string> Unanswered(IReadOnlyList<string> endpoints, string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        return endpoints.Where((_, i) => !lines.Contains($"reach {i} ok")).ToList();
    }

    /// <summary>Docker Engine rereads daemon.json's registry-mirrors on a reload (SIGHUP), where systemd runs it.</summary>
    internal const string ReloadDocker = "if command -v systemctl >/dev/null && systemctl is-active -q docker 2>/dev/null; then systemctl reload docker || systemctl restart docker; fi";

    /// <summary>The registry hosts as mirror endpoints, <paramref name="first"/>'s own first (containerd and Docker try them in order).</summary>
    private static List<RegistryEndpoint> LocalEndpoints(InstallContext ctx, string? first) =>
        ctx.RegistryIps.OrderBy(ip => ip == first ? 0 : 1).Select(ip => new RegistryEndpoint($"{ip}:{ctx.Cluster.Registry.Local.Port}", Tls: ctx.Tls)).ToList();

    /// <summary>What the hosts pull from, as <c>HOST:PORT</c>: the registry hosts (<paramref name="first"/>'s own first), or the externalRegistry.</summary>
    internal static IReadOnlyList<string> PullEndpoints(InstallContext ctx, string? first = null) =>
        ctx.Cluster.Registry.External is { } external ? [external.Url] : LocalEndpoints(ctx, first).Select(e => e.Host).ToList();

    /// <summary>Where a Docker host keeps the daemon.json fragment the step merged last (beside the cluster's files), so that the next run and <c>sealer delete</c> take out exactly that.</summary>
    internal static string MirrorsRecordOf(InstallContext ctx) => $"{ctx.ClusterDir}/docker-mirrors.json";

    /// <summary>
    /// The daemon.json fragment this step merges on Docker hosts (the registry hosts, or the externalRegistry's root),
    /// for <c>sealer delete</c> to take out again; null when it merges none (an externalRegistry with a prefix, no registry).
    /// </summary>
    internal static string? DockerDaemonJson(InstallContext ctx)
    {
        if (ctx.Cluster.Registry.External is { } external)
        {
            return external.Prefix is null ? RegistryRuntimeConfig.DockerDaemonJson([new RegistryEndpoint(external.Url, Tls: true)]) : null;
        }
        var endpoints = LocalEndpoints(ctx, null);
        return endpoints.Count == 0 ? null : RegistryRuntimeConfig.DockerDaemonJson(endpoints);
    }

    /// <summary>Why the classic store's docker.io pulls through the cluster's own registry are refused when it has credentials.</summary>
    internal const string LocalMirrorRefusal = DockerImageStore.MirrorGetsNoCredentials + ", and the cluster's registry asks for them";

    /// <summary>
    /// The registry names a Docker host's pulls send credentials to, with their <c>auths</c> token: the registry's own
    /// name (<c>sea.hub:5000</c>, what a Sealer base names its images by) or the externalRegistry's; null without credentials.
    /// </summary>
    internal static (IReadOnlyList<string> Registries, string Token)? DockerLogins(InstallContext ctx)
    {
        var registry = ctx.Cluster.Registry;
        if (registry.External is { } e) return e.Username is { } eu && e.Password is { } ep ? ([e.Url], DockerAuths.Token(eu, ep)) : null;
        return registry.Local.Username is { } u && registry.Local.Password is { } p ? ([registry.Local.Url], DockerAuths.Token(u, p)) : null;
    }

    /// <summary>
    /// The text of files on a host (empty for a missing one), read in one command, base64 on the wire. These files may
    /// hold credentials: their bytes go to this method alone, never to an output line or an error's "last output".
    /// </summary>
    internal static async Task<Dictionary<string, string>> ReadFilesAsync(InstallHost n, IReadOnlyList<string> paths, string description, CancellationToken cancellationToken)
    {
        string script = string.Join("; ", paths.Select((p, i) => $"printf '@@{i} '; if [ -f {SshHost.ShellQuote(p)} ]; then base64 -w 0 < {SshHost.ShellQuote(p)} || printf '!'; fi; echo"));
        using var stdout = new MemoryStream();
        await n.Ssh.ReadOutputAsync(script, (s, c) => s.CopyToAsync(stdout, c), new CommandOptions { Description = description }, cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Encoding.UTF8.GetString(stdout.GetBuffer(), 0, (int)stdout.Length).Split('\n'))
        {
            if (!line.StartsWith("@@", StringComparison.Ordinal) || line.IndexOf(' ', StringComparison.Ordinal) is not (> 2 and var space)) continue;
            if (int.TryParse(line.AsSpan(2, space - 2), out int i) && i >= 0 && i < paths.Count)
            {
                try
                {
                    result[paths[i]] = Encoding.UTF8.GetString(Convert.FromBase64String(line[(space + 1)..].Trim()));
                }
                catch (FormatException)
                {
                    // never taken as a missing file: a merge would then overwrite the host's own
                    throw new SealerException(ErrorCodes.RunStepFailed, $"{n.Ip}: {paths[i]} could not be read; check the file, then run again.");
                }
            }
        }
        // every file answered for (missing ones as empty), never one taken as missing: a merge would overwrite the host's own
        if (paths.FirstOrDefault(p => !result.ContainsKey(p)) is { } unanswered) throw new SealerException(ErrorCodes.RunStepFailed, $"{n.Ip}: {unanswered} could not be read; run again.");
        return result;
    }

    /// <summary>Docker's image store on a Docker host (<see cref="DockerImageStore"/>), or null when <c>docker info</c> does not answer (no daemon yet: left to <c>sealer check --airgap</c>).</summary>
    private static async Task<string?> DockerStoreAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        var info = await n.Ssh.RunAsync($"docker info --format {SshHost.ShellQuote(DockerImageStore.InfoFormat)}",
            ctx.Cmd(n, StepName, "ask docker for its image store", TimeSpan.FromSeconds(30)) with { Check = false }, cancellationToken).ConfigureAwait(false);
        return info.Succeeded ? DockerImageStore.Of(info.Stdout) : null;
    }

    /// <summary>
    /// Docker hosts: Docker Engine's classic image store reads none of the hosts.toml files just written (only the
    /// containerd image store does), so the image domains it does not mirror are named in a warning (SEA4028). A mirror
    /// that wants credentials leaves docker.io out too (<paramref name="dockerIoCaveat"/> says why): Docker sends a mirror
    /// no credentials of its own (moby/moby#30880), so its pulls there are refused and go to docker.io.
    /// </summary>
    private static void WarnOfClassicStore(InstallContext ctx, InstallHost n, List<string> unmirrored, string? dockerIoCaveat)
    {
        if (dockerIoCaveat is not null) unmirrored.Insert(0, DockerImageStore.MirroredDomain);
        if (unmirrored.Count == 0) return;
        string list = string.Join(", ", unmirrored);
        string why = dockerIoCaveat is null ? "" : $" ({dockerIoCaveat})";
        ctx.Options.Logger.LogWarning("{Code}: {Host}: Docker uses its classic image store, which reads no hosts.toml and mirrors docker.io only: images of {Domains} are pulled from those registries directly{Why}, and fail without internet. {Remedy}",
            ErrorCodes.DockerClassicStoreUnmirrored, n.Ip, list, why, DockerImageStore.Remedy);
        ctx.Status($"{StepName,-16} {ErrorCodes.DockerClassicStoreUnmirrored}: {n.Ip}: Docker's classic image store mirrors docker.io only: images of {list} are pulled from those registries directly{why}. {DockerImageStore.Remedy}");
    }

    /// <summary>
    /// containerd reads certs.d only when its CRI plugin's config_path names it: the host's config.toml is read, given
    /// config_path (<see cref="ContainerdConfigToml"/>: containerd 1.x or 2.x, only that value changed), written through a
    /// temporary file and renamed over the old one (its mode kept), and containerd restarted when it runs under systemd.
    /// </summary>
    private static async Task PointContainerdAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        const string path = ContainerdConfigToml.Path, temp = "/etc/containerd/.config.toml.sealer";
        var read = await n.Ssh.RunAsync($$"""
            echo "version=$( (containerd --version 2>/dev/null || true) | head -n 1)"
            if [ -f {{path}} ]; then printf 'file='; base64 -w 0 < {{path}}; echo; fi
            """, ctx.Cmd(n, StepName, "read containerd's config.toml"), cancellationToken).ConfigureAwait(false);
        string? versionLine = null, existing = null;
        foreach (var line in read.Stdout.Split('\n'))
        {
            if (line.StartsWith("version=", StringComparison.Ordinal)) versionLine = line["version=".Length..].Trim();
            else if (line.StartsWith("file=", StringComparison.Ordinal)) existing = Encoding.UTF8.GetString(Convert.FromBase64String(line["file=".Length..].Trim()));
        }
        var edit = ContainerdConfigToml.WithConfigPath(n.Ip, existing, ContainerdConfigToml.MajorOf(versionLine));
        if (edit.Content is null) return;
        await n.Ssh.WriteFilesAsync("/", [new RemoteFile(temp, Encoding.UTF8.GetBytes(edit.Content), RuntimeConfigFile.Readable)],
            new CommandOptions { Description = $"{StepName}: write {path}" }, cancellationToken: cancellationToken).ConfigureAwait(false);
        await n.Ssh.RunAsync($$"""
            if [ -f {{path}} ]; then chmod --reference={{path}} {{temp}}; fi
            mv -f {{temp}} {{path}}
            if command -v systemctl >/dev/null && systemctl is-active -q containerd 2>/dev/null; then systemctl restart containerd; fi
            """, ctx.Cmd(n, StepName, edit.Says), cancellationToken).ConfigureAwait(false);
    }
}
