using System.Text;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// With <c>--prune-apps</c>, the apps the new image dropped, on master0: a helm app's release uninstalled
/// (<c>helm uninstall</c>, when it is installed), a kube app's manifests from the previous image deleted
/// (<c>kubectl delete --ignore-not-found -R -f</c> of the copy <see cref="UnpackStep"/> kept under
/// <c>&lt;cluster&gt;/apps.dropped/</c>). Shell apps cannot be undone; the plan says so.
/// </summary>
internal sealed class PruneAppsStep : ClusterStep
{
    public const string StepName = "prune-apps";

    public override string Name => StepName;

    public override string Does => "apps the new image dropped, with --prune-apps: helm uninstall of their release, kubectl delete -f of their previous manifests";

    public override string Reads => "the upgrade plan, the previous image's app records, <cluster>/apps.dropped on master0";

    public override string When => "an upgrade with --prune-apps that drops apps";

    public override bool AppliesTo(InstallContext ctx) => ctx.State.Upgrade is { PruneApps: true } && ctx.Upgrade is { } p && p.Apps.Any(a => a.Change == "prune");

    public override async Task RunOnceAsync(InstallContext ctx, InstallHost master0, CancellationToken cancellationToken)
    {
        var up = ctx.State.Upgrade!;
        foreach (var change in ctx.Upgrade!.Apps.Where(a => a.Change == "prune"))
        {
            var app = up.From.Apps.Concat(up.From.Kept ?? []).FirstOrDefault(a => a.Name == change.Name);
            if (app is null) continue;
            var sb = new StringBuilder(ctx.KubePath).Append('\n');
            switch (app.Kind)
            {
                case "helm":
                    string rel = Q(app.Release ?? app.Name), ns = Q(app.Namespace ?? app.Name);
                    sb.Append($"if helm status {rel} --namespace {ns} >/dev/null 2>&1; then helm uninstall {rel} --namespace {ns}; else echo \"release {app.Release ?? app.Name} is not installed\"; fi\n");
                    break;
                case "kube":
                    string dir = Q($"{ctx.ClusterDir}/apps.dropped/{app.Name}");
                    sb.Append($"[ -d {dir} ] || {{ echo \"the manifests of app '{app.Name}' from the previous image are not on this host ({ctx.ClusterDir}/apps.dropped/{app.Name})\" >&2; exit 2; }}\n");
                    sb.Append($"kubectl delete --ignore-not-found -R -f {dir}\n");
                    break;
                default:
                    ctx.Status($"{StepName,-16} {app.Name}: a {app.Kind} app cannot be removed; left as it is");
                    continue;
            }
            await master0.Ssh.RunAsync(sb.ToString(), ctx.Cmd(master0, StepName, $"remove app '{app.Name}'"), cancellationToken).ConfigureAwait(false);
        }
    }
}
