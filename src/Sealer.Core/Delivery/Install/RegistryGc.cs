using System.Globalization;
using System.Text;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Delivery.Install.Steps;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install;

/// <summary>
/// Garbage collection of the registry hosts after an upgrade (and <c>sealer registry gc</c>): the images kept are the
/// current one and the ones before it up to --keep-images (<see cref="RegistryRetention"/>); a blob of the served
/// registry layout (<c>rootfs/registry/blobs</c>, or a link to the store layer holding it: <c>registry/in-store</c>) is removed only when neither the served <c>registry/index.json</c> nor
/// any kept image's saved index reaches it (manifests read from the host and walked here), and a layer of the content
/// store (<c>&lt;dataRoot&gt;/.store</c>, shared by the clusters of a data root) only when no kept image's saved layer list
/// names it, no kept link points at it, and no other cluster on the data root links to it or records it (when one of them has no list,
/// the content store is left alone). When a manifest cannot be read the host is skipped: nothing is removed when what it
/// reaches is unknown. The removal is guarded by index.json's hash (a change since it was read removes nothing). Never
/// while an upgrade is unfinished (<see cref="ErrorCodes.RegistryGcRefused"/>).
/// </summary>
internal static class RegistryGc
{
    private static string Q(string s) => SshHost.ShellQuote(s);

