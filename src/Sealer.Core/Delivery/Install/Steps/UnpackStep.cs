using System.Globalization;
using System.Text;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>The host's layers, in order, into a new rootfs (OCI whiteouts applied), swapped in atomically; <c>.sealer-image</c> names the manifest.</summary>
internal sealed class UnpackStep : HostStep
{
    public const string StepName = "unpack";

    public override string Name => StepName;

    public override string Does => "the host's layers in order into <dataRoot>/<cluster>/rootfs (whiteouts applied, swapped in atomically; .sealer-image = manifest digest)";

    public override string Reads => "the host's platform image (by uname -m), the registry hosts, the content store";

    public override Task RunOnAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"r={Q(ctx.Rootfs)}; s={Q(ctx.Store)}; t=\"$r.new\"; rm -rf \"$t\"; mkdir -p \"$t\"\n");
        foreach (var layer in DistributeStep.LayersOf(ctx, n))
        {
            string z = layer.MediaType.Contains("gzip", StringComparison.Ordinal) ? "z" : "";
            sb.Append(CultureInfo.InvariantCulture, $"tar -x{z}f \"$s/blobs/sha256/{layer.ParsedDigest.Encoded}\" -C \"$t\" --no-same-owner\n");
            // OCI whiteouts: .wh.NAME deletes NAME from lower layers, .wh..wh..opq empties the directory
            sb.Append("find \"$t\" -name '.wh.*' 2>/dev/null | while read -r w; do b=$(basename \"$w\"); d=$(dirname \"$w\"); " +
                      "if [ \"$b\" = .wh..wh..opq ]; then :; else rm -rf \"$d/${b#.wh.}\"; fi; rm -f \"$w\"; done\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"echo {Q(n.Platform.ManifestDescriptor.Digest)} > \"$t/.sealer-image\"\n");
        sb.Append("rm -rf \"$r.old\"; [ -d \"$r\" ] && mv \"$r\" \"$r.old\"; mv \"$t\" \"$r\"; rm -rf \"$r.old\"\n");
        return n.Ssh.RunAsync(sb.ToString(), ctx.Cmd(n, StepName, "unpack the rootfs"), cancellationToken);
    }
}
