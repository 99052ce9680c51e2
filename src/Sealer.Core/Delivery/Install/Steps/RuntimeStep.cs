namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>The image's container runtime installer, <c>scripts/${CRI}.sh</c> (containerd.sh, docker.sh), as Sealer runs it.</summary>
internal sealed class RuntimeStep(bool onUpgrade = false) : ImageScriptStep(onUpgrade)
{
    public const string StepName = "runtime";

    public override string Name => StepName;

    public override string Does => "scripts/${CRI}.sh of the image (installs the container runtime)";

    public override string Reads => "the container runtime (spec.containerRuntime, else the image's cluster.alpha.sealer.io/container-runtime-type label, else containerd)";

    public override string ScriptOf(InstallContext ctx, InstallHost host) => $"{ctx.CriOf(host)}.sh";
}
