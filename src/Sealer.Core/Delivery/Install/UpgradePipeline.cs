using System.Text;
using Sealer.Core.Delivery.Install.Steps;

namespace Sealer.Core.Delivery.Install;

/// <summary>
/// The steps of an upgrade (or rollback): <c>sealer run</c> with another image on an installed cluster, <c>sealer
/// rollback</c>. The same steps and <see cref="StepRunner"/> as <see cref="InstallPipeline"/>, in Sealer's upgrade order
/// (pkg/cluster-runtime upgrade: distribute, Kubernetes, apps). When the upgrade starts, the steps that read the image
/// and run once (distribute, unpack, registry+os/arch, registry-config, kube-upgrade*) are unmarked, so each runs again
/// once on each host and is recorded; render and apps run again through their fingerprints (which hold the manifest
/// digest), and so do the image's lifecycle scripts (runtime, init-kube: their fingerprint is the script, the image's etc/
/// files and the host's env; the plan says where they run). An interrupted upgrade resumes at the step and host it stopped on.
/// </summary>
public static class UpgradePipeline
{
    internal static readonly IReadOnlyList<InstallStep> Run =
    [
        new DistributeStep(),
        new UnpackStep(),
        new RegistryPlatformsStep(),
        new RenderStep(),
        new RuntimeStep(onUpgrade: true),
        new RegistryConfigStep(),
        new MirrorImagesStep(),
        new InitKubeStep(onUpgrade: true),
        new KubeUpgradeStep(),
        new KubeUpgradeNodeStep(masters: true),
        new KubeUpgradeNodeStep(masters: false),
        new ImagesStep(),
        new AppsStep(),
        new PruneAppsStep(),
        new RegistrySwitchStep(),
        new SaveClusterfileStep(),
    ];

    /// <summary>The image's lifecycle scripts an upgrade runs again where their fingerprint changed (<see cref="ImageScriptStep.WillRun"/>).</summary>
    internal static IEnumerable<ImageScriptStep> Scripts => Run.OfType<ImageScriptStep>();

    /// <summary>The once-steps an upgrade runs again (unmarked when it starts).</summary>
    internal static readonly IReadOnlyList<string> Redo = [DistributeStep.StepName, UnpackStep.StepName, RegistryConfigStep.StepName, KubeUpgradeNodeStep.StepName, RegistrySwitchStep.StepName];

    internal static readonly IReadOnlyList<string> RedoCluster = [KubeUpgradeStep.StepName, ImagesStep.StepName, AppsStep.StepName, PruneAppsStep.StepName];

    /// <summary>The upgrade's steps, in order.</summary>
    public static IReadOnlyList<StepInfo> Steps { get; } = Run.Select(s => s.Info).ToList();

    /// <summary>The upgrade's steps as text.</summary>
    public static string Describe()
    {
        var sb = new StringBuilder();
        sb.Append("The steps of an upgrade ('sealer run' with another image on an installed cluster) and of 'sealer rollback', in order:\n");
        int i = 1;
        foreach (var s in Steps)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i++,3}. {s.Name} ({(s.Scope == StepScope.Host ? "host" : "cluster")})\n");
            sb.Append("     ").Append(s.Does).Append('\n');
            if (s.When is not null) sb.Append("     only when: ").Append(s.When).Append('\n');
        }
        return sb.ToString();
    }
}
