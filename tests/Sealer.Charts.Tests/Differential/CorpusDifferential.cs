using System.Collections.Concurrent;
using System.Text;
using Sealer.Charts.Tests.Support;
using Sealer.Core.Charts;
using Sealer.Core.Discovery;
using Sealer.Core.References;
using Sealer.Core.Yaml;

namespace Sealer.Charts.Tests.Differential;

/// <summary>The outcome for one chart and one values scenario.</summary>
public sealed record ChartComparison(
    string Chart,
    string Scenario,
    bool HelmOk,
    bool OursOk,
    bool ObjectsEqual,
    bool ImagesEqual,
    int HelmObjects,
    int OurObjects,
    SortedSet<string> HelmImages,
    SortedSet<string> OurImages,
    string Detail,
    string? OurErrorCode = null)
{
    /// <summary>Both failed (e.g. the chart needs a value) or both rendered the same objects.</summary>
    /// <summary>Both rendered the same objects and images, or helm failed on a template error (fail/required) and so did
    /// Sealer, with the coded error that names the value to set.</summary>
    public bool Agree => !Detail.StartsWith("harness:", StringComparison.Ordinal)
        && ((!HelmOk && !OursOk && OurErrorCode == Sealer.Core.Diagnostics.ErrorCodes.ChartRequiresValue) || (HelmOk && OursOk && ObjectsEqual && ImagesEqual));
}

/// <summary>
/// The differential harness: renders every corpus chart with the real <c>helm template</c> (helm 3; helm 4 for agreement)
/// and with Sealer, then compares the rendered objects one by one (parsed as YAML, compared structurally, grouped by the
/// template they came from) and the image sets. Helm output is cached (see <see cref="HelmOracle"/>).
/// </summary>
public static class CorpusDifferential
{
    public const string OverrideRegistry = "mirror.example.com";
    public const string OverrideTag = "v9.9.9";

