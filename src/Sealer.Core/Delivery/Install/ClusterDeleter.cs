using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Delivery.Install.Steps;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;
using Sealer.Core.RegistryServer;

namespace Sealer.Core.Delivery.Install;

/// <summary>
/// <c>sealer delete</c>: removes the cluster from some hosts (drained from Kubernetes first) or from all of them; the
/// workers that stay balance over the masters that stay, and the saved Clusterfile loses the removed hosts.
/// </summary>
internal sealed class ClusterDeleter(InstallContext ctx)
{
    private static string Q(string s) => SshHost.ShellQuote(s);

    /// <summary>
    /// Docker hosts: what registry-config merged into the host's own files taken out again — daemon.json's
    /// registry-mirrors (and insecure-registries), the registry logins of kubelet's and root's Docker config (a file left
    /// with nothing else goes) —, every other setting kept, and Docker reloaded when its mirrors changed.
    /// </summary>
    private async Task RemoveDockerSettingsAsync(InstallHost n, CancellationToken cancellationToken)
    {
        string record = RegistryConfigStep.MirrorsRecordOf(ctx);
        var logins = RegistryConfigStep.DockerLogins(ctx);
        string[] loginFiles = logins is null ? [] : DockerAuths.ConfigFiles;
        var existing = await RegistryConfigStep.ReadFilesAsync(n, [RuntimeConfigOptions.DockerDaemonJsonPath, record, .. loginFiles], "delete: read the registry settings of docker", cancellationToken).ConfigureAwait(false);
        var unmerges = new List<(string Path, Func<string, string?> Unmerge)>();
        // what the last run merged, as recorded on the host; else what this Clusterfile's registry would have merged
        if ((existing[record] is { Length: > 0 } recorded ? recorded : RegistryConfigStep.DockerDaemonJson(ctx)) is { } ours)
        {
            unmerges.Add((RuntimeConfigOptions.DockerDaemonJsonPath, existing => DaemonJsonMerge.Unmerge(existing, ours)));
        }
        foreach (var path in loginFiles) unmerges.Add((path, existing => DockerAuths.Unmerge(existing, logins!.Value.Registries, logins.Value.Token)));
        var left = unmerges.Select(u => (u.Path, Text: u.Unmerge(existing[u.Path]))).Where(u => u.Text is not null).ToList();
        if (left.Count == 0) return;
        var write = left.Where(u => u.Text!.Length > 0).Select(u => new RemoteFile(u.Path, System.Text.Encoding.UTF8.GetBytes(u.Text!),
            u.Path == RuntimeConfigOptions.DockerDaemonJsonPath ? RuntimeConfigFile.Readable : RuntimeConfigFile.Private)).ToList();
        if (write.Count > 0)
        {
            await n.Ssh.WriteFilesAsync("/", write, ctx.Cmd(n, "delete", "take the cluster's registry out of docker's settings"), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        if (left.Where(u => u.Text!.Length == 0).Select(u => Q(u.Path)).ToList() is { Count: > 0 } gone)
        {
            await n.Ssh.RunAsync($"rm -f {string.Join(' ', gone)}", ctx.Cmd(n, "delete", "remove docker settings files only the cluster's registry was in"), cancellationToken).ConfigureAwait(false);
        }
        if (left.Any(u => u.Path == RuntimeConfigOptions.DockerDaemonJsonPath))
        {
            await n.Ssh.RunAsync(RegistryConfigStep.ReloadDocker, ctx.Cmd(n, "delete", "reload docker"), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// <c>sealer delete</c>: on the given hosts (all when null): pre-clean-host plugins, kubeadm reset, registry stopped,
    /// hosts.toml, Docker's mirrors and registry logins, /etc/hosts entries removed, rootfs and content store removed, post-clean-host plugins; state updated.
    /// </summary>
    public async Task<IReadOnlyList<string>> DeleteAsync(IReadOnlyList<string>? hostIps = null, CancellationToken cancellationToken = default)
    {
        var targets = hostIps is null ? ctx.Cluster.Hosts.ToList() : ctx.Cluster.Hosts.Where(h => hostIps.Contains(h.Ip)).ToList();
        foreach (var ip in hostIps ?? [])
        {
            if (ctx.Cluster.Hosts.All(h => h.Ip != ip)) throw new SealerException(ErrorCodes.HostNotInCluster, $"{ip} is not a host of cluster '{ctx.Cluster.Name}' (see the Clusterfile).");
        }
        var knownHosts = KnownHosts.Load(ctx.Options.Ssh.KnownHostsPath);
        var runner = new StepRunner(ctx);
        var master0Spec = ctx.Cluster.Masters.First();
        var connectTo = targets.Any(t => t.Ip == master0Spec.Ip) ? targets : targets.Append(master0Spec).ToList();
        var (nodes, problems) = await InstallHost.ConnectAllAsync(connectTo, knownHosts, ctx.Options.Ssh, cancellationToken).ConfigureAwait(false);
        try
        {
            if (problems.Count > 0) throw Preflight.Failure(problems);
            var master0 = nodes.First(n => n.Ip == master0Spec.Ip);
            ctx.State = await runner.LoadStateAsync(master0, cancellationToken).ConfigureAwait(false);
            var registryHosts = ctx.RegistryIps;
            foreach (var n in nodes)
            {
                n.Env = DeliveryEnv.For(ctx.Cluster, n.Spec, [], ctx.Cluster.ContainerRuntime ?? "containerd", registryHosts);
            }
            bool all = targets.Count == ctx.Cluster.Hosts.Count;
            var removed = new List<string>();
            var doomed = nodes.Where(n => targets.Any(t => t.Ip == n.Ip)).ToList();
            if (!all)
            {
                // drain from the cluster first when kubectl exists on master0
                var names = await Task.WhenAll(doomed.Select(async n => (await n.Ssh.RunAsync("hostname", new CommandOptions { Description = "hostname" }, cancellationToken).ConfigureAwait(false)).Stdout.Trim().ToLowerInvariant())).ConfigureAwait(false);
                await master0.Ssh.RunAsync($"{ctx.KubePath} 2>/dev/null || true\n[ -f \"$HOME/.kube/config\" ] || export KUBECONFIG=/etc/kubernetes/admin.conf\nif command -v kubectl >/dev/null; then for n in {string.Join(' ', names.Select(Q))}; do kubectl drain \"$n\" --ignore-daemonsets --delete-emptydir-data --force --timeout=120s || true; kubectl delete node \"$n\" --ignore-not-found || true; done; fi",
                    ctx.Cmd(master0, "delete", "remove nodes from the cluster"), cancellationToken).ConfigureAwait(false);
            }
            var failures = new List<string>();
            await Task.WhenAll(doomed.Select(async n =>
            {
                try
                {
                    await PluginsStep.RunPluginsAsync(ctx, n, PluginPhase.PreCleanHost, cancellationToken).ConfigureAwait(false);
                    string begin = $"# BEGIN sealer {ctx.Cluster.Name}", end = $"# END sealer {ctx.Cluster.Name}";
                    string script = $$"""
                        set +e
                        export PATH={{Q(ctx.Rootfs + "/bin")}}:$PATH
                        if command -v kubeadm >/dev/null; then kubeadm reset -f; fi
                        if [ -f /etc/systemd/system/sealer-registry.service ]; then systemctl disable --now sealer-registry; rm -f /etc/systemd/system/sealer-registry.service; systemctl daemon-reload; fi
                        pidf={{Q(ctx.ClusterDir + "/registry.pid")}}
                        if [ -f "$pidf" ]; then kill "$(cat "$pidf")" 2>/dev/null; fi
                        for d in {{Q(RuntimeConfigOptions.DefaultContainerdCertsDir)}}/*/ {{Q(RuntimeConfigOptions.DefaultDockerCertsDir)}}/*/; do grep -q 'Generated by sealer' "$d/hosts.toml" 2>/dev/null && rm -rf "$d"; done
                        # Docker's folders holding only the cluster's CA (its registry hosts and domain)
                        for d in {{Q(RuntimeConfigOptions.DefaultDockerCertsDir)}}/*/; do [ "$(ls -A "$d")" = ca.crt ] && cmp -s "$d/ca.crt" /etc/sealer/registry/ca.crt && rm -rf "$d"; done
                        grep -qF {{Q("# Generated by sealer for cluster " + ctx.Cluster.Name + ":")}} {{ApiServerVip.LvscareManifest}} 2>/dev/null && rm -f {{ApiServerVip.LvscareManifest}}
                        {{ApiServerVip.VipRouteRemoval(ctx.Cluster.Name)}}
                        rm -f /etc/sealer/registry/ca.crt; rmdir /etc/sealer/registry 2>/dev/null
                        t=$(mktemp); sed {{Q($"/^{begin}$/,/^{end}$/d")}} /etc/hosts > "$t" && cat "$t" > /etc/hosts; rm -f "$t"
                        rm -rf {{Q(ctx.ClusterDir)}}
                        rmdir {{Q(ctx.Cluster.DataRoot)}} 2>/dev/null
                        true
                        """;
                    // before the clean script: it removes the cluster's folder, where the record of the merged mirrors is
                    if (ctx.IsDocker(n))
                    {
                        try
                        {
                            await RemoveDockerSettingsAsync(n, cancellationToken).ConfigureAwait(false);
                        }
                        catch (SealerException ex)
                        {
                            // said, and the host cleaned all the same
                            lock (failures) failures.Add($"{n.Ip}: docker's registry settings not taken out: {ex.Message}");
                        }
                    }
                    await n.Ssh.RunAsync(script, ctx.Cmd(n, "delete", "clean the host"), cancellationToken).ConfigureAwait(false);
                    await n.Ssh.RunAsync($"ls -A {Q(ctx.Cluster.DataRoot)} 2>/dev/null | grep -qv '^.store$' || rm -rf {Q(ctx.Store)}; rmdir {Q(ctx.Cluster.DataRoot)} 2>/dev/null; true",
                        ctx.Cmd(n, "delete", "remove the content store when no cluster uses it"), cancellationToken).ConfigureAwait(false);
                    await PluginsStep.RunPluginsAsync(ctx, n, PluginPhase.PostCleanHost, cancellationToken).ConfigureAwait(false);
                    lock (removed) removed.Add(n.Ip);
                    ctx.State.ForgetHost(n.Ip);
                }
                catch (SealerException ex)
                {
                    lock (failures) failures.Add($"{n.Ip}: {ex.Message}");
                }
            })).ConfigureAwait(false);
            if (!all && removed.Any(ip => ctx.Cluster.Masters.Any(m => m.Ip == ip)) && ctx.State.ClusterDone(KubeadmInitStep.StepName))
            {
                // the workers that stay balance over the masters that stay
                var stayingMasters = ctx.Cluster.Masters.Select(m => m.Ip).Where(ip => !removed.Contains(ip)).ToList();
                var (workers, unreachable) = await InstallHost.ConnectAllAsync(ctx.Cluster.Nodes.Where(w => !removed.Contains(w.Ip)).ToList(), knownHosts, ctx.Options.Ssh, cancellationToken).ConfigureAwait(false);
                try
                {
                    foreach (var p in unreachable) failures.Add($"{p.Host}: cannot update {ApiServerVip.LvscareManifest} ({p.Message}); run 'sealer run' once it is back");
                    foreach (var w in workers) w.Env = DeliveryEnv.For(ctx.Cluster, w.Spec, [], ctx.Cluster.ContainerRuntime ?? "containerd", registryHosts);
                    string? lvsImage = null;
                    foreach (var w in workers)
                    {
                        var r = await w.Ssh.RunAsync($"sed -n 's/^    image: //p' {ApiServerVip.LvscareManifest} 2>/dev/null || true", new CommandOptions { Description = "read the lvscare image" }, cancellationToken).ConfigureAwait(false);
                        if (r.Stdout.Trim() is { Length: > 0 } found) { lvsImage = found; break; }
                    }
                    lvsImage ??= ctx.Cluster.Env.LastOrDefault(e => e.Key == "LvscareImage").Value is { Length: > 0 } set ? set : $"{ctx.Cluster.Registry.External?.Url ?? ctx.Cluster.Registry.Local.Url}/{ApiServerVip.LvscareRepoAndTag}";
                    await LvscareStep.ConfigureAsync(ctx, workers, stayingMasters, lvsImage, cancellationToken).ConfigureAwait(false);
                }
                catch (SealerException ex)
                {
                    failures.Add(ex.Message);
                }
                finally
                {
                    foreach (var w in workers) w.Ssh.Dispose();
                }
            }
            if (!all && removed.Count > 0 && ctx.ClusterfileText is not null && !removed.Contains(master0.Ip))
            {
                // the Clusterfile without the removed hosts, on master0 and in the ConfigMap (as Sealer's delete saves it)
                try
                {
                    string updated = ClusterfileEditor.RemoveHosts(ctx.ClusterfileText, removed, ctx.Doc.File);
                    await SaveClusterfileStep.SaveAsync(ctx, master0, updated, ctx.State.ClusterDone(KubeadmInitStep.StepName), cancellationToken).ConfigureAwait(false);
                }
                catch (SealerException ex)
                {
                    lock (failures) failures.Add($"{master0.Ip}: saving the Clusterfile: {ex.Message}");
                }
            }
            if (all && failures.Count == 0)
            {
                if (File.Exists(ctx.LocalStatePath)) File.Delete(ctx.LocalStatePath);
                if (Directory.Exists(ctx.LocalCertDir)) Directory.Delete(ctx.LocalCertDir, true);
            }
            else
            {
                if (all) ctx.State.ClusterSteps.Clear();
                await runner.SaveStateAsync(all ? null : master0, cancellationToken).ConfigureAwait(false);
            }
            if (failures.Count > 0)
            {
                throw new SealerException(ErrorCodes.RunStepFailed, $"Cleaning failed on {failures.Count} host(s):\n{string.Join("\n", failures)}\nRun 'sealer delete' again.");
            }
            return removed;
        }
        finally
        {
            foreach (var n in nodes) n.Ssh.Dispose();
        }
    }
}
