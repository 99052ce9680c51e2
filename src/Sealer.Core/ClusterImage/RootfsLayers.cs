using System.Security.Cryptography;
using System.Text;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// How the project's rootfs is cut into layers. A group of entries (<see cref="GzipMembers.GroupOf"/>: a chart, a folder
/// of files, an app) of <see cref="OwnLayerBytes"/> or more gets a layer of its own; the rest (the small groups: charts,
/// manifests, small folders) share the last layers, <see cref="SharedSlots"/> of them, each small group in the one its
/// name's hash picks (<see cref="SlotOf"/>). Every layer is stamped with its files' sizes and modification times (as
/// MSBuild and make judge inputs) and the rest of what its bytes depend on (<see cref="Stamp"/>): a rebuild whose stamp is
/// the last build's takes that layer and its diff ID from the layer map without reading a byte of it, so a one-chart edit
/// costs that chart's shared layer, not the 100s of MiB of files beside it nor the other charts. A layer whose stamp
/// changed is read whole (its diff ID is the SHA-256 of its whole tar), its unchanged members copied, not compressed again
/// (<see cref="GzipMembers"/>): that is why the small groups are spread over several layers once there are many of them,
/// and why a delta after a chart edit carries about 1/<see cref="SharedSlots"/> of the charts, not all of them.
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
    private const string StampVersion = "sealer-sdk rootfs layer stamp v2";

    /// <summary>Small groups per shared layer, about (<see cref="SharedSlots"/>): below twice this many there is one.</summary>
    public const int GroupsPerSlot = 16;

    /// <summary>The most shared layers (a chart edit then reads about 1/64 of the small groups).</summary>
    public const int MaxSlots = 64;

    /// <summary>One rootfs layer's entries (in rootfs order), with each file's size, modification time (UTC ticks; a
    /// missing file has size -1: writing it reports it) and Unix mode (null for content, a missing file, or on Windows),
    /// all from one stat. <see cref="Group"/> is null for a shared layer, which is <see cref="Slot"/> of
    /// <see cref="Slots"/> (0 of 1 when there is one).</summary>
    public sealed record Part(string? Group, List<RootfsEntry> Entries, List<FileStat> Stats, int Slot = 0, int Slots = 1)
    {
        public long Bytes => Stats.Sum(s => Math.Max(0, s.Size));

        /// <summary>How logs and the layer map name it: the folder, "the rest", or "the rest, part 3 of 16".</summary>
        public string Name => Group is { } g ? $"{g}/" : Slots == 1 ? "the rest" : $"the rest, part {Slot + 1} of {Slots}";
    }

    /// <summary>How many shared layers <paramref name="smallGroups"/> small groups are spread over: a power of two, about
    /// <see cref="GroupsPerSlot"/> groups each, at most <see cref="MaxSlots"/>. A function of the group count only (not of
    /// bytes, which every edit changes), so it moves when charts or folders are added or removed, never on an edit; and the
    /// image stays a function of its inputs (no build history in it).</summary>
    public static int SharedSlots(int smallGroups)
    {
        int slots = 1;
        while (slots < MaxSlots && smallGroups >= slots * 2 * GroupsPerSlot) slots *= 2;
        return slots;
    }

    /// <summary>The shared layer a small group goes to: the SHA-256 of its name, mod <paramref name="slots"/> (a power of
    /// two), so adding or removing a chart moves no other.</summary>
    public static int SlotOf(string group, int slots)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(group), hash);
        return (int)(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(hash) & (uint)(slots - 1));
    }

    /// <summary>Cuts <paramref name="rootfs"/> (sorted) into the groups of their own, by group name, then the shared parts
    /// in slot order (empty ones left out; an empty rootfs is one empty layer, as before there were several).</summary>
    public static List<Part> Split(IReadOnlyList<RootfsEntry> rootfs)
    {
        var groups = new Dictionary<string, Group>(StringComparer.Ordinal);
        var groupOf = new Group[rootfs.Count];
        var stats = new FileStat[rootfs.Count];
        for (int i = 0; i < rootfs.Count; i++)
        {
            string name = GzipMembers.GroupOf(rootfs[i].Destination);
            if (!groups.TryGetValue(name, out var g)) groups[name] = g = new Group(name);
            var stat = stats[i] = StatOf(rootfs[i]);
            g.Entries.Add(rootfs[i]);
            g.Stats.Add(stat);
            g.Bytes += Math.Max(0, stat.Size);
            groupOf[i] = g;
        }
        var own = groups.Values.Where(g => g.Own).OrderBy(g => g.Name, StringComparer.Ordinal).ToList();
        var layers = own.Select(g => new Part(g.Name, g.Entries, g.Stats)).ToList();
        int slots = SharedSlots(groups.Count - own.Count);
        var shared = Enumerable.Range(0, slots).Select(i => new Part(null, [], [], i, slots)).ToArray();
        for (int i = 0; i < rootfs.Count; i++)
        {
            var g = groupOf[i];
            if (g.Own) continue;
            if (g.Slot < 0) g.Slot = slots == 1 ? 0 : SlotOf(g.Name, slots);
            shared[g.Slot].Entries.Add(rootfs[i]);
            shared[g.Slot].Stats.Add(stats[i]);
        }
        layers.AddRange(shared.Where(p => p.Entries.Count > 0));
        if (layers.Count == 0) layers.Add(shared[0]);
        return layers;
    }

    /// <summary>A group's entries while <see cref="Split"/> cuts (a class: see <see cref="FileStat"/>).</summary>
    private sealed class Group(string name)
    {
        public string Name { get; } = name;
        public List<RootfsEntry> Entries { get; } = [];
        public List<FileStat> Stats { get; } = [];
        public long Bytes { get; set; }
        /// <summary>A layer of its own (<see cref="OwnLayerBytes"/> or more), else in a shared one.</summary>
        public bool Own => Bytes >= OwnLayerBytes;
        /// <summary>Its shared layer, once asked (-1 before).</summary>
        public int Slot { get; set; } = -1;
    }

    /// <summary>A rootfs file's size, modification time and Unix mode (see <see cref="Part"/>). A class: lists of it use
    /// the runtime's precompiled generic code, where a struct's are JIT-compiled in each build.</summary>
    public sealed record FileStat(long Size, long Time, UnixFileMode? Mode = null);

    private static FileStat StatOf(RootfsEntry e)
    {
        if (e.Content is not null) return new(e.Content.Length, 0);
        var info = new FileInfo(e.SourcePath!); // one stat: the length, time and mode below come from it
        if (!info.Exists) return new(-1, 0);
        return new(info.Length, info.LastWriteTimeUtc.Ticks, OperatingSystem.IsWindows() ? null : info.UnixFileMode);
    }

    /// <summary>Each entry's executable bit (<see cref="RootfsFileModes"/>), asked once per build for the stamp and the
    /// tar: from the stat <see cref="Split"/> made, not another. A missing file's is false (writing it reports it).</summary>
    public static bool[] Executable(Part part, RootfsFileModes modes)
        => [.. part.Entries.Select((e, i) => part.Stats[i].Size >= 0 && modes.IsExecutable(e, part.Stats[i].Mode))];

    /// <summary>
    /// What a rootfs layer's bytes are made from, without reading its files: the stamp's version, the compressor, the
    /// tar's time, whether it is a layer of its own or a shared one (they are cut into gzip members differently), and per
    /// entry its rootfs path, executable bit, and source (full path, size and modification time; or the SHA-256 of
    /// content given in memory). A file rewritten with the same size and its old time kept is not seen,
    /// as by MSBuild's and make's up-to-date checks; <c>dotnet build --no-incremental</c> reads everything. Null when a
    /// file is missing (writing the layer reports it, with the item that named it).
    /// </summary>
    public static string? Stamp(Part part, IReadOnlyList<bool> executable, long sourceDateEpoch)
    {
        if (part.Stats.Any(s => s.Size < 0)) return null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var line = new StringBuilder();
        line.Append(StampVersion).Append('\n').Append(GzipMembers.Compressor).Append('\n').Append(sourceDateEpoch).Append('\n')
            .Append(part.Group is null ? "shared" : "own").Append('\n');
        for (int i = 0; i < part.Entries.Count; i++)
        {
            var e = part.Entries[i];
            var (size, time, _) = part.Stats[i];
            line.Append(e.Destination).Append('\0').Append(executable[i] ? 'x' : '-').Append('\0');
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
