using System.Text;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Delivery.Ssh;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// Renders every <c>*.tmpl</c> Sealer renders (<see cref="IsTemplate"/>) with the host's env (files under
/// <c>application/apps/NAME/</c> also get the app's env: APPENV of the image, then the Application config's env) into the
/// file without <c>.tmpl</c>, mode kept; then Config documents, kubeadm documents (and Sealer's API server endpoint and
/// SANs) and Application config files. Runs again on a host when what it renders from changed.
/// </summary>
internal sealed class RenderStep : HostStep
{
    public const string StepName = "render";

    public override string Name => StepName;

    public override string Does => "*.tmpl under etc/, charts/, manifests/, application/apps/ rendered with the host's env; Config documents, kubeadm documents and Application config files applied";

    public override string Reads => "the image's templates and files, the host's env, Config/kubeadm/Application documents, the masters, the VIP";

    public override string Fingerprint => "the host's manifest and env, Config and kubeadm documents, the launched apps' env and files, the masters, the VIP";

    /// <summary>The templates Sealer renders (<see cref="RootfsRender.IsTemplate"/>).</summary>
    internal static bool IsTemplate(string path) => RootfsRender.IsTemplate(path);

    /// <summary>What a host's rendered files depend on besides the image: its env, the documents that write files, masters and VIP.</summary>
    public override string? FingerprintOf(InstallContext ctx, InstallHost n) => InputHash(ctx, n);

    /// <summary>The render fingerprint of a host (the apps step builds on master0's).</summary>
    public static string InputHash(InstallContext ctx, InstallHost n)
    {
        var sb = new StringBuilder();
        sb.Append(n.Platform.ManifestDescriptor.Digest).Append('\0').Append(ctx.Kube).Append('\0').Append(ctx.Vip).Append('\0');
        foreach (var m in ctx.Cluster.Masters) sb.Append(m.Ip).Append(',');
        foreach (var (k, v) in n.Env) sb.Append('\0').Append(k).Append('=').Append(v);
        foreach (var c in ctx.Doc.Configs) sb.Append("\0config\0").Append(c.Path).Append('\0').Append(c.Strategy).Append('\0').Append(c.Data);
        foreach (var d in ctx.Doc.KubeadmDocuments) sb.Append("\0kubeadm\0").Append(d.Yaml);
        foreach (var app in ctx.LaunchPlan?.Apps ?? [])
        {
            if (ctx.ConfigOf(app) is not { } c) continue;
            sb.Append("\0app\0").Append(app);
            foreach (var (k, v) in c.Env) sb.Append('\0').Append(k).Append('=').Append(v);
            foreach (var f in c.Files) sb.Append('\0').Append(f.Path).Append('\0').Append(f.Strategy).Append('\0').Append(f.Data);
        }
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    public override async Task RunOnAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        var files = RootfsRender.Compute(ctx.Image, n.Platform, ctx.Doc, ctx.LaunchPlan, n.Env, app => ctx.AppEnv(n.Env, ctx.Image.Extension(n.Platform), app),
            n.Ip, ctx.Kube, ctx.Cluster.Masters.Select(m => m.Ip).ToList(), ctx.Vip, cancellationToken: cancellationToken).Written;
        if (files.Count == 0) return;
        await n.Ssh.WriteFilesAsync(ctx.Rootfs, files.Select(f => new RemoteFile(f.Key, f.Value.Data, f.Value.Mode)),
            new CommandOptions { Description = $"{StepName}: write {files.Count} rendered files", Timeout = ctx.Options.StepTimeout }, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
