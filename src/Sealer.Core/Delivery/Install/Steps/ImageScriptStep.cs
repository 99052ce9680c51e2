namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>A script of the image's <c>scripts/</c> on every host, when the image has it (run with the rootfs' <c>bin/</c> on PATH).</summary>
internal abstract class ImageScriptStep : HostStep
{
    /// <summary>The script's name under <c>scripts/</c> for this host.</summary>
    protected abstract string ScriptOf(InstallContext ctx, InstallHost host);

    public override Task RunOnAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        string script = ScriptOf(ctx, n);
        return n.Ssh.RunAsync($"cd {Q(ctx.Rootfs + "/scripts")} 2>/dev/null || exit 0\nif [ -f {Q(script)} ]; then export PATH={Q(ctx.Rootfs + "/bin")}:$PATH; bash {Q(script)} ; fi",
            ctx.Cmd(n, Name, $"scripts/{script}"), cancellationToken);
    }
}
