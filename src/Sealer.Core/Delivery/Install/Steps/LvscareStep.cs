using Microsoft.Extensions.Logging;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// Every worker gets the kube-lvscare static pod over the masters of the Clusterfile (rewritten only when it changes, so
/// kubelet does not restart lvscare for nothing), and the IPVS rules at once, so kubeadm join reaches the VIP before
/// kubelet runs lvscare: Sealer's <c>seautil ipvs --run-once</c> when the image ships seautil, else ipvsadm. Runs on every
/// run (before workers join, and again whenever the masters change); not recorded. On a worker whose traffic to the VIP
/// would leave from another address than its Clusterfile one (the masters answer that one), a route to the VIP from it
/// (<see cref="ApiServerVip.VipRouteScript"/>).
/// </summary>
internal sealed class LvscareStep : InstallStep
{
    public const string StepName = "lvscare";

    /// <summary>How a run reports a worker that got a route to the VIP (<c>ip:vip-route</c>).</summary>
    public const string VipRoute = "vip-route";

    public override StepScope Scope => StepScope.Host;

    public override string Name => StepName;

    public override StepRerun Rerun => StepRerun.EveryRun;

    public override string Does => "on every worker, the kube-lvscare static pod (VIP:6443 over every master; rewritten only when it changes), the IPVS rules at once (seautil, else ipvsadm), and a route to the VIP from the host's cluster address where traffic to it would leave from another (a host on several networks; kept over reboots by a systemd unit)";

    public override string Reads => "the masters, the VIP, the lvscare image (env LvscareImage, else one the image carries, else <RegistryURL>/sealerio/lvscare)";

    public override string When => "a Kubernetes cluster";

    public override bool AppliesTo(InstallContext ctx) => ctx.Kube;

    private static IReadOnlyList<InstallHost> HostsOf(InstallContext ctx) => ctx.Hosts.Where(n => !n.Spec.IsMaster).ToList();

    public override Task RunAsync(InstallContext ctx, StepRunner runner, CancellationToken cancellationToken)
    {
        var workers = HostsOf(ctx);
        if (workers.Count == 0) return Task.CompletedTask;
        return ConfigureAsync(ctx, workers, ctx.Cluster.Masters.Select(m => m.Ip).ToList(), LvscareImage(ctx, ctx.Master0!), cancellationToken);
    }

    /// <summary>
    /// The lvscare image: env <c>LvscareImage</c>; else an lvscare image the cluster image carries (by its full name: we
    /// never rewrite references); else Sealer's name, <c>&lt;RegistryURL&gt;/sealerio/lvscare:v1.1.3-beta.8</c> (served from
    /// a Sealer base image's registry content, which has no domain).
    /// </summary>
    private static string LvscareImage(InstallContext ctx, InstallHost master0)
    {
        if (ctx.Cluster.Env.LastOrDefault(e => e.Key == "LvscareImage").Value is { Length: > 0 } set) return set;
        var carried = ctx.Image.RegistryImages(master0.Platform).Where(r => r.Split('@')[0].Split(':')[0].EndsWith("/lvscare", StringComparison.Ordinal) || r.Contains("/lvscare:", StringComparison.Ordinal))
            .OrderByDescending(r => r.Contains(ApiServerVip.LvscareRepoAndTag, StringComparison.Ordinal)).FirstOrDefault();
        if (carried is not null) return carried;
        string registry = master0.Env.LastOrDefault(e => e.Key == "RegistryURL").Value ?? ctx.Cluster.Registry.Local.Url;
        return $"{registry}/{ApiServerVip.LvscareRepoAndTag}";
    }

