using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;
using YamlDotNet.RepresentationModel;
using Sealer.Core.Yaml;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>An Application config file, to write into (or merge with) a file under the app's directory.</summary>
internal sealed record AppFileOverride(string App, AppFileSpec File)
{
    private string Direct => $"application/apps/{App}/{File.Path}";

    public bool Matches(string p) => p == Direct || Nested(p);

    // the SDK (like Sealer's APP name local://dir) may keep each source under application/apps/NAME/LEAF/
    private bool Nested(string p) => p.StartsWith($"application/apps/{App}/", StringComparison.Ordinal) && p.EndsWith("/" + File.Path, StringComparison.Ordinal)
        && p.Length - $"application/apps/{App}/".Length - File.Path.Length - 1 is > 0 and var leafLength && !p.AsSpan($"application/apps/{App}/".Length, leafLength).Contains('/');

    /// <summary>The rootfs paths this file goes to: the app's own file, else the file in each leaf directory; a merge needs one of them.</summary>
    public IReadOnlyList<string> Targets(IReadOnlyList<string> existing)
    {
        if (existing.Contains(Direct)) return [Direct];
        var nested = existing.Where(Nested).Order(StringComparer.Ordinal).ToList();
        if (nested.Count > 0) return nested;
        if (File.Strategy == "merge")
        {
            throw new SealerException(ErrorCodes.ClusterfileBadConfig,
                $"App '{App}': '{File.Path}' (strategy: merge) is not in the cluster image (no {Direct}). Fix the path (relative to the app's directory) or use strategy: overwrite.",
                File.Location.File, File.Location.Line, File.Location.Column);
        }
        return [Direct];
    }
}

/// <summary>Sealer's Application config <c>files</c>: which files of the image they replace or merge into, and the result. Pure.</summary>
internal static class AppFileMerger
{
    /// <summary>The config files of the launched apps (configs of apps not launched are ignored).</summary>
    public static List<AppFileOverride> Overrides(ClusterfileDocument doc, LaunchPlan? plan) =>
        (doc.Applications.LastOrDefault()?.Configs ?? []).Where(c => LaunchPlanner.ConfigOf(doc, plan, c.Name) is not null)
            .SelectMany(c => c.Files.Select(f => new AppFileOverride(c.Name, f))).ToList();

    /// <summary>Sealer's app file strategies: overwrite, or merge (every YAML document of the file deep-merged with the data, data wins).</summary>
    public static string Apply(AppFileOverride a, string? existing, string path)
    {
        if (a.File.Strategy == "overwrite" || existing is null) return a.File.Data;
        try
        {
            var over = new YamlStream();
            over.Load(new SafeParser(a.File.Data));
            if (over.Documents.Count != 1 || over.Documents[0].RootNode is not YamlMappingNode o)
            {
                throw new SealerException(ErrorCodes.ClusterfileBadConfig, $"App '{a.App}': the data to merge into {a.File.Path} is not one YAML mapping. Use strategy: overwrite for other content.",
                    a.File.Location.File, a.File.Location.Line, a.File.Location.Column);
            }
            var target = new YamlStream();
            target.Load(new SafeParser(existing));
            var parts = new List<string>();
            foreach (var d in target.Documents)
            {
                if (d.RootNode is not YamlMappingNode m)
                {
                    throw new SealerException(ErrorCodes.ClusterfileBadConfig, $"App '{a.App}': {path} in the image holds a YAML document that is not a mapping; it cannot be merged. Use strategy: overwrite.",
                        a.File.Location.File, a.File.Location.Line, a.File.Location.Column);
                }
                ConfigMerge.DeepMerge(m, o);
                var w = new StringWriter();
                new YamlStream(d).Save(w, assignAnchors: false);
                string text = w.ToString();
                parts.Add(text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text);
            }
            if (parts.Count == 0) return a.File.Data;
            return string.Join("---\n", parts);
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new SealerException(ErrorCodes.ClusterfileBadConfig, $"App '{a.App}': cannot merge into {path}: {ex.Message}. Use strategy: overwrite.", a.File.Location.File, a.File.Location.Line, inner: ex);
        }
    }
}
