using System.Globalization;
using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Checks;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Delivery.Install.Steps;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;
using Sealer.Core.RegistryServer;

namespace Sealer.Core.Delivery.Install;

/// <summary>
/// <c>sealer check</c>: every host reachable and installed to the end, its rootfs from the recorded image, containerd's
/// hosts.toml in place, the registry answering on registry hosts (and the content-store layers its links serve from there), the API server domain and kube-lvscare as the Clusterfile
/// says, the apps' workloads healthy, no installed host missing from the Clusterfile. Changes nothing.
/// </summary>
internal sealed class ClusterChecker(InstallContext ctx)
{
    private static string Q(string s) => SshHost.ShellQuote(s);

    /// <summary>The installed image on this machine: --image, else the one the state records, else the Clusterfile's.</summary>
    private ClusterImageSource OpenInstalledImage() =>
        ClusterImageSource.Open(ctx.Options.Image ?? (ctx.State.Image.Length > 0 ? ctx.State.Image : ctx.Cluster.Image), ctx.Options.CacheDir, ctx.Options.StoreDir);

    /// <summary><c>sealer check</c>: every host reachable, rootfs of the recorded image, registry answering, hosts.toml in place, no unfinished step.</summary>
    public async Task<CheckResult> CheckAsync(CancellationToken cancellationToken = default)
    {
        var knownHosts = KnownHosts.Load(ctx.Options.Ssh.KnownHostsPath);
        var (nodes, problems) = await InstallHost.ConnectAllAsync(ctx.Cluster.Hosts, knownHosts, ctx.Options.Ssh, cancellationToken).ConfigureAwait(false);
        var ok = new List<string>();
        try
        {
            var master0 = nodes.FirstOrDefault(n => n.Ip == ctx.Cluster.Masters.First().Ip);
            ctx.State = await new StepRunner(ctx).LoadStateAsync(master0, cancellationToken).ConfigureAwait(false);
            var registryIps = ctx.RegistryIps;
            var port = ctx.Cluster.Registry.Local.Port;
            string links = UnpackStep.LinkDirectory(ctx.Rootfs);
            var pullFrom = RegistryConfigStep.PullEndpoints(ctx);
            await Task.WhenAll(nodes.Select(async n =>
            {
                bool docker = ctx.IsDocker(n);
                string defaultToml = CertsDirOf(n) + "/_default/hosts.toml";
                string script = $$"""
                    set +e
                    [ -f {{Q(ctx.Rootfs + "/.sealer-image")}} ] && echo "image=$(cat {{Q(ctx.Rootfs + "/.sealer-image")}})"
                    [ -f {{Q(defaultToml)}} ] && echo certs=ok
                    if (exec 3<>/dev/tcp/127.0.0.1/{{port}}) 2>/dev/null; then echo registry=up; fi
                    if [ -d {{Q(links)}} ]; then n=0; for f in {{Q(links)}}/*; do [ -L "$f" ] || continue; n=$((n+1)); [ -e "$f" ] || echo "lost-link=${f##*/}"; done; echo "links=$n"; fi
                    [ -f {{ApiServerVip.LvscareManifest}} ] && awk '/- --rs$/ { getline; sub(/^ *- /, ""); print "lvs-rs=" $0 }' {{ApiServerVip.LvscareManifest}}
                    awk '$2 == "{{ApiServerVip.Domain}}" { print "apiserver=" $1 }' /etc/hosts
                    {{RegistryConfigStep.ConnectScript(pullFrom)}}
                    if command -v ip >/dev/null 2>&1; then
                      ip -o addr show to {{n.Ip}} 2>/dev/null | grep -q . && echo own-ip
                      echo "vip-src=$({{ApiServerVip.VipSource(ctx.Vip, n.Ip)}})"
                    fi
                    true
                    """;
                var r = await n.Ssh.RunAsync(script, new CommandOptions { Description = "check" }, cancellationToken).ConfigureAwait(false);
                var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                lock (ok)
                {
                    if (!ctx.State.Hosts.TryGetValue(n.Ip, out var hs)) problems.Add(new PreflightProblem(n.Ip, "state", "the host is in the Clusterfile but was never installed: run 'sealer run' (or 'sealer join')."));
                    else if (!hs.Steps.Contains(PluginsStep.PostInstall)) problems.Add(new PreflightProblem(n.Ip, "state", $"the install stopped after '{hs.Steps.LastOrDefault() ?? "nothing"}': run 'sealer run' again to finish it."));
                    var image = lines.FirstOrDefault(l => l.StartsWith("image=", StringComparison.Ordinal))?[6..];
                    if (image is null) problems.Add(new PreflightProblem(n.Ip, "rootfs", $"no rootfs under {ctx.Rootfs}: run 'sealer run' again."));
                    else if (!ctx.State.ManifestDigests.ContainsValue(image)) problems.Add(new PreflightProblem(n.Ip, "rootfs", $"the rootfs is from {image}, not the recorded image."));
                    else ok.Add($"{n.Ip}: rootfs {image[..19]}");
                    if (pullFrom.Count > 0 && RegistryConfigStep.Unanswered(pullFrom, r.Stdout) is { Count: > 0 } dead)
                    {
                        problems.Add(new PreflightProblem(n.Ip, "registry", $"cannot connect to {string.Join(", ", dead)} (nothing answered within 5 s){(dead.Count < pullFrom.Count ? ": its pulls go to the other registry hosts" : ": no image can be pulled here")}. " +
                            (ctx.Cluster.Registry.External is null ? $"Is the registry running there, and port {port}/tcp open to this host (a firewall)?" : "Does this host resolve its name, and let it through a firewall?")));
                    }
                    else if (pullFrom.Count > 0) ok.Add($"{n.Ip}: connects to {string.Join(", ", pullFrom)}");
                    if (lines.Contains("certs=ok")) ok.Add($"{n.Ip}: {(docker ? "Docker" : "containerd")} hosts.toml");
                    else problems.Add(new PreflightProblem(n.Ip, "registry-config", $"no {defaultToml}: run 'sealer run' again."));
                    if (registryIps.Contains(n.Ip))
                    {
                        if (lines.Contains("registry=up")) ok.Add($"{n.Ip}: registry on port {port}");
                        else problems.Add(new PreflightProblem(n.Ip, "registry", $"nothing listens on port {port}: run 'sealer run' again to restart the registry."));
                        var lostLinks = lines.Where(l => l.StartsWith("lost-link=", StringComparison.Ordinal)).Select(l => "sha256:" + l[10..]).Order(StringComparer.Ordinal).ToList();
                        int linked = lines.FirstOrDefault(l => l.StartsWith("links=", StringComparison.Ordinal)) is { } c && int.TryParse(c[6..], CultureInfo.InvariantCulture, out int v) ? v : 0;
                        if (lostLinks.Count > 0)
                        {
                            problems.Add(new PreflightProblem(n.Ip, "registry-store", $"{lostLinks.Count} of the {linked} app image blob(s) the registry serves from the content store have lost their layer " +
                                $"({string.Join(", ", lostLinks.Take(3))}{(lostLinks.Count > 3 ? ", ..." : "")}): pulls of them fail. Run 'sealer run' again: it sends the missing layers back."));
                        }
                        else if (linked > 0) ok.Add($"{n.Ip}: {linked} app image blob(s) served from the content store");
                    }
                    if (ctx.State.ClusterDone(KubeadmInitStep.StepName) && hs is not null && (hs.Steps.Contains(JoinStep.StepName) || n.Ip == ctx.Cluster.Masters.First().Ip))
                    {
                        CheckVip(n, lines, ok, problems);
                    }
                }
            })).ConfigureAwait(false);
            if (master0 is not null && ctx.State.ClusterDone(KubeadmInitStep.StepName))
            {
                await CheckWorkloadsAsync(master0, ok, problems, cancellationToken).ConfigureAwait(false);
            }
            AppsFrom(ok, problems);
            if (ctx.Cluster.Registry.External is { } external) await CheckExternalRegistryAsync(external, ok, problems, cancellationToken).ConfigureAwait(false);
            foreach (var ip in ctx.State.Hosts.Keys.Where(ip => ctx.Cluster.Hosts.All(h => h.Ip != ip)))
            {
                problems.Add(new PreflightProblem(ip, "state", "the host is installed but no longer in the Clusterfile: 'sealer delete --hosts " + ip + "' removes it."));
            }
            return new CheckResult(ok, problems);
        }
        finally
        {
            foreach (var n in nodes) n.Ssh.Dispose();
        }
    }

