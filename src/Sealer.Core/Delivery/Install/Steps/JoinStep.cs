using System.Text.RegularExpressions;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// <c>kubeadm join</c> with a fresh token from master0: masters one at a time (as etcd wants) through the printed endpoint,
/// with <c>--control-plane</c> and the uploaded certificate key; workers in parallel through the local VIP (Sealer:
/// Discovery.BootstrapToken.APIServerEndpoint = VIP:6443). Both are recorded as <c>join</c>.
/// </summary>
internal sealed partial class JoinStep(bool masters) : HostStep
{
    public const string StepName = "join";

    public override string Name => StepName;

    public override string Does => masters
        ? "kubeadm join --control-plane of the other masters, one at a time (as etcd wants); then the master's API server domain points at itself"
        : "kubeadm join of the workers, in parallel, through the VIP";

    public override string Reads => "a join command and certificate key from master0 (kubeadm token create, upload-certs), the VIP";

    public override string When => "a Kubernetes cluster";

    public override bool AppliesTo(InstallContext ctx) => ctx.Kube;

    public override IReadOnlyList<InstallHost> HostsOf(InstallContext ctx) =>
        ctx.Hosts.Where(n => n != ctx.Master0 && n.Spec.IsMaster == masters).ToList();

    public override async Task RunAsync(InstallContext ctx, StepRunner runner, CancellationToken cancellationToken)
    {
        if (!masters)
        {
            await base.RunAsync(ctx, runner, cancellationToken).ConfigureAwait(false);
            return;
        }
        foreach (var m in HostsOf(ctx)) // one at a time, as etcd wants
        {
            await runner.HostStepAsync(this, [m], cancellationToken).ConfigureAwait(false);
        }
    }

    public override async Task RunOnAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        var master0 = ctx.Master0!;
        var join = await master0.Ssh.RunAsync($"{ctx.KubePath}\nkubeadm token create --print-join-command", ctx.Cmd(master0, StepName, "kubeadm token create"), cancellationToken).ConfigureAwait(false);
        string command = join.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.TrimStart().StartsWith("kubeadm join", StringComparison.Ordinal))?.Trim()
            ?? throw new SealerException(ErrorCodes.RemoteCommandFailed, $"{master0.Ip}: 'kubeadm token create --print-join-command' printed no join command.");
        if (n.Spec.IsMaster)
        {
            var certs = await master0.Ssh.RunAsync($"{ctx.KubePath}\nkubeadm init phase upload-certs --upload-certs", ctx.Cmd(master0, StepName, "kubeadm upload-certs"), cancellationToken).ConfigureAwait(false);
            string key = certs.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last().Trim();
            // the address the API server and etcd advertise is the Clusterfile's (Sealer: ControlPlane.LocalAPIEndpoint.AdvertiseAddress), not the default route's
            command += $" --control-plane --certificate-key {key} --apiserver-advertise-address {n.Ip}";
        }
        else
        {
            // workers join through the local VIP (Sealer: Discovery.BootstrapToken.APIServerEndpoint = VIP:6443)
            command = JoinEndpointRegex().Replace(command, "kubeadm join " + ctx.VipEndpoint, 1);
        }
        await n.Ssh.RunAsync($"{ctx.KubePath}\n{command}", ctx.Cmd(n, StepName, n.Spec.IsMaster ? "kubeadm join --control-plane" : "kubeadm join"), cancellationToken).ConfigureAwait(false);
        if (n.Spec.IsMaster) await AliasesStep.WriteAsync(ctx, n, cancellationToken, joinedMaster: true).ConfigureAwait(false);
    }

    [GeneratedRegex(@"kubeadm join \S+")]
    private static partial Regex JoinEndpointRegex();
}
