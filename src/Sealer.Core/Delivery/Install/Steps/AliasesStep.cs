using System.Text;
using Sealer.Core.Delivery.Install.Policies;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>The cluster's block in /etc/hosts: host aliases, the API server domain, the registry domain.</summary>
internal sealed class AliasesStep : HostStep
{
    public const string StepName = "aliases";

    public override string Name => StepName;

    public override string Does => "the /etc/hosts block '# BEGIN sealer <cluster>' (rewritten in place): host aliases, the API server domain, the registry domain";

    public override string Reads => "spec.hostAliases, the masters, the VIP (env IPvsVIPv4/IPvsVIPv6), the registry hosts and domain, which masters joined";

    public override Task RunOnAsync(InstallContext ctx, InstallHost host, CancellationToken cancellationToken) => WriteAsync(ctx, host, cancellationToken);

    /// <summary>Writes the host's block; <paramref name="joinedMaster"/>: the host is a master that just joined (the API server domain is now itself).</summary>
    public static Task WriteAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken, bool joinedMaster = false)
    {
        var cluster = ctx.Cluster;
        var registryIps = ctx.RegistryIps;
        var block = new StringBuilder();
        foreach (var a in cluster.HostAliases) block.Append(a.Ip).Append(' ').Append(string.Join(' ', a.Hostnames)).Append('\n');
        if (ctx.Kube)
        {
            // Sealer: the API server domain is master0 on master0, master0 on a master until it joined, then the master
            // itself; on workers the local VIP that lvscare balances over every master
            string master0 = cluster.Masters.First().Ip;
            string target = !n.Spec.IsMaster ? ctx.Vip : n.Ip == master0 || joinedMaster || ctx.State.HostDone(n.Ip, JoinStep.StepName) ? n.Ip : master0;
            block.Append(target).Append(' ').Append(ApiServerVip.Domain).Append('\n');
        }
        if (registryIps.Count > 0 && cluster.Registry.External is null)
        {
            // like Sealer: the local registry domain resolves to a registry host (the host itself when it is one)
            string target = registryIps.Contains(n.Ip) ? n.Ip : registryIps[0];
            block.Append(target).Append(' ').Append(cluster.Registry.Local.Domain).Append('\n');
        }
        string begin = $"# BEGIN sealer {cluster.Name}", end = $"# END sealer {cluster.Name}";
        // rewritten in place (cat >), not renamed: /etc/hosts is often a bind mount
        string script = $"t=$(mktemp); sed {Q($"/^{begin}$/,/^{end}$/d")} /etc/hosts > \"$t\"\n" +
                        $"cat >> \"$t\" <<'SEALER_HOSTS'\n{begin}\n{block}{end}\nSEALER_HOSTS\ncat \"$t\" > /etc/hosts; rm -f \"$t\"";
        return n.Ssh.RunAsync(script, ctx.Cmd(n, StepName, "update /etc/hosts"), cancellationToken);
    }
}