    /// <summary>Writes the static pod over <paramref name="masters"/> on <paramref name="workers"/> (also after delete removed a master); a worker where it changed is reported as <c>ip:lvscare</c>.</summary>
    public static async Task ConfigureAsync(InstallContext ctx, IReadOnlyList<InstallHost> workers, IReadOnlyList<string> masters, string image, CancellationToken cancellationToken)
    {
        if (workers.Count == 0) return;
        string vipEndpoint = ctx.VipEndpoint;
        string pod = ApiServerVip.LvscarePod(ctx.Cluster.Name, vipEndpoint, masters, image);
        string rs = string.Join(" ", masters.Order(StringComparer.Ordinal).Select(m => "--rs " + ApiServerVip.HostPort(m, 6443)));
        string script = $$"""
            {{ctx.KubePath}}
            f={{ApiServerVip.LvscareManifest}}; t=/etc/kubernetes/.kube-lvscare.yaml.new
            mkdir -p /etc/kubernetes/manifests
            cat > "$t" <<'SEALER_LVSCARE'
            {{pod}}SEALER_LVSCARE
            if cmp -s "$t" "$f"; then rm -f "$t"; echo "lvscare: unchanged"; else mv -f "$t" "$f"; echo "lvscare: updated"; fi
            if command -v seautil >/dev/null 2>&1; then
              seautil ipvs --vs {{vipEndpoint}} {{rs}} --health-path /healthz --health-schem https --run-once
            elif command -v ipvsadm >/dev/null 2>&1; then
              ipvsadm -D -t {{vipEndpoint}} >/dev/null 2>&1 || true
              if ipvsadm -A -t {{vipEndpoint}} -s rr; then for r in {{string.Join(" ", masters.Order(StringComparer.Ordinal).Select(m => ApiServerVip.HostPort(m, 6443)))}}; do ipvsadm -a -t {{vipEndpoint}} -r "$r" -m || true; done
              else echo "warning: ipvsadm could not add {{vipEndpoint}}; kube-lvscare adds it once kubelet runs" >&2; fi
            else
              echo "note: neither seautil nor ipvsadm here: the VIP {{vipEndpoint}} works once kubelet runs kube-lvscare" >&2
            fi
            """;
        var changed = new List<string>();
        var failures = new List<string>();
        var routed = new List<string>();
        await Task.WhenAll(workers.Select(async w =>
        {
            try
            {
                var r = await w.Ssh.RunAsync(script + "\n" + ApiServerVip.VipRouteScript(ctx.Cluster.Name, ctx.Vip, w.Ip),
                    ctx.Cmd(w, StepName, $"write {ApiServerVip.LvscareManifest} ({masters.Count} master(s))"), cancellationToken).ConfigureAwait(false);
                if (r.Stdout.Contains("lvscare: updated", StringComparison.Ordinal)) lock (changed) changed.Add(w.Ip);
                foreach (var line in r.Stdout.Split('\n'))
                {
                    if (line.StartsWith("vip-route: ", StringComparison.Ordinal))
                    {
                        lock (routed) routed.Add(w.Ip);
                        ctx.Status($"{StepName,-16} {w.Ip}: {line["vip-route: ".Length..]} (the host is on another network too: traffic to the VIP leaves from its cluster address)");
                    }
                    else if (line.StartsWith("vip-route-warning: ", StringComparison.Ordinal))
                    {
                        ctx.Options.Logger.LogWarning("{Code}: {Host}: {Message}. Give the host a route to the VIP (a default route will do), or list it in the Clusterfile under an address it holds.",
                            ErrorCodes.VipUnroutable, w.Ip, line["vip-route-warning: ".Length..]);
                    }
                }
            }
            catch (SealerException ex)
            {
                lock (failures) failures.Add($"{w.Ip}: {ex.Message}");
            }
        })).ConfigureAwait(false);
        foreach (var ip in changed.Order(StringComparer.Ordinal)) ctx.Ran($"{ip}:{StepName}");
        foreach (var ip in routed.Order(StringComparer.Ordinal)) ctx.Ran($"{ip}:{VipRoute}");
        ctx.Status($"{StepName,-16} {workers.Count} worker(s), VIP {vipEndpoint} over {masters.Count} master(s){(changed.Count > 0 ? $", updated on {changed.Count}" : ", unchanged")}");
        if (failures.Count > 0)
        {
            throw new SealerException(ErrorCodes.RunStepFailed, $"Step '{StepName}' failed on {failures.Count} host(s):\n{string.Join("\n", failures)}\nFix the cause and run again.");
        }
    }
}