    /// <summary>
    /// With an externalRegistry: it still serves every app image of the installed image as <c>mirror-images</c> put it
    /// there (a Harbor cleaned up, a tag moved, a project deleted would break every pull and every new pod). Read from this
    /// machine (manifests only); not checked when the image is not on this machine.
    /// </summary>
    private async Task CheckExternalRegistryAsync(ExternalRegistrySpec external, List<string> ok, List<PreflightProblem> problems, CancellationToken cancellationToken)
    {
        CarriedImages carried;
        try
        {
            carried = await OpenInstalledImage().CarriedImagesAsync(manifestsOnly: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (SealerException ex)
        {
            ok.Add($"external registry {external.Target}: not checked (the installed cluster image cannot be read on this machine: {ex.Code}: {ex.Message})");
            return;
        }
        using var _ = carried;
        var missing = await ImageMirror.CheckAsync(carried, external.Target, MirrorImagesStep.OptionsFor(external), cancellationToken).ConfigureAwait(false);
        if (missing.Count == 0)
        {
            ok.Add($"external registry {external.Target}: serves the {carried.Images.Count} app image(s)");
            return;
        }
        problems.Add(new PreflightProblem(external.Url, MirrorImagesStep.StepName,
            $"{missing.Count} of the {carried.Images.Count} app image(s) are not served as pushed ({string.Join("; ", missing.Take(3))}{(missing.Count > 3 ? "; ..." : "")}): pulls of them fail. Run 'sealer mirror {carried.Name} {external.Target}' (or 'sealer run' after changing the image)."));
    }

    /// <summary>
    /// <c>sealer check --airgap</c>: the checks of <see cref="CheckAsync"/>, then on every host the runtime's certs.d (containerd's, or
    /// Docker's on Docker hosts), <c>ctr -n k8s.io images ls</c> (ctr honours CONTAINERD_ADDRESS from the host's env) or <c>docker image ls</c> and, on registry hosts, the
    /// registry's access log and <c>registry/images.json</c>; the pods through kubectl on master0;
    /// judged by <see cref="AirgapCheck"/>.
    /// </summary>
    public async Task<CheckResult> CheckAirgapAsync(CancellationToken cancellationToken = default)
    {
        var basic = await CheckAsync(cancellationToken).ConfigureAwait(false);
        var ok = basic.Ok.ToList();
        var problems = basic.Problems.ToList();
        var knownHosts = KnownHosts.Load(ctx.Options.Ssh.KnownHostsPath);
        var (nodes, unreachable) = await InstallHost.ConnectAllAsync(ctx.Cluster.Hosts, knownHosts, ctx.Options.Ssh, cancellationToken).ConfigureAwait(false);
        try
        {
            var registryIps = ctx.RegistryIps;
            var facts = await Task.WhenAll(nodes.Select(async n =>
            {
                n.Env = DeliveryEnv.For(ctx.Cluster, n.Spec, [], ctx.Cluster.ContainerRuntime ?? "containerd", registryIps);
                bool registry = registryIps.Contains(n.Ip);
                bool cri = !ctx.IsDocker(n);
                // Docker Engine reads its own folder (with the containerd image store) and holds the images kubelet runs through cri-dockerd
                string certsDir = CertsDirOf(n);
                string list = cri ? "ctr -n k8s.io images ls" : $"docker image ls --digests --format {Q(AirgapCheck.DockerImageFormat)}";
                string script = $$"""
                    set +e
                    echo "@@hostname $(hostname)"
                    for f in {{Q(certsDir)}}/*/hosts.toml; do [ -f "$f" ] || continue; echo "@@certs $(basename "$(dirname "$f")")"; cat "$f"; echo; done
                    if command -v {{(cri ? "ctr" : "docker")}} >/dev/null; then out=$({{list}} 2>&1); rc=$?; echo "@@images-held $rc"; echo "$out"; else echo "@@images-held 127"; fi
                    if [ {{(cri ? 0 : 1)}} = 1 ]; then
                      if command -v docker >/dev/null; then out=$(docker info --format {{Q(DockerImageStore.InfoFormat)}} 2>&1); rc=$?; echo "@@docker-store $rc"; echo "$out"; else echo "@@docker-store 127"; fi
                      echo "@@daemon-json"
                      cat {{Q(RuntimeConfigOptions.DockerDaemonJsonPath)}} 2>/dev/null
                    fi
                    if [ {{(cri ? 1 : 0)}} = 1 ] && command -v containerd >/dev/null; then
                      echo "@@criconfig"
                      containerd config dump 2>/dev/null | awk '/^[[:space:]]*\[/ { t = $0 } /^[[:space:]]*config_path[[:space:]]*=/ && t ~ /cri/ && t ~ /\.registry\][[:space:]]*$/ { print }'
                    fi
                    if [ {{(registry ? 1 : 0)}} = 1 ]; then
                      echo "@@access"
                      tail -n 20000 {{Q(ctx.RegistryAccessLog)}} 2>/dev/null
                      if command -v journalctl >/dev/null; then journalctl -u sealer-registry -o cat --no-pager -n 20000 2>/dev/null | grep ' /v2/'; fi
                      echo "@@images"
                      cat {{Q(ctx.Rootfs + "/" + ClusterImageFormat.ImageListPath)}} 2>/dev/null
                    fi
                    true
                    """;
                var r = await n.Ssh.RunAsync(script, new CommandOptions { Description = "check --airgap", Env = n.Env, Timeout = TimeSpan.FromMinutes(1) }, cancellationToken).ConfigureAwait(false);
                return (Host: n, Sections: Sections(r.Stdout));
            })).ConfigureAwait(false);

            // what the registry serves: registry/images.json in the rootfs of a registry host, else the cluster image here
            ServedImages? served = null;
            foreach (var (_, sections) in facts)
            {
                if (sections.FirstOrDefault(s => s.Key == "images").Value is { } json && !string.IsNullOrWhiteSpace(json))
                {
                    served = new ServedImages(ClusterImageFormat.ReadImageList(System.Text.Encoding.UTF8.GetBytes(json), $"{ctx.Rootfs}/{ClusterImageFormat.ImageListPath}").Images);
                    break;
                }
            }
            if (served is null)
            {
                var image = OpenInstalledImage();
                served = ServedImages.Of(image);
                ok.Add($"the registry's image list read from {image.Reference} on this machine (no {ClusterImageFormat.ImageListPath} on the registry hosts)");
            }

            string? pods = null;
            var master0 = nodes.FirstOrDefault(n => n.Ip == ctx.Cluster.Masters.First().Ip);
            if (master0 is not null)
            {
                var r = await master0.Ssh.RunAsync($"{ctx.KubePath}\nkubectl get pods -A -o json", new CommandOptions { Description = "check --airgap: kubectl", Check = false, Timeout = TimeSpan.FromMinutes(1) }, cancellationToken).ConfigureAwait(false);
                if (r.Succeeded) pods = r.Stdout;
                else problems.Add(new PreflightProblem(master0.Ip, "airgap", $"'kubectl get pods' failed with exit code {r.ExitCode}: {string.Join(" | ", r.LastLines.TakeLast(3))}; the pods' images are not checked."));
            }
            var hostFacts = facts.Select(f =>
            {
                bool docker = ctx.IsDocker(f.Host);
                // a tool's answer: its output when it exited 0, else why not (not installed, or its last line)
                static (string? Out, string? Error) Answer(List<KeyValuePair<string, string>> sections, string key, string tool)
                    => Section(sections, key) switch
                    {
                        ("0", var text) => (text, null),
                        (null or "127", _) => (null, $"{tool} is not installed"),
                        (_, var text) => (null, $"{tool} failed: {text.Trim().Split('\n').LastOrDefault()}"),
                    };
                var held = Answer(f.Sections, "images-held ", docker ? "docker" : "ctr");
                var store = docker ? Answer(f.Sections, "docker-store ", "docker") : default;
                return new AirgapHostFacts(f.Host.Ip, f.Sections.First(s => s.Key.StartsWith("hostname ", StringComparison.Ordinal)).Key["hostname ".Length..].Trim().ToLowerInvariant())
                {
                    Runtime = docker ? "docker" : "containerd",
                    CertsDir = CertsDirOf(f.Host),
                    HostsToml = f.Sections.Where(s => s.Key.StartsWith("certs ", StringComparison.Ordinal)).ToDictionary(s => s.Key["certs ".Length..], s => s.Value, StringComparer.Ordinal),
                    DockerStore = store.Out is { } info ? DockerImageStore.Of(info) : null,
                    DockerStoreError = store.Error,
                    DockerRegistryMirrors = docker && f.Sections.FirstOrDefault(s => s.Key == "daemon-json").Value is { } daemon ? AirgapCheck.DockerRegistryMirrors(daemon) : null,
                    Images = held.Out,
                    ImagesError = held.Error,
                    AccessLog = f.Sections.FirstOrDefault(s => s.Key == "access").Value ?? "",
                    CriConfigPath = f.Sections.FirstOrDefault(s => s.Key == "criconfig").Value is { } dump
                        ? string.Join(':', dump.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)[^1].Trim().Trim('"', '\'')).Where(v => v.Length > 0))
                        : null,
                };
            }).ToList();
            var external = ctx.Cluster.Registry.External;
            IReadOnlyList<string> endpoints = external is not null ? RegistryConfigStep.PullEndpoints(ctx) : [.. RegistryConfigStep.PullEndpoints(ctx), ctx.Cluster.Registry.Local.Url];
            try
            {
                // Docker's classic store sends a mirror no credentials: a local registry with them refuses its docker.io pulls
                string? refusal = external is null && RegistryConfigStep.DockerLogins(ctx) is not null ? RegistryConfigStep.LocalMirrorRefusal : null;
                var airgap = AirgapCheck.Evaluate(served, endpoints, ctx.Cluster.Masters.First().Ip, pods, hostFacts, refusal,
                    external is not null ? $"the externalRegistry {external.Url}" : "the built-in registry");
                ok.AddRange(airgap.Ok);
                problems.AddRange(airgap.Problems);
            }
            catch (System.Text.Json.JsonException ex)
            {
                problems.Add(new PreflightProblem(ctx.Cluster.Masters.First().Ip, "airgap", $"'kubectl get pods -A -o json' printed something that is not a pod list ({ex.Message})."));
            }
            return new CheckResult(ok, problems);
        }
        finally
        {
            foreach (var n in nodes) n.Ssh.Dispose();
        }
    }

