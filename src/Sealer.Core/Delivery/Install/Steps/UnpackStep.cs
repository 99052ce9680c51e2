using System.Globalization;
using System.Text;
using Sealer.Core.ClusterImage;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>The host's layers, in order, into a new rootfs (OCI whiteouts applied), swapped in atomically; <c>.sealer-image</c> names the manifest.
/// App image blobs are not extracted: the registry serves them from the content store (<see cref="AppendImageBlobs"/>).</summary>
internal sealed class UnpackStep : HostStep
{
    public const string StepName = "unpack";

    public override string Name => StepName;

    public override string Does => "the host's layers in order into <dataRoot>/<cluster>/rootfs (whiteouts applied, swapped in atomically; .sealer-image = manifest digest); app image blobs are linked to the store layers holding them, not copied";

    public override string Reads => "the host's platform image (by uname -m), the registry hosts, the content store";

    public override async Task RunOnAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"r={Q(ctx.Rootfs)}; s={Q(ctx.Store)}; t=\"$r.new\"; rm -rf \"$t\" \"$t.members\"; mkdir -p \"$t\"\n");
        sb.Append(WhiteoutFunction);
        var layers = DistributeStep.LayersOf(ctx, n);
        foreach (var layer in layers)
        {
            string z = layer.MediaType.Contains("gzip", StringComparison.Ordinal) ? "z" : "";
            string blob = $"\"$s/blobs/sha256/{layer.ParsedDigest.Encoded}\"";
            if (ClusterImageFormat.ImageBlobOf(layer) is not null) continue; // after the others: AppendImageBlobs
            // The registry index layer (and an app image layer not ours to link) is written by the assembly
            // (ClusterImageBuilder) and never holds a whiteout: extracted as it is.
            if (ClusterImageFormat.IsRegistryContent(layer))
            {
                sb.Append(CultureInfo.InvariantCulture, $"tar -x{z}f {blob} -C \"$t\" --no-same-owner\n");
                continue;
            }
            // Any other layer (the rootfs, a base image's layers): its member list (tar -v) decides its whiteouts, so the
            // work is proportional to the layer, not to the tree below it.
            sb.Append(CultureInfo.InvariantCulture, $"tar -x{z}vf {blob} -C \"$t\" --no-same-owner > \"$t.members\"; wh \"$t.members\"\n");
        }
        sb.Append("rm -f \"$t.members\"\n");
        AppendImageBlobs(ctx, sb, "$t", layers);
        sb.Append(CultureInfo.InvariantCulture, $"echo {Q(n.Platform.ManifestDescriptor.Digest)} > \"$t/.sealer-image\"\n");
        if (ctx.State.Upgrade is not null) await UpgradeKeepAsync(ctx, n, sb, cancellationToken).ConfigureAwait(false);
        SaveImageRecord(ctx, n, sb);
        sb.Append("rm -rf \"$r.old\"; [ -d \"$r\" ] && mv \"$r\" \"$r.old\"; mv \"$t\" \"$r\"; rm -rf \"$r.old\"\n");
        await n.Ssh.RunAsync(sb.ToString(), ctx.Cmd(n, StepName, "unpack the rootfs"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Where the rootfs at <paramref name="rootfs"/> (a path, or a shell word such as <c>$t</c>) keeps its
    /// registry's links to store layers (<see cref="InStoreBlobs"/>): <c>registry/in-store/sha256</c>.</summary>
    internal static string LinkDirectory(string rootfs) => $"{rootfs}/registry/{InStoreBlobs.DirectoryName}/sha256";

    /// <summary>
    /// <c>while read -r b l; do BODY; done</c> over the <c>image-blob</c> layers among <paramref name="layers"/>: <c>$b</c> the
    /// hex of the app image blob, <c>$l</c> the hex of the layer holding it, from a here-doc (no script line per blob).
    /// Appends nothing and returns false when there is no such layer.
    /// </summary>
    internal static bool AppendImageBlobLoop(StringBuilder sb, IEnumerable<Descriptor> layers, string body)
    {
        var pairs = layers.Select(l => (Layer: l, Blob: ClusterImageFormat.ImageBlobOf(l))).Where(p => p.Blob is not null)
            .Select(p => $"{p.Blob!.Value.Encoded} {p.Layer.ParsedDigest.Encoded}").Distinct(StringComparer.Ordinal).ToList();
        if (pairs.Count == 0) return false;
        sb.Append("while read -r b l; do ").Append(body).Append("; done <<'SEALER_BLOBS'\n");
        foreach (var p in pairs) sb.Append(p).Append('\n');
        sb.Append("SEALER_BLOBS\n");
        return true;
    }

    /// <summary>
    /// The app image blobs the <c>image-blob</c> layers among <paramref name="layers"/> hold, into the registry layout of the
    /// rootfs at <paramref name="root"/> (a shell word: <c>$t</c>, <c>$r</c>; <c>$s</c> is the content store). The built-in
    /// registry serves them from the store's layer files: a link per blob, <c>registry/in-store/sha256/&lt;blob hex&gt;</c>
    /// to the layer (<see cref="InStoreBlobs"/>), so a registry host keeps one copy of the bytes, not two, and writes none.
    /// Only when the image's own registry will serve instead (no <c>sealer</c> is installed and the host has none, and the
    /// image has <c>scripts/init-registry.sh</c>: <see cref="RegistryStep"/>), which reads plain files, are they extracted.
    /// </summary>
    internal static void AppendImageBlobs(InstallContext ctx, StringBuilder sb, string root, IEnumerable<Descriptor> layers)
    {
        if (!layers.Any(l => ClusterImageFormat.ImageBlobOf(l) is not null)) return;
        string ownRegistry = RegistryStep.SealerBinary(ctx) is not null ? "false"
            : $$"""! ( PATH="{{root}}/bin:/usr/local/bin:$PATH"; command -v sealer >/dev/null ) && [ -f "{{root}}/scripts/init-registry.sh" ]""";
        sb.Append(CultureInfo.InvariantCulture, $$"""
            if {{ownRegistry}}; then x() { tar -xf "$s/blobs/sha256/$2" -C "{{root}}" --no-same-owner; }
            else k="{{LinkDirectory(root)}}"; mkdir -p "$k"; x() { ln -sfn "$s/blobs/sha256/$2" "$k/$1"; }; fi

            """);
        AppendImageBlobLoop(sb, layers, "x \"$b\" \"$l\"");
    }

    /// <summary>
    /// <c>wh MEMBERS</c>: applies the OCI whiteouts of the layer just extracted into <c>$t</c>, whose member names (as
    /// <c>tar -xv</c> printed them) are in MEMBERS. <c>.wh.NAME</c> deletes NAME (from the lower layers); <c>DIR/.wh..wh..opq</c>
    /// (opaque) deletes everything under DIR that this layer did not write itself; the whiteout files are removed. Nothing to
    /// do (the common case) costs one grep of the member list.
    /// </summary>
    internal const string WhiteoutFunction = """
        wh() {
          grep -E '(^|/)\.wh\.[^/]*/?$' "$1" | sed 's#^\./##; s#/$##' | while IFS= read -r w; do
            b=${w##*/}; case "$w" in */*) d=${w%/*};; *) d=.;; esac
            if [ "$b" = .wh..wh..opq ]; then
              find "$t/$d" -mindepth 1 | awk -v t="$t/" 'NR == FNR { sub(/^\.\//, ""); sub(/\/$/, ""); k[$0] = 1; while (match($0, /\/[^\/]*$/) > 0) { $0 = substr($0, 1, RSTART - 1); k[$0] = 1 }; next }
                { p = substr($0, length(t) + 1); sub(/^\.\//, "", p); if (!(p in k)) print }' "$1" - | while IFS= read -r x; do rm -rf "$x"; done
            else
              rm -rf "$t/$d/${b#.wh.}"
            fi
            rm -f "$t/$w"
          done
        }

        """;

    /// <summary>
    /// What the registry's retention and garbage collection read (Install/RegistryGc): per image, under
    /// <c>&lt;cluster&gt;/images/&lt;manifest hex&gt;/</c>, its <c>layers</c> (every layer digest of every platform: what
    /// the content store must keep for it) and on registry hosts its own <c>index.json</c> (the registry entries it
    /// serves). In an upgrade the running image's index is saved first when it has no record yet (installed before records).
    /// </summary>
    private static void SaveImageRecord(InstallContext ctx, InstallHost n, StringBuilder sb)
    {
        string hex = n.Platform.ManifestDescriptor.ParsedDigest.Encoded;
        sb.Append(CultureInfo.InvariantCulture, $"c={Q(ctx.ClusterDir)}; i=\"$c/images/{hex}\"; mkdir -p \"$i\"\n");
        if (ctx.State.Upgrade is not null)
        {
            sb.Append("if [ -f \"$r/.sealer-image\" ] && [ -f \"$r/registry/index.json\" ]; then o=$(cut -d: -f2 \"$r/.sealer-image\"); ")
              .Append("[ -n \"$o\" ] && [ ! -f \"$c/images/$o/index.json\" ] && { mkdir -p \"$c/images/$o\"; cp \"$r/registry/index.json\" \"$c/images/$o/index.json.tmp\" && mv -f \"$c/images/$o/index.json.tmp\" \"$c/images/$o/index.json\"; }; fi\n");
        }
        var layers = string.Join("\n", ctx.Image.Platforms.SelectMany(p => p.Layers).Select(l => l.Digest).Distinct(StringComparer.Ordinal));
        sb.Append("printf '%s\\n' ").Append(Q(layers)).Append(" > \"$i/layers.tmp\" && mv -f \"$i/layers.tmp\" \"$i/layers\"\n");
        if (ctx.RegistryIps.Contains(n.Ip) && ctx.Image.ReadFiles(n.Platform, p => p == "registry/index.json").TryGetValue("registry/index.json", out var index))
        {
            sb.Append("echo ").Append(Convert.ToBase64String(index)).Append(" | base64 -d > \"$i/index.json.tmp\" && mv -f \"$i/index.json.tmp\" \"$i/index.json\"\n");
        }
    }

    /// <summary>
    /// In an upgrade, before the swap: on a registry host the running rootfs's registry blobs (and links to store layers) are linked into the new one
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
                // the old blob files (hard links, no bytes copied) and links to store layers (the store keeps those while
                // the old image is kept: RegistryGc), each unless the new rootfs has that blob in either form
                sb.Append(CultureInfo.InvariantCulture, $"b=\"$t/registry/blobs/sha256\"; k=\"{LinkDirectory("$t")}\"; mkdir -p \"$b\"\n");
                sb.Append("for f in \"$r/registry/blobs/sha256/\"*; do [ -f \"$f\" ] || continue; h=${f##*/}; [ -e \"$b/$h\" ] || [ -L \"$k/$h\" ] || ln \"$f\" \"$b/\" 2>/dev/null || cp -p \"$f\" \"$b/\"; done\n");
                sb.Append(CultureInfo.InvariantCulture, $"for f in \"{LinkDirectory("$r")}/\"*; do [ -L \"$f\" ] || continue; h=${{f##*/}}; [ -e \"$b/$h\" ] || [ -L \"$k/$h\" ] || {{ mkdir -p \"$k\"; cp -P \"$f\" \"$k/\"; }}; done\n");
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
