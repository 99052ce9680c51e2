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

    public override async Task RunOnAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
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
        if (ctx.State.Upgrade is not null) await UpgradeKeepAsync(ctx, n, sb, cancellationToken).ConfigureAwait(false);
        sb.Append("rm -rf \"$r.old\"; [ -d \"$r\" ] && mv \"$r\" \"$r.old\"; mv \"$t\" \"$r\"; rm -rf \"$r.old\"\n");
        await n.Ssh.RunAsync(sb.ToString(), ctx.Cmd(n, StepName, "unpack the rootfs"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// In an upgrade, before the swap: on a registry host the running rootfs's registry blobs are linked into the new one
    /// and its index lists the images of both (new entries first; an old entry only when the new index lacks its name), so
    /// no running pod loses its image mid-upgrade (<see cref="RegistrySwitchStep"/> drops the old entries at the end); on
    /// master0 the apps the new image no longer has are kept under <c>&lt;cluster&gt;/apps.dropped/</c> for --prune-apps.
    /// </summary>
    private static async Task UpgradeKeepAsync(InstallContext ctx, InstallHost n, StringBuilder sb, CancellationToken cancellationToken)
    {
        if (ctx.RegistryIps.Contains(n.Ip))
        {
            var old = await n.Ssh.RunAsync($"cat {Q(ctx.Rootfs + "/registry/index.json")} 2>/dev/null || true", ctx.Cmd(n, StepName, "read the registry index"), cancellationToken).ConfigureAwait(false);
            var now = ctx.Image.ReadFiles(n.Platform, p => p == "registry/index.json");
            if (now.TryGetValue("registry/index.json", out var index))
            {
                var merged = RegistrySwitchStep.MergeIndex(index, old.Stdout);
                sb.Append("b=\"$t/registry/blobs/sha256\"; mkdir -p \"$b\"\n");
                sb.Append("for f in \"$r/registry/blobs/sha256/\"*; do [ -f \"$f\" ] || continue; [ -e \"$b/${f##*/}\" ] || ln \"$f\" \"$b/\" 2>/dev/null || cp -p \"$f\" \"$b/\"; done\n");
                sb.Append("echo ").Append(Convert.ToBase64String(merged)).Append(" | base64 -d > \"$t/registry/index.json\"\n");
            }
        }
        if (n == ctx.Master0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"c={Q(ctx.ClusterDir)}; if [ -d \"$r/application/apps\" ]; then for d in \"$r/application/apps\"/*/; do a=$(basename \"$d\"); ")
              .Append("[ -d \"$t/application/apps/$a\" ] && continue; mkdir -p \"$c/apps.dropped\"; rm -rf \"$c/apps.dropped/$a\"; cp -a \"$d\" \"$c/apps.dropped/$a\"; done; fi\n");
        }
    }
}
