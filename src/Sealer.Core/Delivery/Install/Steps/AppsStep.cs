using System.Text;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Policies;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// Launches what <see cref="LaunchPlanner"/> chose, on master0: raw commands from the rootfs, or each app by its
/// Application launch (cmds, helm settings), else its APPCMDS, else by type (chart with helm, YAML with kubectl, *.sh with
/// bash). Launches again when master0's rendered inputs, the plan or an app's launch settings changed: <c>helm upgrade
/// --install</c> and <c>kubectl apply</c> move the apps to the new settings, shell apps run again.
/// </summary>
internal sealed class AppsStep : ClusterStep
{
    public const string StepName = "apps";

    public override string Name => StepName;

    public override string Does => "the launch on master0: spec.cmd / Application cmds, else each app (launch cmds, helm upgrade --install, APPCMDS, kubectl apply, bash)";

    public override string Reads => "the launch plan (spec.cmd > Application cmds > spec.appNames > launchApps > image CMDS > image LAUNCH), Application configs, the image's apps, master0's env";

    public override string Fingerprint => "master0's render fingerprint, the launch plan, each launched app's cmds and helm settings";

    public override string RerunNote => "the apps' launch or config changed since they were launched: launching again";

    /// <summary>A state from before launches were fingerprinted: what is there now counts as launched.</summary>
    public override bool RerunWhenFingerprintUnknown => false;

    public override string? FingerprintOf(InstallContext ctx) =>
        LaunchPlanner.Fingerprint(RenderStep.InputHash(ctx, ctx.Master0!), ctx.LaunchPlan, ctx.Doc);

    public override async Task RunOnceAsync(InstallContext ctx, InstallHost master0, CancellationToken cancellationToken)
    {
        var ext = ctx.Extension;
        var plan = ctx.LaunchPlan ?? LaunchPlanner.Plan(ctx.Doc, ext);
        if (plan.Cmds is not null)
        {
            // raw commands run from the rootfs, as Sealer's CdAndExecCmd does
            foreach (var c in plan.Cmds) await master0.Ssh.RunAsync($"{ctx.KubePath}\n{c}", ctx.Cmd(master0, StepName, c), cancellationToken).ConfigureAwait(false);
            return;
        }
        foreach (var app in plan.Apps)
        {
            if (ctx.Upgrade is { } upgrade && !upgrade.ToLaunch.Contains(app))
            {
                ctx.Status($"{StepName,-16} {app}: unchanged since {upgrade.From}, not launched again");
                continue;
            }
            string dir = $"application/apps/{app}";
            var config = ctx.ConfigOf(app);
            var opts = ctx.Cmd(master0, StepName, $"launch app '{app}'") with { Env = ctx.AppEnv(master0.Env, ext, app) };
            if (config is { Cmds.Count: > 0 })
            {
                // Application launch cmds replace the app's launch; they run from the rootfs (Sealer's CdAndExecCmd)
                foreach (var c in config.Cmds) await master0.Ssh.RunAsync($"{ctx.KubePath}\n{c}", opts with { Description = $"{StepName}: app '{app}': {c}" }, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (config?.Helm is null && ext.Apps.FirstOrDefault(a => a.Name == app) is { Cmds.Count: > 0 } registered)
            {
                // APPCMDS: cd to the app's directory, then the commands (Sealer's GetAppLaunchCmd)
                await master0.Ssh.RunAsync($"{ctx.KubePath}\ncd {Q(dir)}\n{string.Join(" ", registered.Cmds)}", opts, cancellationToken).ConfigureAwait(false);
                continue;
            }
            var helm = config?.Helm ?? new HelmLaunch();
            var flags = new StringBuilder();
            flags.Append(" --namespace ").Append(Q(helm.Namespace ?? app));
            if (helm.CreateNamespace) flags.Append(" --create-namespace");
            if (helm.Wait ?? true) flags.Append(" --wait");
            if (helm.Atomic) flags.Append(" --atomic");
            if (helm.Timeout is not null) flags.Append(" --timeout ").Append(Q(helm.Timeout));
            if (helm.SkipCrds) flags.Append(" --skip-crds");
            if (helm.DisableHooks) flags.Append(" --no-hooks");
            var valueFiles = string.Join(" ", helm.ValueFiles.Select(Q));
            var sets = string.Join(" ", helm.Values.Select(v => "--set " + Q(v)));
            string script = $$"""
                {{ctx.KubePath}}
                d={{Q(dir)}}
                [ -d "$d" ] || { echo "app '{{app}}' is not in the cluster image (no $d)" >&2; exit 2; }
                helm_install() {
                  local chart="$1" f args=()
                  for f in {{valueFiles}}; do
                    case "$f" in /*) ;; *) if [ -f "$chart/$f" ]; then f="$chart/$f"; elif [ -f "$d/$f" ]; then f="$d/$f"; fi;; esac
                    [ -f "$f" ] || { echo "app '{{app}}': values file $f is not in the cluster image" >&2; exit 2; }
                    args+=(-f "$f")
                  done
                  helm upgrade --install {{Q(helm.Name ?? app)}} "$chart"{{flags}} "${args[@]}" {{sets}}
                }
                if [ -f "$d/Chart.yaml" ]; then helm_install "$d"
                elif ls "$d"/*.sh >/dev/null 2>&1; then for s in "$d"/*.sh; do bash "$s"; done
                elif compgen -G "$d/*.yaml" >/dev/null || compgen -G "$d/*.yml" >/dev/null; then kubectl apply -f "$d"
                else
                  # the SDK (like Sealer's APP name local://dir) keeps each source under application/apps/<name>/<leaf>/
                  for c in "$d"/*/; do
                    c="${c%/}"
                    if [ -f "$c/Chart.yaml" ]; then helm_install "$c"
                    elif ls "$c"/*.sh >/dev/null 2>&1; then for s in "$c"/*.sh; do bash "$s"; done
                    elif compgen -G "$c/*.yaml" >/dev/null || compgen -G "$c/*.yml" >/dev/null; then kubectl apply -f "$c"
                    fi
                  done
                fi
                """;
            await master0.Ssh.RunAsync(script, opts, cancellationToken).ConfigureAwait(false);
        }
    }
}
