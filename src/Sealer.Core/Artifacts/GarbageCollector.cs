using System.Text.Json.Serialization;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.Artifacts;

/// <summary>What a prune found and freed in one layout.</summary>
public sealed record GcReport(
    [property: JsonPropertyName("root")] string Root,
    [property: JsonPropertyName("blobsKept")] int BlobsKept,
    [property: JsonPropertyName("bytesKept")] long BytesKept,
    [property: JsonPropertyName("blobsRemoved")] int BlobsRemoved,
    [property: JsonPropertyName("bytesFreed")] long BytesFreed,
    [property: JsonPropertyName("partialsRemoved")] int PartialsRemoved,
    [property: JsonPropertyName("partialBytesFreed")] long PartialBytesFreed,
    [property: JsonPropertyName("dryRun")] bool DryRun)
{
    [JsonPropertyName("totalFreed")] public long TotalFreed => BytesFreed + PartialBytesFreed;
}

/// <summary>
/// Mark and sweep over an <see cref="OciLayout"/>: every index.json entry (named images, unnamed roots, referrers such as
/// signatures) is a root; whatever their graphs reach is kept, every other blob is deleted. Blobs younger than the
/// grace period are kept, so a pull or build writing into the same layout right now never loses a blob it has not
/// named yet. Stale partial downloads in <c>ingest/</c> older than the grace period go too.
/// </summary>
public static class GarbageCollector
{
    /// <summary>Blobs written this recently are never collected (a concurrent pull may not have named them yet).</summary>
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromMinutes(10);

    public static GcReport Collect(OciLayout layout, TimeSpan? gracePeriod = null, bool dryRun = false)
    {
        var grace = gracePeriod ?? DefaultGracePeriod;
        var cutoff = DateTime.UtcNow - grace;
        // Hold the index lock while marking and sweeping, so nobody names an image we are about to delete blobs of.
        using var indexLock = OciLayout.AcquireLock(Path.Combine(layout.Root, "index.json.lock"));
        var index = layout.ReadIndex();
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var root in index.Manifests)
        {
            live.Add(root.Digest);
            var graph = ImageGraph.Load(layout, root, requireBlobs: false);
            foreach (var d in graph.AllDigests) live.Add(d.ToString());
            // Referrers stored as unnamed roots are roots themselves; their subjects are already live.
        }

        int kept = 0, removed = 0, partials = 0;
        long keptBytes = 0, freed = 0, partialBytes = 0;
        foreach (var (name, file) in layout.BlobFiles())
        {
            var info = new FileInfo(file);
            if (live.Contains(name) || info.LastWriteTimeUtc > cutoff)
            {
                kept++;
                keptBytes += info.Length;
                continue;
            }
            removed++;
            freed += info.Length;
            if (!dryRun) OciLayout.TryDelete(file);
        }
        string ingest = Path.Combine(layout.Root, "ingest");
        if (Directory.Exists(ingest))
        {
            foreach (var file in Directory.EnumerateFiles(ingest))
            {
                var info = new FileInfo(file);
                if (info.LastWriteTimeUtc > cutoff) continue;
                partials++;
                partialBytes += info.Length;
                if (!dryRun) OciLayout.TryDelete(file);
            }
        }
        return new GcReport(layout.Root, kept, keptBytes, removed, freed, partials, partialBytes, dryRun);
    }
}