    /// <summary>The entries of an index.json as "name@digest", sorted (how two indexes serve the same).</summary>
    private static List<string> EntriesOf(byte[] index)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(index);
            if (!doc.RootElement.TryGetProperty("manifests", out var list) || list.ValueKind != System.Text.Json.JsonValueKind.Array) return [];
            return list.EnumerateArray().Select(m =>
                (m.TryGetProperty("annotations", out var a) && a.ValueKind == System.Text.Json.JsonValueKind.Object && a.TryGetProperty("org.opencontainers.image.ref.name", out var n) ? n.GetString() : "")
                + "@" + (m.TryGetProperty("digest", out var d) ? d.GetString() : "")).Order(StringComparer.Ordinal).ToList();
        }
        catch (System.Text.Json.JsonException)
        {
            return [];
        }
    }

    public static async Task<IReadOnlyList<RegistryGcHost>> RunAsync(InstallContext ctx, IReadOnlyList<InstallHost> hosts, int keep, bool dryRun, CancellationToken cancellationToken = default)
    {
        if (keep < 1) throw new SealerException(ErrorCodes.RegistryGcRefused, $"--keep-images {keep} keeps no image, not even the one the cluster runs; give 1 or more.");
        if (ctx.State.Upgrade is { } up)
        {
            throw new SealerException(ErrorCodes.RegistryGcRefused,
                $"Cluster '{ctx.Cluster.Name}' is half-way through {(up.Rollback ? "a rollback" : "an upgrade")} from {up.From.Image} to {up.To.Image} (started {up.Started}); its registry serves both. " +
                $"Finish it ('sealer run --image {up.To.Image}') or roll back ('sealer rollback') first; the garbage collection runs after it. Nothing was removed.");
        }
        var retained = RegistryRetention.Retained(ctx.State, keep);
        if (retained.Count == 0)
        {
            throw new SealerException(ErrorCodes.RegistryGcRefused, $"Cluster '{ctx.Cluster.Name}' has no image recorded in its state; nothing is known to be unused. Nothing was removed.");
        }
        var keys = retained.SelectMany(RegistryRetention.Keys).ToList();
        var results = await Task.WhenAll(hosts.Select(n => HostAsync(ctx, n, retained, keys, dryRun, cancellationToken))).ConfigureAwait(false);
        return results;
    }

    private static async Task<RegistryGcHost> HostAsync(InstallContext ctx, InstallHost n, IReadOnlyList<ImageRecord> retained, IReadOnlyList<string> keys, bool dryRun, CancellationToken cancellationToken)
    {
        string blobs = ctx.Rootfs + "/registry/blobs/sha256", links = UnpackStep.LinkDirectory(ctx.Rootfs);
        string script = $$"""
            r={{Q(ctx.Rootfs)}}; c={{Q(ctx.ClusterDir)}}; s={{Q(ctx.Store)}}
            if [ -f "$r/registry/index.json" ]; then
              echo "I $(sha256sum "$r/registry/index.json" | cut -c1-64)"
              printf 'X '; base64 -w0 "$r/registry/index.json"; echo
            else echo NOINDEX; fi
            for d in "$c/images"/*/; do
              [ -d "$d" ] || continue; k=$(basename "$d"); echo "D $k"
              if [ -f "$d/index.json" ]; then printf 'J %s ' "$k"; base64 -w0 "$d/index.json"; echo; fi
              if [ -f "$d/layers" ]; then echo "H $k"; while read -r l; do [ -n "$l" ] && echo "L $k $l"; done < "$d/layers"; fi
            done
            if [ -f "$r/registry/index.json" ] && cd {{Q(blobs)}} 2>/dev/null; then
              for f in *; do
                [ -f "$f" ] || continue; z=$(stat -c %s "$f"); echo "F $f $z"
                if [ "$z" -le 4194304 ] && [ "$(head -c1 "$f")" = "{" ]; then printf 'B %s ' "$f"; base64 -w0 "$f"; echo; fi
              done
            fi
            if [ -f "$r/registry/index.json" ] && cd {{Q(links)}} 2>/dev/null; then
              find . -maxdepth 1 -type l -printf 'G %f %l\n' 2>/dev/null || for f in *; do [ -L "$f" ] && echo "G $f $(readlink "$f")"; done
            fi
            # other clusters under the same data root share the content store: what their links and image records name stays
            for o in {{Q(ctx.Cluster.DataRoot)}}/*/; do
              [ "${o%/}" = "$c" ] && continue
              if [ -d "{{UnpackStep.LinkDirectory("$o/rootfs")}}" ]; then (cd "{{UnpackStep.LinkDirectory("$o/rootfs")}}" && { find . -maxdepth 1 -type l -printf 'K %l\n' 2>/dev/null || for f in *; do [ -L "$f" ] && echo "K $(readlink "$f")"; done; }); fi
              for l in "$o"images/*/layers; do [ -f "$l" ] && while read -r x; do [ -n "$x" ] && echo "K $x"; done < "$l"; done
            done
            # the store's sizes by one find (a stat per blob took ~5 ms here: 10 s at 2,000 blobs)
            if cd "$s/blobs/sha256" 2>/dev/null; then find . -maxdepth 1 -type f -printf 'S %f %s\n' 2>/dev/null || for f in *; do [ -f "$f" ] && echo "S $f $(stat -c %s "$f")"; done; fi
            true
            """;
        string? indexHash = null;
        byte[]? served = null;
        var saved = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        var withLayers = new HashSet<string>(StringComparer.Ordinal);
        var layers = new HashSet<string>(StringComparer.Ordinal);
        var files = new Dictionary<string, long>(StringComparer.Ordinal);
        var small = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var store = new Dictionary<string, long>(StringComparer.Ordinal);
        var linked = new Dictionary<string, string>(StringComparer.Ordinal); // blob hex -> the store layer (hex) its link names
        var others = new HashSet<string>(StringComparer.Ordinal); // store layers other clusters on this data root link to or record
        bool noIndex = false;
        await n.Ssh.ReadOutputAsync(script, async (stream, c) =>
        {
            using var reader = new StreamReader(stream, Encoding.UTF8, false, 1 << 16, leaveOpen: true);
            while (await reader.ReadLineAsync(c).ConfigureAwait(false) is { } line)
            {
                var parts = line.Split(' ', 3);
                switch (parts[0])
                {
                    case "NOINDEX": noIndex = true; break;
                    case "I" when parts.Length >= 2: indexHash = parts[1]; break;
                    case "X" when parts.Length >= 2: served = Convert.FromBase64String(parts[1]); break;
                    case "D" when parts.Length >= 2: dirs.Add(parts[1]); break;
                    case "J" when parts.Length == 3: saved[parts[1]] = Convert.FromBase64String(parts[2]); break;
                    case "H" when parts.Length >= 2: withLayers.Add(parts[1]); break;
                    case "L" when parts.Length == 3 && keys.Contains(parts[1]): layers.Add(RegistryRetention.Hex(parts[2])); break;
                    case "F" when parts.Length == 3: files[parts[1]] = long.Parse(parts[2], CultureInfo.InvariantCulture); break;
                    case "B" when parts.Length == 3: small[parts[1]] = Convert.FromBase64String(parts[2]); break;
                    case "G" when parts.Length == 3: linked[parts[1]] = Path.GetFileName(parts[2]); break;
                    case "K" when parts.Length >= 2: others.Add(RegistryRetention.Hex(Path.GetFileName(parts[1]))); break;
                    case "S" when parts.Length == 3: store[parts[1]] = long.Parse(parts[2], CultureInfo.InvariantCulture); break;
                }
            }
        }, new CommandOptions { Description = "registry gc: read the registry's index, manifests and blob list", Timeout = ctx.Options.StepTimeout }, cancellationToken).ConfigureAwait(false);

        var imagesKept = retained.Select(r => r.Image).ToList();
        if (!noIndex && (served is null || indexHash is null)) return new RegistryGcHost(n.Ip, [], 0, [], 0, 0, imagesKept, "registry/index.json could not be read: nothing collected");
        // what the registry should serve: the kept images' saved indexes merged, newest first (as the switch step writes it);
        // when the current image has no saved index (installed before they were saved), what it serves now
        byte[]? rewrite = null;
        var savedKept = retained.Select(r => RegistryRetention.Keys(r).FirstOrDefault(saved.ContainsKey)).ToList();
        if (served is not null && savedKept[0] is { } currentKey)
        {
            var merged = saved[currentKey];
            foreach (var k in savedKept.Skip(1).OfType<string>()) merged = RegistrySwitchStep.MergeIndex(merged, Encoding.UTF8.GetString(saved[k]));
            if (!EntriesOf(merged).SequenceEqual(EntriesOf(served))) rewrite = merged;
        }
        var roots = new List<byte[]>();
        if ((rewrite ?? served) is { } root) roots.Add(root);
        roots.AddRange(savedKept.OfType<string>().Select(k => saved[k]));
        var keep = RegistryRetention.Reachable(roots, hex => small.GetValueOrDefault(hex), files.ContainsKey, out var unread);
        if (unread.Count > 0)
        {
            return new RegistryGcHost(n.Ip, [], 0, [], 0, files.Count, imagesKept,
                $"manifest(s) {string.Join(", ", unread.Take(3).Select(h => "sha256:" + h))} could not be read (larger than 4 MiB or not JSON): what they reach is unknown, so nothing was removed");
        }
        var goRegistry = files.Keys.Where(f => !keep.Contains(f)).Order(StringComparer.Ordinal).ToList();
        var goLinks = linked.Keys.Where(f => !keep.Contains(f)).Order(StringComparer.Ordinal).ToList();
        // the content store: only when every kept image on this host has its layer list (an image installed before the lists keeps everything)
        var present = keys.Where(dirs.Contains).ToList();
        bool storeKnown = present.Count > 0 && present.All(withLayers.Contains) && retained.All(r => RegistryRetention.Keys(r).Any(present.Contains));
        if (ctx.Image is { } current) foreach (var l in current.Platforms.SelectMany(p => p.Layers)) layers.Add(l.ParsedDigest.Encoded);
        // a blob the registry still serves through a link keeps the store layer the link names, whichever image brought it
        foreach (var (blob, layer) in linked) if (keep.Contains(blob)) layers.Add(layer);
        layers.UnionWith(others);
        var goStore = storeKnown ? store.Keys.Where(f => !layers.Contains(f)).Order(StringComparer.Ordinal).ToList() : [];
        var staleDirs = dirs.Where(d => !keys.Contains(d)).ToList();
        // a link removed frees no bytes itself: its store layer does (goStore)
        var result = new RegistryGcHost(n.Ip, goRegistry.Concat(goLinks).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(h => "sha256:" + h).ToList(), goRegistry.Sum(h => files[h]),
            goStore.Select(h => "sha256:" + h).ToList(), goStore.Sum(h => store[h]),
            files.Keys.Union(linked.Keys).Count(keep.Contains), imagesKept, storeKnown ? null : "the content store was left alone: a kept image has no saved layer list (installed before they were kept)");
        if (dryRun || goRegistry.Count + goLinks.Count + goStore.Count + staleDirs.Count == 0 && rewrite is null) return result;

        var rm = new StringBuilder();
        rm.Append(CultureInfo.InvariantCulture, $"r={Q(ctx.Rootfs)}; c={Q(ctx.ClusterDir)}; s={Q(ctx.Store)}\n");
        if (!noIndex) rm.Append(CultureInfo.InvariantCulture, $"[ \"$(sha256sum \"$r/registry/index.json\" | cut -c1-64)\" = {indexHash} ] || {{ echo \"registry/index.json changed while the garbage collection read it (an upgrade running?): nothing removed; run 'sealer registry gc' again\" >&2; exit 3; }}\n");
        if (rewrite is not null)
        {
            rm.Append("echo ").Append(Convert.ToBase64String(rewrite)).Append(" | base64 -d > \"$r/registry/index.json.tmp\" && mv -f \"$r/registry/index.json.tmp\" \"$r/registry/index.json\"\n");
            rm.Append("sleep 1.2\n"); // the registry re-reads index.json at most once a second: nothing it still lists is removed before it has
        }
        foreach (var chunk in goRegistry.Chunk(200)) rm.Append("(cd \"$r/registry/blobs/sha256\" && rm -f -- ").Append(string.Join(' ', chunk)).Append(")\n");
        foreach (var chunk in goLinks.Chunk(200)) rm.Append(CultureInfo.InvariantCulture, $"(cd \"{UnpackStep.LinkDirectory("$r")}\" && rm -f -- ").Append(string.Join(' ', chunk)).Append(")\n");
        foreach (var chunk in goStore.Chunk(200)) rm.Append("(cd \"$s/blobs/sha256\" && rm -f -- ").Append(string.Join(' ', chunk)).Append(")\n");
        foreach (var d in staleDirs) rm.Append("rm -rf \"$c/images/").Append(d).Append("\"\n");
        await n.Ssh.RunAsync(rm.ToString(), new CommandOptions { Description = $"registry gc: remove {goRegistry.Count + goLinks.Count + goStore.Count} blob(s)", Timeout = ctx.Options.StepTimeout }, cancellationToken).ConfigureAwait(false);
        return result;
    }
}