    public static IReadOnlyList<string> Charts()
        => Directory.EnumerateDirectories(HelmOracle.CorpusDir)
            .Where(d => File.Exists(Path.Combine(d, "Chart.yaml")))
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)
            .ToList()!;

    public static IReadOnlyList<string> Scenarios => ["default", "override"];

    private static readonly ConcurrentDictionary<(string, string, string), ChartComparison> Cache = new();

    public static ChartComparison Compare(string chart, string scenario, string helm = "helm3")
        => Cache.GetOrAdd((chart, scenario, helm), k => CompareCore(k.Item1, k.Item2, k.Item3));

    /// <summary>Runs every chart × scenario (in parallel: helm runs are processes, ours in-process) and returns the results.</summary>
    public static List<ChartComparison> CompareAll(string helm = "helm3", IReadOnlyList<string>? scenarios = null)
    {
        var work = Charts().SelectMany(c => (scenarios ?? Scenarios).Select(s => (c, s))).ToList();
        var results = new ConcurrentBag<ChartComparison>();
        Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) }, w => results.Add(Compare(w.c, w.s, helm)));
        return results.OrderBy(r => r.Chart, StringComparer.Ordinal).ThenBy(r => r.Scenario, StringComparer.Ordinal).ToList();
    }

    /// <summary>helm validates values.schema.json; Sealer (like discovery tools generally) ignores schemas, so helm skips them too.</summary>
    public static readonly string[] HelmArgs = ["--skip-schema-validation"];

    /// <summary>"default": the chart's own values (charts that need a value fail in both, which checks the error path).
    /// "override": corpus/_values/CHART.yaml (values the chart requires) then the generated registry/tag override.</summary>
    public static string[] ValuesFiles(string chart, string scenario)
    {
        if (scenario != "override") return [];
        string required = Path.Combine(HelmOracle.CorpusDir, "_values", chart + ".yaml");
        return File.Exists(required) ? [required, OverrideValuesFile(chart)] : [OverrideValuesFile(chart)];
    }

    private static ChartComparison CompareCore(string chart, string scenario, string helm)
    {
        try
        {
            return CompareUnchecked(chart, scenario, helm);
        }
        catch (Exception ex)
        {
            return new ChartComparison(chart, scenario, false, false, false, false, 0, 0, [], [], "harness: " + ex.GetType().Name + ": " + FirstLine(ex.Message));
        }
    }

    /// <summary>Lines of corpus/known-differences.txt: "&lt;kind&gt; &lt;chart&gt; [&lt;scenario&gt;]  # reason".</summary>
    public static List<string[]> KnownDifferences()
    {
        var file = Path.Combine(HelmOracle.CorpusDir, "known-differences.txt");
        if (!File.Exists(file)) return [];
        return File.ReadAllLines(file)
            .Select(l => l.Split('#', 2)[0].Trim())
            .Where(l => l.Length > 0)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToList();
    }

    /// <summary>Charts whose rendering crashes the process (a stack overflow cannot be caught): not rendered in-process;
    /// a separate test checks, in a child process, that they still crash.</summary>
    public static HashSet<string> CrashingCharts()
        => KnownDifferences().Where(p => p.Length >= 2 && p[0] == "crash").Select(p => p[1]).ToHashSet(StringComparer.Ordinal);

    private static ChartComparison CompareUnchecked(string chart, string scenario, string helm)
    {
        string dir = Path.Combine(HelmOracle.CorpusDir, chart);
        bool crashes = CrashingCharts().Contains(chart);
        var valuesFiles = ValuesFiles(chart, scenario);
        var helmResult = HelmOracle.Template(helm, dir, valuesFiles, HelmArgs);
        Dictionary<string, List<object?>>? helmDocs = null, helmDocs2 = null;
        SortedSet<string> helmImages = [];
        string detail = "";
        if (helmResult.ExitCode == 0)
        {
            (helmDocs, helmImages) = MaskedCompare.FromHelmOutput(helmResult.StdOut);
            var second = HelmOracle.Template(helm, dir, valuesFiles, HelmArgs, run: 2);
            helmDocs2 = second.ExitCode == 0 ? MaskedCompare.FromHelmOutput(second.StdOut).Objects : helmDocs;
        }
        else
        {
            detail = "helm: " + FirstLine(helmResult.StdErr);
        }

        Dictionary<string, List<object?>>? ourDocs = null;
        SortedSet<string> ourImages = [];
        string? ourCode = null;
        try
        {
            if (crashes) throw new InvalidOperationException("rendering crashes the process (listed as crash in known-differences.txt)");
            var rendered = ChartRenderer.Render(new ChartInput { Path = dir, ValuesFiles = [.. valuesFiles] });
            var docs = new List<(string, object?)>();
            foreach (var t in rendered.Templates)
            {
                foreach (var doc in ManifestDocuments.SplitLikeHelm(t.Text))
                {
                    var node = ManifestDocuments.ParseDocument(doc, t.SourceFile);
                    docs.Add((t.Key, YamlReader.ToValue(node)));
                    foreach (var img in ImageWalker.Walk(node)) ourImages.Add(MaskedCompare.Normalize(img.Value));
                }
            }
            ourDocs = MaskedCompare.Group(docs);
        }
        catch (Exception ex)
        {
            ourCode = (ex as Sealer.Core.Diagnostics.SealerException)?.Code;
            detail += (detail.Length > 0 ? "; " : "") + "ours: " + FirstLine(ex is Sealer.Core.Diagnostics.SealerException se ? se.ToDiagnosticString() : ex.GetType().Name + ": " + ex.Message);
        }

        bool objectsEqual = false, imagesEqual = false;
        if (helmDocs is not null && ourDocs is not null)
        {
            imagesEqual = helmImages.SetEquals(ourImages);
            var diff = MaskedCompare.Compare(ourDocs, helmDocs, helmDocs2!, out int differing);
            objectsEqual = diff is null;
            if (!objectsEqual) detail = $"{differing} template(s) differ, first: {diff}";
            if (!imagesEqual)
            {
                detail += $" | images only in helm: [{string.Join(", ", helmImages.Except(ourImages))}] only in ours: [{string.Join(", ", ourImages.Except(helmImages))}]";
            }
        }
        return new ChartComparison(chart, scenario, helmDocs is not null, ourDocs is not null, objectsEqual, imagesEqual,
            helmDocs?.Values.Sum(v => v.Count) ?? 0, ourDocs?.Values.Sum(v => v.Count) ?? 0, helmImages, ourImages, detail, ourCode);
    }

    private static string FirstLine(string s)
    {
        s = s.Trim();
        int nl = s.IndexOf('\n');
        string line = nl < 0 ? s : s[..nl];
        return line.Length > 300 ? line[..300] + "…" : line;
    }

    /// <summary>
    /// A values file that moves every image to another registry and tag: for each map in the chart's values.yaml with a
    /// <c>repository</c>, <c>tag</c> becomes <see cref="OverrideTag"/> and <c>registry</c> (when present) becomes
    /// <see cref="OverrideRegistry"/>; <c>imageRegistry</c> keys (bitnami's global) too. Written under artifacts/.
    /// </summary>
    public static string OverrideValuesFile(string chart)
    {
        string dir = Path.Combine(HelmOracle.RepoRoot, "artifacts", "differential", "values");
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, chart + ".yaml");
        var values = HelmYaml.ParseValues(File.ReadAllText(Path.Combine(HelmOracle.CorpusDir, chart, "values.yaml")), "values.yaml");
        var sb = new StringBuilder("# generated by CorpusDifferential: registries and tags moved\n");
        var overrides = new Dictionary<string, object?>(StringComparer.Ordinal);
        Collect(values, [], overrides);
        WriteYaml(sb, overrides, 0);
        string text = sb.ToString();
        if (!File.Exists(file) || File.ReadAllText(file) != text)
        {
            File.WriteAllText(file + ".tmp", text);
            File.Move(file + ".tmp", file, overwrite: true);
        }
        return file;
    }

    private static void Collect(Dictionary<string, object?> m, List<string> path, Dictionary<string, object?> outRoot)
    {
        if (path.Count > 12) return;
        bool isImage = m.TryGetValue("repository", out var repo) && repo is string;
        foreach (var (k, v) in m)
        {
            if (isImage && k == "tag" && v is string or null or double) Set(outRoot, path, k, OverrideTag);
            else if (isImage && k == "registry" && v is string or null) Set(outRoot, path, k, OverrideRegistry);
            else if (k == "imageRegistry" && v is string) Set(outRoot, path, k, OverrideRegistry);
            else if (v is Dictionary<string, object?> sub) Collect(sub, [.. path, k], outRoot);
        }
    }

    private static void Set(Dictionary<string, object?> root, List<string> path, string key, object value)
    {
        var cur = root;
        foreach (var p in path)
        {
            if (cur.GetValueOrDefault(p) is not Dictionary<string, object?> next) cur[p] = next = new(StringComparer.Ordinal);
            cur = next;
        }
        cur[key] = value;
    }

    private static void WriteYaml(StringBuilder sb, Dictionary<string, object?> m, int indent)
    {
        foreach (var (k, v) in m.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.Append(' ', indent).Append('"').Append(k.Replace("\"", "\\\"")).Append("\":");
            if (v is Dictionary<string, object?> sub)
            {
                sb.Append('\n');
                WriteYaml(sb, sub, indent + 2);
            }
            else
            {
                sb.Append(" \"").Append(v).Append("\"\n");
            }
        }
    }

    /// <summary>A markdown report of the comparison, written to artifacts/differential/report-&lt;helm&gt;.md.</summary>
    public static string Report(IReadOnlyList<ChartComparison> results, string helm)
    {
        var sb = new StringBuilder();
        int charts = results.Select(r => r.Chart).Distinct().Count();
        sb.AppendLine($"# Differential: Sealer vs {helm} template ({charts} charts, {results.Count} chart×values runs)");
        foreach (var scenario in results.Select(r => r.Scenario).Distinct())
        {
            var s = results.Where(r => r.Scenario == scenario).ToList();
            sb.AppendLine($"- {scenario}: objects equal {s.Count(r => r.HelmOk && r.OursOk && r.ObjectsEqual)}/{s.Count(r => r.HelmOk)} charts helm renders; " +
                $"image sets equal {s.Count(r => r.HelmOk && r.OursOk && r.ImagesEqual)}/{s.Count(r => r.HelmOk)}; both failed {s.Count(r => !r.HelmOk && !r.OursOk)}; " +
                $"only helm failed {s.Count(r => !r.HelmOk && r.OursOk)}; only ours failed {s.Count(r => r.HelmOk && !r.OursOk)}");
        }
        sb.AppendLine();
        sb.AppendLine("| chart | values | helm | ours | objects | images | detail |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            sb.AppendLine($"| {r.Chart} | {r.Scenario} | {(r.HelmOk ? r.HelmObjects + " objs" : "fail")} | {(r.OursOk ? r.OurObjects + " objs" : "fail")} | " +
                $"{(r.HelmOk && r.OursOk ? (r.ObjectsEqual ? "equal" : "DIFF") : "-")} | {(r.HelmOk && r.OursOk ? (r.ImagesEqual ? $"equal ({r.HelmImages.Count})" : "DIFF") : "-")} | {r.Detail.Replace("|", "\\|").Replace("\n", " ")} |");
        }
        string dir = Path.Combine(HelmOracle.RepoRoot, "artifacts", "differential");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, $"report-{helm}.md"), sb.ToString());
        return sb.ToString();
    }
}