    /// <summary>The folder of hosts.toml files the host's runtime reads: Docker Engine's own (with the containerd image store), else containerd's.</summary>
    private string CertsDirOf(InstallHost n) => ctx.IsDocker(n) ? RuntimeConfigOptions.DefaultDockerCertsDir : ContainerdConfigToml.CertsDir;

    /// <summary>The section <c>@@PREFIXrc</c>: (its rc, its text); (null, "") when the script printed none.</summary>
    private static (string? Rc, string Text) Section(List<KeyValuePair<string, string>> sections, string prefix)
        => sections.FirstOrDefault(s => s.Key.StartsWith(prefix, StringComparison.Ordinal)) is { Key: not null } s ? (s.Key[prefix.Length..].Trim(), s.Value) : (null, "");

    /// <summary>The script's output cut at its <c>@@name</c> lines: (name, text up to the next one), in order.</summary>
    private static List<KeyValuePair<string, string>> Sections(string stdout)
    {
        var result = new List<KeyValuePair<string, string>>();
        string? key = null;
        var sb = new System.Text.StringBuilder();
        foreach (var line in stdout.Split('\n'))
        {
            if (line.StartsWith("@@", StringComparison.Ordinal))
            {
                if (key is not null) result.Add(new(key, sb.ToString()));
                key = line[2..].TrimEnd('\r');
                sb.Clear();
            }
            else if (key is not null) sb.Append(line).Append('\n');
        }
        if (key is not null) result.Add(new(key, sb.ToString()));
        return result;
    }

