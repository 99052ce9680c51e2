using Sealer.Core.Delivery.Install.Policies;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary><c>kubeadm init</c> on master0 with the rendered <c>etc/kubeadm.yml</c> (else Sealer's endpoint and SANs as flags); admin.conf copied to ~/.kube/config.</summary>
internal sealed class KubeadmInitStep : ClusterStep
{
    public const string StepName = "kubeadm-init";

    public override string Name => StepName;

    public override string Does => "kubeadm init --upload-certs on master0 (etc/kubeadm.yml, else the API server endpoint, master0's address to advertise and the SANs as flags)";

    public override string Reads => "the rendered etc/kubeadm.yml, the masters, the VIP";

    public override string When => "a Kubernetes cluster (kube-installer image, cluster runtime kubernetes)";

    public override bool AppliesTo(InstallContext ctx) => ctx.Kube;

    public override Task RunOnceAsync(InstallContext ctx, InstallHost master0, CancellationToken cancellationToken)
    {
        string sans = string.Join(',', KubeadmConfigPatch.CertSans(ctx.Cluster.Masters.Select(m => m.Ip), ctx.Vip));
        string script = $"{ctx.KubePath}\ncommand -v kubeadm >/dev/null || {{ echo 'the cluster image has no kubeadm (bin/kubeadm)' >&2; exit 2; }}\n" +
                        "if [ -f etc/kubeadm.yml ]; then kubeadm init --config etc/kubeadm.yml --upload-certs; " +
                        $"else kubeadm init --upload-certs --control-plane-endpoint {ApiServerVip.Domain}:6443 --apiserver-advertise-address {master0.Ip} --apiserver-cert-extra-sans {Q(sans)}; fi\n" +
                        "if [ -f /etc/kubernetes/admin.conf ]; then mkdir -p \"$HOME/.kube\"; cp -f /etc/kubernetes/admin.conf \"$HOME/.kube/config\"; fi";
        return master0.Ssh.RunAsync(script, ctx.Cmd(master0, StepName, "kubeadm init"), cancellationToken);
    }
}
