using Sealer.Core.Charts;
using Xunit.Abstractions;

namespace Sealer.Charts.Tests.Differential;

/// <summary>
/// Sealer vs the real helm on the vendored corpus (default values, and values moving every image to another registry/tag).
/// Disagreements must be listed in corpus/known-differences.txt with a reason; the list is a ratchet: a new
/// disagreement fails, and so does a listed chart that now agrees (remove it from the list).
/// </summary>
public class CorpusDifferentialTests(ITestOutputHelper output)
{
    private static HashSet<string> Known(string kind)
        => CorpusDifferential.KnownDifferences().Where(p => p.Length >= 3 && p[0] == kind).Select(p => p[1] + " " + p[2]).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Charts whose rendering crashes the process are listed as <c>crash &lt;chart&gt;</c> and rendered only in a child
    /// <c>sealer find-images</c>: each must still crash there. So that the check can tell a crash from a clean exit, a
    /// control chart that is not listed is run the same way and must not crash (a listed chart that no longer crashes
    /// fails the same assertion).
    /// </summary>
    [Fact]
    public void Charts_listed_as_crashing_still_crash_and_an_unlisted_chart_does_not()
    {
        var listed = CorpusDifferential.CrashingCharts();
        var corpus = CorpusDifferential.Charts();
        Assert.All(listed, c => Assert.True(corpus.Contains(c), $"'crash {c}' in corpus/known-differences.txt names no chart of the corpus"));
        string control = corpus.Where(c => !listed.Contains(c))
            .OrderBy(c => Directory.EnumerateFiles(Path.Combine(HelmOracle.CorpusDir, c), "*", SearchOption.AllDirectories).Count()).ThenBy(c => c, StringComparer.Ordinal)
            .First();
        foreach (var chart in listed.Order(StringComparer.Ordinal).Append(control))
        {
            var r = SealerCli.Run("find-images", Path.Combine(HelmOracle.CorpusDir, chart));
            output.WriteLine($"{chart}: exit {r.ExitCode} {r.StdErr.Trim().Split('\n')[0]}");
            bool crashed = r.ExitCode is not (0 or 1);
            if (listed.Contains(chart)) Assert.True(crashed, $"{chart} no longer crashes (exit {r.ExitCode}): remove its 'crash' line from corpus/known-differences.txt");
            else Assert.False(crashed, $"{chart} (not listed) crashed sealer find-images (exit {r.ExitCode}): {r.StdErr.Trim().Split('\n')[0]}");
        }
    }

    [Fact]
    public void Every_known_difference_names_an_oracle_a_corpus_chart_and_a_scenario()
    {
        var corpus = CorpusDifferential.Charts().ToHashSet(StringComparer.Ordinal);
        var lines = CorpusDifferential.KnownDifferences();
        Assert.All(lines, p =>
        {
            string line = string.Join(' ', p);
            Assert.True(p[0] is "helm3" or "helm4" or "crash", $"'{line}': the first word must be helm3, helm4 or crash");
            Assert.True(p.Length >= 2 && corpus.Contains(p[1]), $"'{line}' names no chart of the corpus");
            if (p[0] != "crash") Assert.True(p.Length == 3 && CorpusDifferential.Scenarios.Contains(p[2]), $"'{line}': the scenario must be one of {string.Join(", ", CorpusDifferential.Scenarios)}");
        });
    }

    [Fact]
    public void Corpus_holds_at_least_40_real_charts_each_with_its_license()
    {
        var charts = CorpusDifferential.Charts();
        Assert.True(charts.Count >= 40, $"only {charts.Count} charts in the corpus");
        foreach (var c in charts)
        {
            string dir = Path.Combine(HelmOracle.CorpusDir, c);
            Assert.True(File.Exists(Path.Combine(dir, "LICENSE")) || File.Exists(Path.Combine(dir, "LICENSE.md")), $"{c} has no LICENSE");
            var chart = ChartLoader.Load(dir);
            ChartRenderer.CheckDependencies(chart); // every declared dependency is vendored: rendering is offline
        }
    }