    /// <summary>Which image each app runs from (the state's image history), apps a newer image dropped and left running, an unfinished upgrade.</summary>
    private void AppsFrom(List<string> ok, List<PreflightProblem> problems)
    {
        var master0 = ctx.Cluster.Masters.First().Ip;
        if (ctx.State.Upgrade is { } up)
        {
            problems.Add(new PreflightProblem(master0, "upgrade", $"the {(up.Rollback ? "rollback" : "upgrade")} from {up.From.Image} to {up.To.Image} (started {up.Started}) is unfinished: run 'sealer run --image {up.To.Image}' to finish it, or 'sealer rollback'."));
        }
        if (ctx.State.Current is not { } current) return;
        ok.Add($"{master0}: cluster image {current.Image}{(current.KubeVersion is null ? "" : $", Kubernetes {current.KubeVersion}")} ({ctx.State.History!.Count} image(s) in its history)");
        foreach (var a in current.Apps)
        {
            ok.Add($"{master0}: app {a.Name} ({a.Kind}{(a.ChartVersion is null ? "" : $" chart {a.ChartVersion}")}) from {a.From ?? current.Image}");
        }
        foreach (var a in current.Kept ?? [])
        {
            ok.Add($"{master0}: app {a.Name} ({a.Kind}{(a.ChartVersion is null ? "" : $" chart {a.ChartVersion}")}) from {a.From ?? "an earlier image"}, dropped by {current.Image} and left running");
        }
    }

