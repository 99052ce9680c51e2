using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Ssh;
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
    /// Either way a fixed number of processes, not one per blob: the links come as one tar of symbolic links
    /// (<see cref="LinksArchive"/>), the extracted blobs as every layer's tar in one stream to one <c>tar -i</c>. A process
    /// per blob (<c>ln</c>, <c>tar</c>) took ~5 ms each on a small VM: 10 s of a 600-image run (RESULTS, 2026-12-05).
    /// </summary>
    internal static void AppendImageBlobs(InstallContext ctx, StringBuilder sb, string root, IEnumerable<Descriptor> layers)
        => AppendImageBlobs(sb, ctx.Store, root, sealerInstalled: RegistryStep.SealerBinary(ctx) is not null, layers);

    /// <summary><see cref="AppendImageBlobs(InstallContext, StringBuilder, string, IEnumerable{Descriptor})"/> with the store's
    /// path and whether this run installs <c>sealer</c> (then the built-in registry serves: links, no check on the host).</summary>
    internal static void AppendImageBlobs(StringBuilder sb, string store, string root, bool sealerInstalled, IEnumerable<Descriptor> layers)
    {
        // blob hex -> the layer holding it; a blob two layers hold links to the last, as ln -sfn in turn did
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            if (ClusterImageFormat.ImageBlobOf(layer) is { } blob) links[blob.Encoded] = layer.ParsedDigest.Encoded;
        }
        if (links.Count == 0) return;
        string linksScript = string.Create(CultureInfo.InvariantCulture, $"k=\"{LinkDirectory(root)}\"; mkdir -p \"$k\"\n")
            + "(set -o pipefail; base64 -d <<'SEALER_LINKS' | tar -xzf - -C \"$k\" --no-same-owner)\n" + LinksArchive(store, links) + "SEALER_LINKS\n";
        if (sealerInstalled)
        {
            sb.Append(linksScript);
            return;
        }
        sb.Append(CultureInfo.InvariantCulture, $$"""if ! ( PATH="{{root}}/bin:/usr/local/bin:$PATH"; command -v sealer >/dev/null ) && [ -f "{{root}}/scripts/init-registry.sh" ]; then""").Append('\n');
        // each layer is a one-member tar: their concatenation is one stream for tar -i (it reads past each end-of-archive);
        // the cat lines are chunked to stay far below the kernel's limit on a command line
        sb.Append("(set -o pipefail; {\n");
        foreach (var chunk in links.Values.Distinct(StringComparer.Ordinal).Chunk(200))
        {
            sb.Append("cat");
            foreach (var hex in chunk) sb.Append(" \"$s/blobs/sha256/").Append(hex).Append('"');
            sb.Append('\n');
        }
        sb.Append(CultureInfo.InvariantCulture, $$"""} | tar -xif - -C "{{root}}" --no-same-owner)""").Append('\n');
        sb.Append("else\n").Append(linksScript).Append("fi\n");
    }

    /// <summary>
    /// A gzip tar of symbolic links, <c>&lt;blob hex&gt;</c> to <c>&lt;store&gt;/blobs/sha256/&lt;layer hex&gt;</c> for each of
    /// <paramref name="links"/>, as base64 lines of 76 characters (each ending in a newline) for a here-doc: one <c>tar -x</c>
    /// makes them all. GNU format, so a store path that makes a target longer than 100 bytes (the default one does) is
    /// carried whole (a <c>././@LongLink</c> entry), as GNU tar and BusyBox read it.
    /// </summary>
    internal static string LinksArchive(string store, IReadOnlyDictionary<string, string> links)
    {
        using var bytes = new MemoryStream();
        using (var gzip = new GZipStream(bytes, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Gnu, leaveOpen: true))
        {
            foreach (var (blob, layer) in links)
            {
                tar.WriteEntry(new GnuTarEntry(TarEntryType.SymbolicLink, blob)
                {
                    LinkName = $"{store}/blobs/sha256/{layer}",
                    ModificationTime = DateTimeOffset.UnixEpoch,
                    Mode = (UnixFileMode)0x1FF, // 0777, as ln -s makes them
                });
            }
        }
        string text = Convert.ToBase64String(bytes.GetBuffer(), 0, (int)bytes.Length);
        var sb = new StringBuilder(text.Length + text.Length / 76 + 1);
        for (int i = 0; i < text.Length; i += 76) sb.Append(text, i, Math.Min(76, text.Length - i)).Append('\n');
        return sb.ToString();
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
    /// The part of <see cref="UpgradeKeepAsync"/> that keeps the running rootfs's (<c>$r</c>) registry blobs in the new one
    /// (<c>$t</c>): the old blob files as hard links (no bytes copied) and the links to store layers (the store keeps those
    /// while the old image is kept: RegistryGc), each unless the new rootfs has that blob in either form. Both are gathered
    /// first and handed <see cref="SshHost.ChunkSize"/> to a process (a process per blob is ~5 ms: seconds for an image of
    /// thousands); what <c>ln</c> could not link of a chunk (another device) goes to one <c>cp -p</c>, without what it linked.
    /// bash (arrays).
    /// </summary>
    internal static string KeepOldBlobsScript() =>
        string.Create(CultureInfo.InvariantCulture, $"b=\"$t/registry/blobs/sha256\"; k=\"{LinkDirectory("$t")}\"; mkdir -p \"$b\"\n")
        + "l=(); for f in \"$r/registry/blobs/sha256/\"*; do [ -f \"$f\" ] || continue; h=${f##*/}; [ -e \"$b/$h\" ] || [ -L \"$k/$h\" ] || l+=(\"$f\"); done\n"
        + SshHost.ForEachChunk("l", "{ ln -- {} \"$b/\" 2>/dev/null || { c=(); for f in {}; do [ -e \"$b/${f##*/}\" ] || c+=(\"$f\"); done; [ ${#c[@]} -eq 0 ] || cp -p -- \"${c[@]}\" \"$b/\"; }; }") + "\n"
        + string.Create(CultureInfo.InvariantCulture, $"m=(); for f in \"{LinkDirectory("$r")}/\"*; do [ -L \"$f\" ] || continue; h=${{f##*/}}; [ -e \"$b/$h\" ] || [ -L \"$k/$h\" ] || m+=(\"$f\"); done\n")
        + "if [ ${#m[@]} -gt 0 ]; then mkdir -p \"$k\"; " + SshHost.ForEachChunk("m", "cp -P -t \"$k\" -- {}") + "; fi\n";

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
                sb.Append(KeepOldBlobsScript());
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
