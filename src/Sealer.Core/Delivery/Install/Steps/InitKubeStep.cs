namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>The image's <c>scripts/init-kube.sh</c> (kubelet, kubeadm, kubectl in place) on every host.</summary>
internal sealed class InitKubeStep(bool onUpgrade = false) : ImageScriptStep(onUpgrade)
{
    public const string StepName = "init-kube";

    public override string Name => StepName;

    public override string Does => "scripts/init-kube.sh of the image (kubelet, kubeadm and kubectl in place)";

    public override string Reads => "the rootfs, the host's env";

    public override string ScriptOf(InstallContext ctx, InstallHost host) => "init-kube.sh";
}