    /// <summary>The API server domain in /etc/hosts and, on workers, kube-lvscare over exactly the masters of the Clusterfile and traffic to the VIP leaving from the worker's Clusterfile address.</summary>
    private void CheckVip(InstallHost n, HashSet<string> lines, List<string> ok, List<PreflightProblem> problems)
    {
        string? alias = lines.FirstOrDefault(l => l.StartsWith("apiserver=", StringComparison.Ordinal))?["apiserver=".Length..];
        string want = n.Spec.IsMaster ? n.Ip : ctx.Vip;
        if (alias != want)
        {
            problems.Add(new PreflightProblem(n.Ip, "vip", $"{ApiServerVip.Domain} resolves to {alias ?? "nothing"} in /etc/hosts, not {want}: run 'sealer run' again."));
        }
        if (n.Spec.IsMaster) return;
        var have = lines.Where(l => l.StartsWith("lvs-rs=", StringComparison.Ordinal)).Select(l => l["lvs-rs=".Length..]).Order(StringComparer.Ordinal).ToList();
        var masters = ctx.Cluster.Masters.Select(m => ApiServerVip.HostPort(m.Ip, 6443)).Order(StringComparer.Ordinal).ToList();
        if (have.Count == 0) problems.Add(new PreflightProblem(n.Ip, "vip", $"no {ApiServerVip.LvscareManifest}: the worker cannot reach the API servers through {ctx.VipEndpoint}; run 'sealer run' again."));
        else if (!have.SequenceEqual(masters)) problems.Add(new PreflightProblem(n.Ip, "vip", $"kube-lvscare balances over {string.Join(", ", have)}, but the masters are {string.Join(", ", masters)}: run 'sealer run' again to update it."));
        else ok.Add($"{n.Ip}: lvscare {ctx.VipEndpoint} over {masters.Count} master(s)");
        // the masters answer the address a connection to the VIP comes from (IPVS rewrites only the destination)
        if (lines.Contains("own-ip") && lines.FirstOrDefault(l => l.StartsWith("vip-src=", StringComparison.Ordinal)) is { } v)
        {
            string src = v["vip-src=".Length..];
            if (System.Net.IPAddress.TryParse(src, out var from) && from.Equals(System.Net.IPAddress.Parse(n.Ip))) ok.Add($"{n.Ip}: the VIP {ctx.Vip} is reached from {n.Ip}");
            else problems.Add(new PreflightProblem(n.Ip, "vip", $"traffic to the VIP {ctx.Vip} leaves from {(src.Length > 0 ? src : "nowhere (no route)")}, not from {n.Ip}: the masters answer that address, so the worker cannot reach the API servers. Run 'sealer run' again: it routes the VIP from {n.Ip}."));
        }
    }