    [Fact]
    public void Sealer_renders_the_corpus_like_helm3()
    {
        var results = CorpusDifferential.CompareAll("helm3");
        output.WriteLine(CorpusDifferential.Report(results, "helm3"));
        var disagree = results.Where(r => !r.Agree).Select(r => r.Chart + " " + r.Scenario).ToHashSet(StringComparer.Ordinal);
        var known = Known("helm3");
        var unexpected = disagree.Except(known).Order(StringComparer.Ordinal).ToList();
        var stale = known.Except(disagree).Order(StringComparer.Ordinal).ToList();
        Assert.True(unexpected.Count == 0, "new disagreements with helm 3 (see artifacts/differential/report-helm3.md):\n" +
            string.Join("\n", results.Where(r => unexpected.Contains(r.Chart + " " + r.Scenario)).Select(r => $"{r.Chart} {r.Scenario}: {r.Detail}")));
        Assert.True(stale.Count == 0, "these now agree with helm 3; remove them from corpus/known-differences.txt:\n" + string.Join("\n", stale));
    }

    [Fact]
    public void Helm4_agrees_with_helm3_and_with_Sealer_on_the_corpus()
    {
        var charts = CorpusDifferential.Charts();
        var lines = new List<string>();
        var disagree = new HashSet<string>(StringComparer.Ordinal);
        Parallel.ForEach(charts, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) }, c =>
        {
            string dir = Path.Combine(HelmOracle.CorpusDir, c);
            var h3 = HelmOracle.Template("helm3", dir, null, CorpusDifferential.HelmArgs);
            var h3b = HelmOracle.Template("helm3", dir, null, CorpusDifferential.HelmArgs, run: 2);
            var h4 = HelmOracle.Template("helm4", dir, null, CorpusDifferential.HelmArgs);
            string? problem = null;
            if ((h3.ExitCode == 0) != (h4.ExitCode == 0)) problem = $"helm3 exit {h3.ExitCode}, helm4 exit {h4.ExitCode}: {h4.StdErr.Trim().Split('\n')[0]}";
            else if (h3.ExitCode == 0)
            {
                var (o3, i3) = MaskedCompare.FromHelmOutput(h3.StdOut);
                var (o3b, _) = MaskedCompare.FromHelmOutput(h3b.StdOut);
                var (o4, i4) = MaskedCompare.FromHelmOutput(h4.StdOut);
                var diff = MaskedCompare.Compare(o4, o3, o3b, out _);
                if (!i3.SetEquals(i4)) problem = $"images differ: only helm3 [{string.Join(", ", i3.Except(i4))}] only helm4 [{string.Join(", ", i4.Except(i3))}]";
                else if (diff is not null) problem = $"objects differ (images equal): {diff}";
            }
            if (problem is not null)
            {
                lock (lines) { lines.Add($"{c}: {problem}"); disagree.Add(c + " default"); }
            }
        });
        string report = $"helm4 vs helm3 (default values): {charts.Count - disagree.Count}/{charts.Count} charts agree\n" + string.Join("\n", lines.Order(StringComparer.Ordinal));
        Directory.CreateDirectory(Repo.Path("artifacts", "differential"));
        File.WriteAllText(Repo.Path("artifacts", "differential", "report-helm4-vs-helm3.txt"), report);
        output.WriteLine(report);
        // Sealer against helm 4 as well: helm 4 defaults to another Kubernetes version, so the helm4 lines of the list apply to both.
        var vs4 = CorpusDifferential.CompareAll("helm4", ["default"]);
        output.WriteLine(CorpusDifferential.Report(vs4, "helm4").Split('\n')[1]);
        var sealerDisagree = vs4.Where(r => !r.Agree).Select(r => r.Chart + " " + r.Scenario).ToHashSet(StringComparer.Ordinal);
        var known = Known("helm4");
        var unexpected = disagree.Except(known).Order(StringComparer.Ordinal).ToList();
        Assert.True(unexpected.Count == 0, "helm 4 disagrees with helm 3 on charts not listed in corpus/known-differences.txt:\n" + report);
        var unexpectedSealer = sealerDisagree.Except(known).Order(StringComparer.Ordinal).ToList();
        Assert.True(unexpectedSealer.Count == 0, "Sealer disagrees with helm 4 on charts not listed in corpus/known-differences.txt:\n" +
            string.Join("\n", vs4.Where(r => unexpectedSealer.Contains(r.Chart + " " + r.Scenario)).Select(r => $"{r.Chart} {r.Scenario}: {r.Detail}")));
        var stale = known.Except(disagree).Except(sealerDisagree).Order(StringComparer.Ordinal).ToList();
        Assert.True(stale.Count == 0, "these now agree with helm 4 (both helm 3 and Sealer); remove them from corpus/known-differences.txt:\n" + string.Join("\n", stale));
    }
}
