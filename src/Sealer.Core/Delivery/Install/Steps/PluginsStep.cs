using Sealer.Core.Delivery.Clusterfile;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>The Clusterfile's <c>kind: Plugin</c> shell scripts of one phase, from the rootfs, on the hosts their roles (or IPs) name.</summary>
internal sealed class PluginsStep(PluginPhase phase) : HostStep
{
    public const string PreInstall = "pre-install", PreInitHost = "pre-init-host", PostInitHost = "post-init-host", PostInstall = "post-install";

    public override string Name => PhaseName(phase);

    public override string Does => $"the {phase} plugins (kind: Plugin, type SHELL) from the rootfs";

    public override string Reads => "Plugin documents (spec.data, action, scope: roles or IPs), the host's env";

    public override Task RunOnAsync(InstallContext ctx, InstallHost host, CancellationToken cancellationToken) => RunPluginsAsync(ctx, host, phase, cancellationToken);

    /// <summary>Runs the plugins of <paramref name="phase"/> that apply to the host, in Clusterfile order (also for delete's clean phases).</summary>
    public static async Task RunPluginsAsync(InstallContext ctx, InstallHost n, PluginPhase phase, CancellationToken cancellationToken)
    {
        foreach (var plugin in ctx.Doc.Plugins.Where(p => p.Phases.Contains(phase) && (p.Roles.Count == 0 || p.Roles.Any(r => n.Spec.Roles.Contains(r) || r == n.Ip))))
        {
            await n.Ssh.RunAsync($"cd {Q(ctx.Rootfs)}\n{plugin.Data}", ctx.Cmd(n, PhaseName(phase), $"plugin '{plugin.Name}'"), cancellationToken).ConfigureAwait(false);
        }
    }

    private static string PhaseName(PluginPhase phase) => phase switch
    {
        PluginPhase.PreInstall => PreInstall,
        PluginPhase.PreInitHost => PreInitHost,
        PluginPhase.PostInitHost => PostInitHost,
        PluginPhase.PostInstall => PostInstall,
        _ => phase.ToString(),
    };
}
