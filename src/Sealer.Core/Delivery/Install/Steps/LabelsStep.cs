using System.Text;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>The Clusterfile's host labels and taints, with kubectl on master0.</summary>
internal sealed class LabelsStep : ClusterStep
{
    public const string StepName = "labels";

    public override string Name => StepName;

    public override string Does => "kubectl label / taint --overwrite of every host's labels and taints, on master0";

    public override string Reads => "spec.hosts[].labels and taints, each host's hostname";

    public override string When => "a Kubernetes cluster whose hosts have labels or taints";

    public override bool AppliesTo(InstallContext ctx) => ctx.Kube && ctx.Hosts.Any(n => n.Spec.Labels.Count > 0 || n.Spec.Taints.Count > 0);

    public override Task RunOnceAsync(InstallContext ctx, InstallHost master0, CancellationToken cancellationToken)
    {
        var sb = new StringBuilder(ctx.KubePath).Append('\n');
        foreach (var n in ctx.Hosts)
        {
            foreach (var (k, v) in n.Spec.Labels) sb.Append("kubectl label node ").Append(Q(n.Hostname)).Append(' ').Append(Q($"{k}={v}")).Append(" --overwrite\n");
            foreach (var t in n.Spec.Taints) sb.Append("kubectl taint node ").Append(Q(n.Hostname)).Append(' ').Append(Q(t)).Append(" --overwrite\n");
        }
        return master0.Ssh.RunAsync(sb.ToString(), ctx.Cmd(master0, StepName, "label and taint nodes"), cancellationToken);
    }
}
