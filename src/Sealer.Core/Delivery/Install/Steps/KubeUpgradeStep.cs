using System.Text;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// Kubernetes to the new image's version on master0, in kubeadm's (and Sealer's) order: <c>kubeadm upgrade plan vX</c>,
/// <c>kubeadm upgrade apply vX -y</c>, then kubelet and kubectl from the new rootfs and kubelet restarted. The other masters
/// and the workers follow in <see cref="KubeUpgradeNodeStep"/>. Only when the plan's Kubernetes change is a patch or the
/// next minor version (<see cref="Policies.KubeSkew"/> refused the rest before anything changed).
/// </summary>
internal sealed class KubeUpgradeStep : ClusterStep
{
    public const string StepName = "kube-upgrade";

    public override string Name => StepName;

    public override string Does => "kubeadm upgrade plan vX and kubeadm upgrade apply vX -y on master0, then kubelet/kubectl from the new rootfs, kubelet restarted";

    public override string Reads => "the new image's Kubernetes version (cluster-runtime-version label), master0's rootfs";

    public override string When => "an upgrade to an image with a newer Kubernetes (patch or next minor)";

    public override bool AppliesTo(InstallContext ctx) => ctx.Kube && ctx.State.Upgrade?.KubeTo is not null;

    public override Task RunOnceAsync(InstallContext ctx, InstallHost master0, CancellationToken cancellationToken)
    {
        string v = Q(KubeUpgradeNodeStep.Version(ctx));
        return master0.Ssh.RunAsync($"{ctx.KubePath}\nkubeadm upgrade plan {v}\nkubeadm upgrade apply {v} -y\n{KubeUpgradeNodeStep.KubeletScript}",
            ctx.Cmd(master0, StepName, $"kubeadm upgrade apply {KubeUpgradeNodeStep.Version(ctx)}"), cancellationToken);
    }
}

/// <summary>
/// After <see cref="KubeUpgradeStep"/>: the other masters one at a time (<c>kubeadm upgrade node</c>, kubelet), then the
/// workers one at a time: drained from master0 (<c>kubectl drain --ignore-daemonsets --delete-emptydir-data</c>),
/// <c>kubeadm upgrade node</c>, kubelet and kubectl binaries from the new rootfs, kubelet restarted, uncordoned. Recorded
/// per host, so an interrupted upgrade resumes at the host it stopped on.
/// </summary>
internal sealed class KubeUpgradeNodeStep(bool masters) : HostStep
{
    public const string StepName = "kube-upgrade-node";

    /// <summary>
    /// kubelet and kubectl from the new rootfs (when the image has them) into <c>$KubeBinDir</c> (cluster env; default
    /// /usr/bin, where Sealer's init-kube.sh puts them), each replaced atomically; kubelet restarted when systemd runs.
    /// </summary>
    public const string KubeletScript = """
        kb="${KubeBinDir:-/usr/bin}"; mkdir -p "$kb"
        for b in kubelet kubectl; do if [ -f "bin/$b" ]; then install -m 0755 "bin/$b" "$kb/$b.new" && mv -f "$kb/$b.new" "$kb/$b"; echo "$b installed in $kb"; fi; done
        if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload; systemctl restart kubelet; echo "kubelet restarted"; else echo "systemd is not running: kubelet not restarted"; fi
        """;

    public override string Name => StepName;

    public override string Does => masters
        ? "kubeadm upgrade node on the other masters, one at a time, then kubelet/kubectl from the new rootfs, kubelet restarted"
        : "each worker in turn: kubectl drain (from master0), kubeadm upgrade node, kubelet/kubectl from the new rootfs, kubelet restarted, kubectl uncordon";

    public override string Reads => "the new image's Kubernetes version, the host's rootfs, the host's name";

    public override string When => "an upgrade to an image with a newer Kubernetes";

    public override bool AppliesTo(InstallContext ctx) => ctx.Kube && ctx.State.Upgrade?.KubeTo is not null;

    public override IReadOnlyList<InstallHost> HostsOf(InstallContext ctx) =>
        ctx.Hosts.Where(n => n != ctx.Master0 && n.Spec.IsMaster == masters).ToList();

    public static string Version(InstallContext ctx)
    {
        var v = ctx.State.Upgrade!.KubeTo!;
        return v.StartsWith('v') ? v : "v" + v;
    }

    public override async Task RunAsync(InstallContext ctx, StepRunner runner, CancellationToken cancellationToken)
    {
        foreach (var n in HostsOf(ctx)) // one at a time: the control plane keeps a quorum, the workloads keep capacity
        {
            await runner.HostStepAsync(this, [n], cancellationToken).ConfigureAwait(false);
        }
    }

    public override async Task RunOnAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        var master0 = ctx.Master0!;
        string node = Q(n.Hostname);
        if (!masters)
        {
            await master0.Ssh.RunAsync($"{ctx.KubePath}\nkubectl drain {node} --ignore-daemonsets --delete-emptydir-data --timeout=10m",
                ctx.Cmd(master0, StepName, $"kubectl drain {n.Hostname}"), cancellationToken).ConfigureAwait(false);
        }
        var sb = new StringBuilder();
        sb.Append(ctx.KubePath).Append("\nkubeadm upgrade node\n").Append(KubeletScript).Append('\n');
        await n.Ssh.RunAsync(sb.ToString(), ctx.Cmd(n, StepName, "kubeadm upgrade node"), cancellationToken).ConfigureAwait(false);
        if (!masters)
        {
            await master0.Ssh.RunAsync($"{ctx.KubePath}\nkubectl uncordon {node}", ctx.Cmd(master0, StepName, $"kubectl uncordon {n.Hostname}"), cancellationToken).ConfigureAwait(false);
        }
    }
}
