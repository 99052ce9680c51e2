using System.Security.Cryptography;
using System.Text;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// How the project's rootfs is cut into layers. A group of entries (<see cref="GzipMembers.GroupOf"/>: a chart, a folder
/// of files, an app) of <see cref="OwnLayerBytes"/> or more gets a layer of its own; the rest share one layer, the last of
/// them (the one a chart edit changes). A layer of its own is stamped with its files' sizes and modification times (as
/// MSBuild and make judge inputs) and the rest of what its bytes depend on (<see cref="Stamp"/>): a rebuild whose stamp is
/// the last build's takes that layer and its diff ID from the layer map without reading a byte of it, so a one-chart edit
/// costs that chart, not the 100s of MiB of files beside it. Only a layer of its own can be taken so: the shared layer's diff
/// ID is the SHA-256 of its whole tar, so any change in it means reading all of it (its unchanged members are still copied,
/// not compressed again: <see cref="GzipMembers"/>).
/// </summary>
internal static class RootfsLayers
{
    /// <summary>A group this big (its files' bytes) gets a rootfs layer of its own. Small on purpose: the shared layer is
    /// read whole on any change in it, so it should hold the charts and small files only, and layers cost little here (the
    /// image already has one per app image blob, thousands at the seed's scale).</summary>
    public const long OwnLayerBytes = 1 << 20;

    /// <summary>In a layer of its own, a file this big is a gzip member by itself (one changed package in a folder of them
    /// is compressed again, not the folder); smaller ones between them share members.</summary>
    public const long OwnMemberBytes = 1 << 20;

    /// <summary>The layout of the stamp; a change to it (or to what a layer's bytes depend on) changes every stamp.</summary>
    private const string StampVersion = "sealer-sdk rootfs layer stamp v1";

    /// <summary>One rootfs layer's entries (in rootfs order), with each file's size and modification time (UTC ticks; a
    /// missing file has size -1: writing it reports it). <see cref="Group"/> is null for the shared layer.</summary>
    public sealed record Part(string? Group, List<RootfsEntry> Entries, List<(long Size, long Time)> Stats)
    {
        public long Bytes => Stats.Sum(s => Math.Max(0, s.Size));
    }

    /// <summary>Cuts <paramref name="rootfs"/> (sorted) into the groups of their own, by group name, then the shared part
    /// (left out when empty and there are others; an empty rootfs is one empty layer, as before there were several).</summary>
    public static List<Part> Split(IReadOnlyList<RootfsEntry> rootfs)
    {
        var groups = new Dictionary<string, Part>(StringComparer.Ordinal);
        var order = new List<(RootfsEntry Entry, string Group, (long, long) Stat)>(rootfs.Count);
        foreach (var e in rootfs)
        {
            string g = GzipMembers.GroupOf(e.Destination);
            var stat = StatOf(e);
            order.Add((e, g, stat));
            if (!groups.TryGetValue(g, out var part)) groups[g] = part = new Part(g, [], []);
            part.Entries.Add(e);
            part.Stats.Add(stat);
        }
        var own = groups.Values.Where(p => p.Bytes >= OwnLayerBytes).OrderBy(p => p.Group, StringComparer.Ordinal).ToList();
        var ownNames = own.Select(p => p.Group!).ToHashSet(StringComparer.Ordinal);
        var shared = new Part(null, [], []);
        foreach (var (e, g, stat) in order)
        {
            if (ownNames.Contains(g)) continue;
            shared.Entries.Add(e);
            shared.Stats.Add(stat);
        }
        if (shared.Entries.Count > 0 || own.Count == 0) own.Add(shared);
        return own;
    }

    private static (long Size, long Time) StatOf(RootfsEntry e)
    {
        if (e.Content is not null) return (e.Content.Length, 0);
        var info = new FileInfo(e.SourcePath!);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc.Ticks) : (-1, 0);
    }

    /// <summary>
    /// What a layer of its own's bytes are made from, without reading its files: the stamp's version, the compressor, the
    /// tar's time, and per entry its rootfs path, executable bit, and source (full path, size and modification time; or
    /// the SHA-256 of content given in memory). A file rewritten with the same size and its old time kept is not seen,
    /// as by MSBuild's and make's up-to-date checks; <c>dotnet build --no-incremental</c> reads everything.
    /// </summary>
    public static string Stamp(Part part, Func<RootfsEntry, bool> executable, long sourceDateEpoch)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var line = new StringBuilder();
        line.Append(StampVersion).Append('\n').Append(GzipMembers.Compressor).Append('\n').Append(sourceDateEpoch).Append('\n');
        for (int i = 0; i < part.Entries.Count; i++)
        {
            var e = part.Entries[i];
            var (size, time) = part.Stats[i];
            line.Append(e.Destination).Append('\0').Append(executable(e) ? 'x' : '-').Append('\0');
            if (e.Content is not null) line.Append("content:").Append(Convert.ToHexStringLower(SHA256.HashData(e.Content)));
            else line.Append("file:").Append(Path.GetFullPath(e.SourcePath!)).Append('\0').Append(size).Append('\0').Append(time);
            line.Append('\n');
            if (line.Length > 64 << 10)
            {
                hash.AppendData(Encoding.UTF8.GetBytes(line.ToString()));
                line.Clear();
            }
        }
        hash.AppendData(Encoding.UTF8.GetBytes(line.ToString()));
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }
}
