using Sealer.Core.ClusterImage;

namespace Sealer.Core.Build;

/// <summary>
/// Where Sealer's lite build looks for images in the rootfs it built (build/buildimage/differ.go): YAML under
/// <c>manifests/</c>, the image list <c>manifests/imageList</c>, chart directories (Chart.yaml, values.yaml and
/// templates/) under <c>charts/</c> and <c>application/apps/&lt;app&gt;/</c>, and YAML of non-chart apps. Packaged charts
/// (<c>.tgz</c>) are not rendered by Sealer there, nor here. <c>*.tmpl</c> files are rendered at install time with the
/// site's env, so they are not scanned (list their images in an image list).
/// </summary>
public static class RootfsScan
{
    public sealed record Result(IReadOnlyList<string> Manifests, IReadOnlyList<string> ImageLists, IReadOnlyList<string> Charts);

    public static Result Sources(IEnumerable<RootfsEntry> entries)
    {
        var list = entries.Where(e => e.SourcePath is not null).ToList();
        var byDest = list.GroupBy(e => e.Destination.TrimStart('.', '/'), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().SourcePath!, StringComparer.Ordinal);
        // Chart directories: a destination directory holding Chart.yaml, values.yaml and something under templates/.
        var chartDirs = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var dest in byDest.Keys.Where(d => d.EndsWith("/Chart.yaml", StringComparison.Ordinal) || d == "Chart.yaml"))
        {
            string dir = dest.Length > "Chart.yaml".Length ? dest[..^"/Chart.yaml".Length] : "";
            if (!(dir.StartsWith("charts/", StringComparison.Ordinal) || dir.StartsWith("application/apps/", StringComparison.Ordinal))) continue;
            string prefix = dir + "/";
            if (!byDest.ContainsKey(prefix + "values.yaml") || !byDest.Keys.Any(k => k.StartsWith(prefix + "templates/", StringComparison.Ordinal))) continue;
            if (chartDirs.Any(c => prefix.StartsWith(c + "/", StringComparison.Ordinal))) continue; // Sealer skips a chart's subcharts (SkipDir)
            chartDirs.Add(dir);
        }
        var charts = chartDirs.Select(d => Path.GetDirectoryName(byDest[d + "/Chart.yaml"])!).Distinct(StringComparer.Ordinal).ToList();
        bool InChart(string dest) => chartDirs.Any(c => dest.StartsWith(c + "/", StringComparison.Ordinal));
        static bool IsYaml(string d) => d.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || d.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        var manifests = byDest
            .Where(kv => IsYaml(kv.Key) && !InChart(kv.Key) && (kv.Key.StartsWith("manifests/", StringComparison.Ordinal) || kv.Key.StartsWith("application/apps/", StringComparison.Ordinal)))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value).Distinct(StringComparer.Ordinal).ToList();
        var imageLists = byDest.TryGetValue("manifests/imageList", out var il) ? new List<string> { il } : [];
        return new Result(manifests, imageLists, charts);
    }
}
