using Microsoft.Extensions.Logging;
using Sealer.Core.Delivery.Checks;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// Completeness before launch (<see cref="ImageCompleteness"/>): the apps the next step launches, rendered on this machine
/// as master0 will launch them, must name only images the cluster image's registry serves; otherwise the run stops here,
/// before any app is launched, with the list (image, app, file:line, the value that produced it).
/// <see cref="RunOptions.AllowMissingImages"/> launches anyway with a warning listing them. Nothing on the hosts changes.
/// </summary>
internal sealed class ImagesStep : ClusterStep
{
    public const string StepName = "images";

    public override string Name => StepName;

    public override string Does => "the apps rendered here as they will be launched (charts with their final values, manifests after *.tmpl and Application config files); each image must be one the cluster image's registry serves, else the run stops before launching (--allow-missing-images: a warning)";

    public override string Reads => "the cluster image (its apps and registry/images.json), the launch plan, Application configs (files, launch.helm values and valueFiles), master0's env";

    public override string Fingerprint => "the apps step's fingerprint";

    public override bool RerunWhenFingerprintUnknown => false;

    public override string? FingerprintOf(InstallContext ctx) =>
        LaunchPlanner.Fingerprint(RenderStep.InputHash(ctx, ctx.Master0!), ctx.LaunchPlan, ctx.Doc);

    public override Task RunOnceAsync(InstallContext ctx, InstallHost master0, CancellationToken cancellationToken)
    {
        var only = ctx.Upgrade is { } upgrade ? upgrade.ToLaunch : null;
        var report = ImageCompleteness.Check(ctx.Image, master0.Platform, ctx.Doc, master0.Env, master0.Ip, only, cancellationToken);
        foreach (var a in report.Apps.Where(a => a.NotChecked is not null))
        {
            ctx.Status($"{StepName,-16} {a.App}: not checked: {a.NotChecked}");
        }
        int images = report.Apps.Sum(a => a.Images);
        if (report.Complete)
        {
            ctx.Status($"{StepName,-16} {images} image(s) of {report.Apps.Count(a => a.NotChecked is null)} app(s), all served by the cluster image's registry");
            return Task.CompletedTask;
        }
        if (!ctx.Options.AllowMissingImages) throw report.Failure();
        ctx.Options.Logger.LogWarning("{Code}: launching with {Count} image(s) the cluster image does not carry (--allow-missing-images):\n{Missing}",
            ErrorCodes.ImagesMissingFromClusterImage, report.Missing.Select(m => m.Reference).Distinct(StringComparer.Ordinal).Count(), report.MissingText());
        return Task.CompletedTask;
    }
}