    /// <summary>The apps' workloads through kubectl on master0: desired vs ready, image pull errors, crash loops.</summary>
    private async Task CheckWorkloadsAsync(InstallHost master0, List<string> ok, List<PreflightProblem> problems, CancellationToken ct)
    {
        var opts = new CommandOptions { Description = "check: kubectl", Check = false, Timeout = TimeSpan.FromMinutes(1) };
        var workloads = await master0.Ssh.RunAsync($"{ctx.KubePath}\nkubectl get deployments,statefulsets,daemonsets -A -o json", opts, ct).ConfigureAwait(false);
        var pods = workloads.Succeeded ? await master0.Ssh.RunAsync($"{ctx.KubePath}\nkubectl get pods -A -o json", opts, ct).ConfigureAwait(false) : workloads;
        if (!workloads.Succeeded || !pods.Succeeded)
        {
            var failed = workloads.Succeeded ? pods : workloads;
            problems.Add(new PreflightProblem(master0.Ip, "kubernetes", $"'kubectl get' failed with exit code {failed.ExitCode}: {string.Join(" | ", failed.LastLines.TakeLast(3))}; is the API server up (KUBECONFIG, /etc/kubernetes/admin.conf)?"));
            return;
        }
        List<string> good;
        List<PreflightProblem> bad;
        try
        {
            (good, bad) = WorkloadHealth.Evaluate(master0.Ip, workloads.Stdout, pods.Stdout);
        }
        catch (System.Text.Json.JsonException ex)
        {
            problems.Add(new PreflightProblem(master0.Ip, "kubernetes", $"'kubectl get -o json' printed something that is not JSON ({ex.Message})."));
            return;
        }
        lock (ok)
        {
            ok.AddRange(good);
            problems.AddRange(bad);
            if (good.Count == 0 && bad.Count == 0) ok.Add($"{master0.Ip}: kubernetes answers (no workloads)");
        }
    }
}
