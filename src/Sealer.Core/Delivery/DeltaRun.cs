using Sealer.Core.Artifacts;
using Sealer.Core.Bundle;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;
using Sealer.Core.Oci;

namespace Sealer.Core.Delivery;

/// <summary>
/// <c>sealer run --image DELTA.tar</c> (a delta written by <c>sealer save --since BASE NEW</c>): the delta is loaded into the
/// local image store as <c>sealer load</c> loads it (every carried blob verified, NEW named only when its whole graph is
/// there, nothing named otherwise), then NEW is run from the store by its name, which the cluster's state records (so a
/// rollback opens it there again).
/// <para>
/// The blobs NEW takes from BASE come from the store when it has them. When it does not, and the cluster's state says
/// the cluster runs exactly BASE (its recorded root digest, or its one manifest, is the delta's base digest), they are
/// completed from the hosts' content stores (<c>&lt;dataRoot&gt;/.store</c>): distribute put every layer of BASE there
/// (registry hosts hold all of them, the others the rootfs). Each is streamed back into the store's ingest and verified
/// against its digest and size before it is kept; content addressing makes that sound whatever host it came from. A
/// cluster that runs another image, or hosts that lack a blob, leave the delta refused (<see cref="ErrorCodes.DeltaBaseMissing"/>),
/// naming the base, its digest and what to do.
/// </para>
/// </summary>
public static class DeltaRun
{
    /// <summary>The delta record of <paramref name="image"/> when it is a delta archive file (null: a layout, a name, a full archive, a bundle).</summary>
    public static async Task<DeltaInfo?> ReadAsync(string image, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(image) || SiteBundle.TryOpen(image) is not null) return null;
        try
        {
            return await DeltaArchive.ReadDeltaInfoAsync(image, cancellationToken).ConfigureAwait(false);
        }
        catch (SealerException ex) when (ex.Code == ErrorCodes.NotAnOciArchive)
        {
            return null; // not an archive at all: ClusterImageSource.Open says what it is not
        }
    }

    /// <summary>Whether the cluster, as its state records it, runs exactly the delta's base.</summary>
    public static bool RunsBase(ClusterState state, DeltaInfo delta)
    {
        if (state.Upgrade is not null) return false; // half-way between two images: neither is whole on every host
        var current = state.Current;
        if (current?.Root is { } root) return root == delta.BaseDigest;
        var digests = current?.ManifestDigests ?? state.ManifestDigests;
        return digests.Count == 1 && digests.Values.Single() == delta.BaseDigest;
    }

    /// <summary>
    /// Loads the delta at <paramref name="path"/> into <paramref name="store"/>, first completing the base's blobs the store
    /// lacks from <paramref name="hosts"/> (only when the cluster runs that base); returns the name of the image it names.
    /// </summary>
    public static async Task<string> LoadAsync(string path, DeltaInfo delta, ClusterImageStore store, ClusterState state, string clusterName,
        IReadOnlyList<SshHost> hosts, string hostStore, Action<string>? status = null, CancellationToken cancellationToken = default)
    {
        var missing = delta.MissingFrom(store);
        if (missing.Count > 0)
        {
            if (!RunsBase(state, delta))
            {
                string runs = state.Upgrade is { } up ? $"is half-way from {up.From.Image} to {up.To.Image}"
                    : state.Hosts.Count == 0 ? "is not installed"
                    : $"runs {state.Image} ({state.Current?.Root ?? string.Join(", ", state.ManifestDigests.Values)})";
                throw new SealerException(ErrorCodes.DeltaBaseMissing,
                    $"'{path}' is a delta over {delta.BaseName} ({delta.BaseDigest}). The image store '{store.Root}' lacks {missing.Count} of the {delta.BaseBlobs.Count} blobs it takes from that base " +
                    $"({Bytes.Format(missing.Sum(b => b.Size))}), and cluster '{clusterName}' {runs}, so its hosts cannot complete it. " +
                    $"Load {delta.BaseName} here first ('sealer load BASE.tar'), or ship the full archive (sealer save without --since). Nothing was loaded.", path);
            }
            status?.Invoke($"{"delta",-16} {missing.Count} blob(s) of {delta.BaseName} ({Bytes.Format(missing.Sum(b => b.Size))}) are not in {store.Root}: taking them from the hosts, which run that image");
            await FetchFromHostsAsync(path, delta, missing, store, hosts, hostStore, cancellationToken).ConfigureAwait(false);
        }
        var loaded = await OciArchive.LoadArchiveAsync(store, path, null, cancellationToken).ConfigureAwait(false);
        if (loaded.Images.Count != 1)
        {
            throw new SealerException(ErrorCodes.BadClusterImage,
                $"'{path}' names {loaded.Images.Count} images ({string.Join(", ", loaded.Images.Select(i => i.Name))}); a delta to run carries one. It was loaded: run one of them with --image NAME.", path);
        }
        status?.Invoke($"{"delta",-16} loaded {loaded.Images[0].Name} ({loaded.Images[0].Digest}): {loaded.BlobsLoaded} blob(s) ({Bytes.Format(loaded.BytesLoaded)}) from the delta, {delta.BaseBlobs.Count} from its base {delta.BaseName}");
        return loaded.Images[0].Name;
    }

    /// <summary>Each missing blob from the first host whose content store has it at its size, verified into the store.</summary>
    private static async Task FetchFromHostsAsync(string path, DeltaInfo delta, IReadOnlyList<Descriptor> missing, ClusterImageStore store,
        IReadOnlyList<SshHost> hosts, string hostStore, CancellationToken cancellationToken)
    {
        // what each host has, in one command per host: "<hex> <size>" for every blob it holds of those wanted
        var wanted = missing.ToDictionary(b => b.ParsedDigest.Encoded, StringComparer.Ordinal);
        var where = new Dictionary<string, SshHost>(StringComparer.Ordinal);
        foreach (var host in hosts)
        {
            if (where.Count == wanted.Count) break;
            string list = string.Join(' ', wanted.Keys.Where(k => !where.ContainsKey(k)));
            var r = await host.RunAsync($"cd {SshHost.ShellQuote(hostStore + "/blobs/sha256")} 2>/dev/null || exit 0\nh=(); for f in {list}; do [ -f \"$f\" ] && h+=(\"$f\"); done\n" +
                SshHost.ForEachChunk("h", "stat -c '%n %s' -- {} || true"), // ChunkSize to a stat, not one each
                new CommandOptions { Description = "delta: list the base's blobs this host holds", Timeout = TimeSpan.FromMinutes(1) }, cancellationToken).ConfigureAwait(false);
            foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                if (parts.Length == 2 && wanted.TryGetValue(parts[0], out var d) && long.TryParse(parts[1], out long size) && size == d.Size) where.TryAdd(parts[0], host);
            }
        }
        var absent = missing.Where(b => !where.ContainsKey(b.ParsedDigest.Encoded)).ToList();
        if (absent.Count > 0)
        {
            throw new SealerException(ErrorCodes.DeltaBaseMissing,
                $"'{path}' is a delta over {delta.BaseName} ({delta.BaseDigest}); neither the image store '{store.Root}' nor the hosts' content stores ({hostStore}) hold {absent.Count} of its base's blobs " +
                $"({string.Join(", ", absent.Take(3).Select(b => b.Digest))}{(absent.Count > 3 ? ", ..." : "")}). Load {delta.BaseName} here first ('sealer load BASE.tar'), or ship the full archive. Nothing was named.", path);
        }
        foreach (var blob in missing)
        {
            var host = where[blob.ParsedDigest.Encoded];
            await using var ingest = store.Layout.BeginIngest(blob.ParsedDigest, blob.Size);
            await ingest.ResetAsync(cancellationToken).ConfigureAwait(false);
            await host.ReadOutputAsync($"cat {SshHost.ShellQuote($"{hostStore}/blobs/sha256/{blob.ParsedDigest.Encoded}")}",
                (s, c) => ingest.AppendAsync(s, null, c), new CommandOptions { Description = $"delta: read blob {blob.Digest}", Timeout = TimeSpan.FromMinutes(30) }, cancellationToken).ConfigureAwait(false);
            try
            {
                await ingest.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SealerException ex) when (ex.Code is ErrorCodes.DigestMismatch or ErrorCodes.SizeMismatch)
            {
                throw new SealerException(ErrorCodes.ArchiveBlobCorrupt,
                    $"Blob {blob.Digest} of {delta.BaseName} on {host.Address} ({hostStore}) does not hash to its name: that host's copy is damaged. Load {delta.BaseName} here instead ('sealer load BASE.tar'). Nothing was named.", path, inner: ex);
            }
        }
    }
}
