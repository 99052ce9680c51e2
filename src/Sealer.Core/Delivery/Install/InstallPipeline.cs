using System.Text;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Steps;

namespace Sealer.Core.Delivery.Install;

/// <summary>
/// The steps of <c>sealer run</c> (and <c>join</c>), in Sealer's order: the one list the run executes and
/// <c>sealer run --plan</c> prints. Preflight comes first (<see cref="ClusterInstaller"/>): nothing changes unless every
/// host passes. To add a step, write an <see cref="InstallStep"/> under <c>Steps/</c> and put it here; another flow (an
/// upgrade) is another list run by the same <see cref="StepRunner"/>.
/// </summary>
public static class InstallPipeline
{
    internal static readonly IReadOnlyList<InstallStep> Run =
    [
        new AliasesStep(),
        new DistributeStep(),
        new UnpackStep(),
        new RegistryPlatformsStep(),
        new RenderStep(),
        new PluginsStep(PluginPhase.PreInstall),
        new PluginsStep(PluginPhase.PreInitHost),
        new RuntimeStep(),
        new CertificatesStep(),
        new RegistryStep(),
        new RegistryConfigStep(),
        new MirrorImagesStep(),
        new InitKubeStep(),
        new KubeadmInitStep(),
        new JoinStep(masters: true),
        new LvscareStep(),
        new JoinStep(masters: false),
        new PluginsStep(PluginPhase.PostInitHost),
        new PluginsStep(PluginPhase.PostInstall),
        new LabelsStep(),
        new ImagesStep(),
        new AppsStep(),
        new SaveClusterfileStep(),
    ];

    /// <summary>The run's steps, in order.</summary>
    public static IReadOnlyList<StepInfo> Steps { get; } = Run.Select(s => s.Info).ToList();

    /// <summary>The run's steps as text: name, scope, when it runs again, what it does and reads, its fingerprint.</summary>
    public static string Describe()
    {
        var sb = new StringBuilder();
        sb.Append("The steps of 'sealer run' and 'sealer join', in Sealer's order. A host step runs on each host and is recorded\n");
        sb.Append("per host; a cluster step runs once, on master0. A re-run skips what is recorded as done (a host new to the\n");
        sb.Append("Clusterfile gets every host step and join), except steps that run again when their fingerprint changed, and\n");
        sb.Append("steps that run every time.\n\n");
        sb.Append("  0. preflight (every host, every run)\n");
        sb.Append("     SSH login and host key, OS/arch, free disk, busy ports, clock skew, hostnames, tools: nothing changes unless every host passes\n");
        int i = 1;
        foreach (var s in Steps)
        {
            string rerun = s.Rerun switch
            {
                StepRerun.EveryRun => "every run",
                StepRerun.WhenChanged => "again when changed",
                _ => "once",
            };
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i++,3}. {s.Name} ({(s.Scope == StepScope.Host ? "host" : "cluster")}, {rerun})\n");
            sb.Append("     ").Append(s.Does).Append('\n');
            if (s.When is not null) sb.Append("     only when: ").Append(s.When).Append('\n');
            sb.Append("     reads: ").Append(s.Reads).Append('\n');
            if (s.Fingerprint is not null) sb.Append("     fingerprint: ").Append(s.Fingerprint).Append('\n');
        }
        return sb.ToString();
    }
}
