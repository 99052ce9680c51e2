using System.Globalization;
using System.Text;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// A registry host serves every node, so when the nodes run several platforms it also holds the app image blobs of the
/// platforms it does not run itself: their image-blob and registry layers are sent to it, their blobs linked (<see cref="UnpackStep.AppendImageBlobs"/>) and
/// the registry layers' <c>registry/blobs/</c> unpacked into its rootfs. The SDK writes the same <c>registry/index.json</c> for every platform (a multi-arch image is
/// named by its index), so the merged layout serves each node its own platform's images. One recorded step per platform:
/// <c>registry+os/arch</c>.
/// </summary>
internal sealed class RegistryPlatformsStep : InstallStep
{
    public override StepScope Scope => StepScope.Host;

    public override string Name => $"{RegistryStep.StepName}+<os>/<arch>";

    public override string Does => "on registry hosts, the app image content of every other platform the nodes run (its image-blob and registry layers sent, the blobs linked, registry/blobs merged into the rootfs)";

    public override string Reads => "each host's platform, the registry hosts, the cluster image";

    public override string When => "the nodes run a platform a registry host does not";

    public override async Task RunAsync(InstallContext ctx, StepRunner runner, CancellationToken cancellationToken)
    {
        var registryHosts = ctx.RegistryHosts;
        foreach (var p in ctx.Hosts.Select(n => n.Platform).Distinct())
        {
            var need = registryHosts.Where(n => n.Platform != p).ToList();
            var layers = p.Layers.Where(ClusterImagePlatform.IsRegistryContent).ToList();
            if (need.Count == 0 || layers.Count == 0) continue;
            string step = $"{RegistryStep.StepName}+{p.Platform}";
            var todo = need.Where(n => !ctx.State.HostDone(n.Ip, step)).ToList();
            todo.AddRange(await DistributeStep.LostLinkedLayersAsync(ctx, need.Except(todo).ToList(), _ => layers, step, cancellationToken).ConfigureAwait(false));
            if (todo.Count > 0)
            {
                try
                {
                    ctx.AddTransfers(await DistributeStep.NewDistributor(ctx).DistributeAsync(todo.Select(n => n.Ssh).ToList(), layers, cancellationToken).ConfigureAwait(false));
                }
                catch (SealerException ex) when (ex.Code != ErrorCodes.RunStepFailed)
                {
                    throw StepRunner.StepFailure(step, ex);
                }
            }
            var sb = new StringBuilder();
            sb.Append(CultureInfo.InvariantCulture, $"r={Q(ctx.Rootfs)}; s={Q(ctx.Store)}\n");
            UnpackStep.AppendImageBlobs(ctx, sb, "$r", layers);
            foreach (var layer in layers.Where(l => ClusterImageFormat.ImageBlobOf(l) is null))
            {
                string z = layer.MediaType.Contains("gzip", StringComparison.Ordinal) ? "z" : "";
                sb.Append(CultureInfo.InvariantCulture, $"tar -x{z}f \"$s/blobs/sha256/{layer.ParsedDigest.Encoded}\" -C \"$r\" --no-same-owner registry/blobs\n");
            }
            // a running registry reloads its view when index.json changes, checked at most once a second: wait that out, so
            // a node pulling right after the run gets these images
            sb.Append("touch \"$r/registry/index.json\"; sleep 1.2\n");
            await runner.EachHostAsync(step, need, n => n.Ssh.RunAsync(sb.ToString(), ctx.Cmd(n, step, $"add the {p.Platform} app image blobs to the registry"), cancellationToken), cancellationToken).ConfigureAwait(false);
        }
    }
}
