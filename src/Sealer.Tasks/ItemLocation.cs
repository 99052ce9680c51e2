using System.Collections.Concurrent;
using Microsoft.Build.Framework;

namespace Sealer.Tasks;

/// <summary>
/// MSBuild tells a task which project defined an item (<c>DefiningProjectFullPath</c>, or <c>SealerDefiningProject</c> when
/// ResolveHelmCharts handed it on) but not the line. We find the
/// line by looking for the item's Include text in that file (the first line naming it), so errors point at the item.
/// </summary>
internal static class ItemLocation
{
    /// <summary>Project files read, with the size and time they were read at: a node MSBuild reuses (an IDE, the MSBuild
    /// server) keeps this across builds, and an edited project is read again, or its errors would name old lines.</summary>
    private static readonly ConcurrentDictionary<string, ProjectText> Files = new(StringComparer.Ordinal);

    /// <summary>A project file's lines and the size and time they were read at (a class: no generic code JIT-compiled for it).</summary>
    private sealed record ProjectText(long Size, long Time, string[] Lines);

    public static (string? File, int Line) Of(ITaskItem item, params string[] candidates)
    {
        // Items ResolveHelmCharts handed on from its previous run are defined in its file in obj/: the project is in SealerDefiningProject.
        string file = item.GetMetadata(ResolveHelmCharts.DefiningProjectMetadata) is { Length: > 0 } definer ? definer : item.GetMetadata("DefiningProjectFullPath");
        if (string.IsNullOrEmpty(file)) return (null, 0);
        var info = new FileInfo(file);
        if (!info.Exists) return (null, 0);
        long size = info.Length, time = info.LastWriteTimeUtc.Ticks;
        if (!Files.TryGetValue(file, out var read) || read.Size != size || read.Time != time)
        {
            string[] text;
            try { text = File.ReadAllLines(file); }
            catch (IOException) { text = []; }
            Files[file] = read = new ProjectText(size, time, text);
        }
        string[] lines = read.Lines;
        var names = candidates.Concat([item.GetMetadata("SealerInclude"), item.ItemSpec]).Where(s => !string.IsNullOrEmpty(s)).ToList();
        foreach (var name in names)
        {
            string quoted = $"\"{name}\"";
            for (int i = 0; i < lines.Length; i++)
            {
                if (lines[i].Contains(quoted, StringComparison.Ordinal)) return (file, i + 1);
            }
        }
        foreach (var name in names)
        {
            for (int i = 0; i < lines.Length; i++)
            {
                if (lines[i].Contains(name, StringComparison.Ordinal)) return (file, i + 1);
            }
        }
        return (file, 0);
    }

    /// <summary>Splits a <c>;</c>-list metadata value, dropping empties.</summary>
    public static string[] List(ITaskItem item, string metadata)
        => item.GetMetadata(metadata).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Parses <c>k=v;k2=v2</c> (a value may hold '=').</summary>
    public static List<KeyValuePair<string, string>> Pairs(ITaskItem item, string metadata)
        => List(item, metadata).Select(p =>
        {
            int eq = p.IndexOf('=');
            return eq < 0 ? new KeyValuePair<string, string>(p, "") : new(p[..eq], p[(eq + 1)..]);
        }).ToList();
}
