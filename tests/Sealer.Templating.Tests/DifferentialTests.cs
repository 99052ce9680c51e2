using System.Text;
using Sealer.Core.Templating;
using Sealer.Core.Templating.Helm;

namespace Sealer.Templating.Tests;

/// <summary>
/// Renders every case of <see cref="DiffCases"/> with the real helm (one chart, one template per case, one
/// `helm template` run per helm major) and with our engine, and compares the outputs case by case.
/// </summary>
public sealed class HelmOracleFixture : IDisposable
{
    public const string ChartName = "diff";
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "sealer-tpl-diff-" + Environment.ProcessId);
    public Dictionary<string, Dictionary<string, string>> Outputs { get; } = new();
    public Dictionary<string, string> Failures { get; } = new();

    public static string Wrap(int i, string tpl) =>
        $"{{{{ $all := default .Values .AllValues }}}}{{{{ $_ := set . \"AllValues\" $all }}}}{{{{ $_ := set . \"Values\" (index $all \"c{i:D3}\") }}}}<<<" + tpl + ">>>";

    public static string ValuesYaml()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < DiffCases.All.Length; i++)
        {
            var v = DiffCases.All[i].Values.Trim('\n');
            if (v.Trim().Length == 0) { sb.Append($"c{i:D3}: {{}}\n"); continue; }
            sb.Append($"c{i:D3}:\n");
            foreach (var line in v.Split('\n')) sb.Append("  ").Append(line).Append('\n');
        }
        return sb.ToString();
    }

    public static IEnumerable<(string Path, string Text)> Files()
    {
        for (int i = 0; i < DiffCases.All.Length; i++) yield return ($"templates/c{i:D3}.yaml", Wrap(i, DiffCases.All[i].Template));
        yield return ("templates/_helpers.tpl", DiffCases.Helpers);
        foreach (var (p, t) in DiffCases.ExtraFiles) yield return (p, t);
    }

    public HelmOracleFixture()
    {
        DiffChart.WriteChart(Dir, ChartName, ValuesYaml(), Files());
        foreach (var helm in new[] { "helm3", "helm4" })
        {
            var bin = Repo.Path("artifacts", "tools", helm);
            if (!File.Exists(bin)) continue; // the tests fail with a clear message through HelmOracle.HelmPath
            var r = HelmOracle.Run(bin, "template", Dir, "--debug");
            var sources = HelmOracle.SplitSources(r.StdOut.Replace("\r\n", "\n", StringComparison.Ordinal));
            if (sources.Count == 0) Failures[helm] = r.StdErr;
            Outputs[helm] = sources;
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

public sealed class DifferentialTests(HelmOracleFixture fixture) : IClassFixture<HelmOracleFixture>
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Ours3 = new(() => RenderOurs(HelmCapabilities.Default));
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Ours4 = new(() => RenderOurs(DiffChart.Helm4Capabilities));

    private static IReadOnlyDictionary<string, string> RenderOurs(HelmCapabilities caps)
    {
        var files = HelmOracleFixture.Files().ToList();
        var root = new HelmChartNode
        {
            Name = HelmOracleFixture.ChartName,
            Metadata = DiffChart.ChartMetadata(HelmOracleFixture.ChartName),
            Templates = files.Where(f => f.Path.StartsWith("templates/", StringComparison.Ordinal)).Select(f => new HelmTemplateFile(f.Path, f.Text)).ToList(),
            Files = files.Where(f => !f.Path.StartsWith("templates/", StringComparison.Ordinal)).ToDictionary(f => f.Path, f => Encoding.UTF8.GetBytes(f.Text)),
        };
        var values = DiffChart.LoadValues(HelmOracleFixture.ValuesYaml());
        return HelmEngine.Render(root, DiffChart.TopValues(values, caps));
    }

    public static IEnumerable<object[]> Cases() => DiffCases.All.Select((c, i) => new object[] { i, c.Name });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_case_renders_like_helm3(int index, string name) => Compare("helm3", Ours3, index, name);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_case_renders_like_helm4(int index, string name) => Compare("helm4", Ours4, index, name);

    private void Compare(string helm, Lazy<IReadOnlyDictionary<string, string>> ours, int index, string name)
    {
        HelmOracle.HelmPath(helm);
        Assert.False(fixture.Failures.ContainsKey(helm), $"{helm} template failed: {fixture.Failures.GetValueOrDefault(helm)}");
        var file = $"{HelmOracleFixture.ChartName}/templates/c{index:D3}.yaml";
        Assert.True(fixture.Outputs[helm].TryGetValue(file, out var theirsRaw), $"{helm} printed no {file}");
        var theirs = DiffChart.Between(theirsRaw!);
        Assert.NotNull(theirs);
        Assert.True(ours.Value.TryGetValue(file, out var oursRaw), $"we rendered no {file}");
        var mine = DiffChart.Between(oursRaw!);
        var c = DiffCases.All[index];
        Assert.True(theirs == mine, $"case {name}: {c.Template}\n--- {helm} ---\n{theirs}\n--- ours ---\n{mine}");
    }
}

/// <summary>Runs every error case through helm 3 once, in parallel (one small chart per case).</summary>
public sealed class HelmErrorFixture : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sealer-tpl-err-" + Environment.ProcessId);
    public ProcessResult?[] Results { get; } = new ProcessResult?[DiffCases.Errors.Length];

    public HelmErrorFixture()
    {
        var bin = Repo.Path("artifacts", "tools", "helm3");
        if (!File.Exists(bin)) return;
        Parallel.For(0, DiffCases.Errors.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var c = DiffCases.Errors[i];
            var dir = Path.Combine(Root, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            DiffChart.WriteChart(dir, "errchart", c.Values, [("templates/x.yaml", c.Template)]);
            Results[i] = HelmOracle.Run(bin, "template", dir);
        });
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Templates that must fail in helm and in our engine; our error must name the template and a line.</summary>
public sealed class DifferentialErrorTests(HelmErrorFixture fixture) : IClassFixture<HelmErrorFixture>
{
    public static IEnumerable<object[]> Cases() => DiffCases.Errors.Select((c, i) => new object[] { i, c.Name });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_error_case_fails_in_helm3_and_in_Sealer(int index, string name)
    {
        var c = DiffCases.Errors[index];
        HelmOracle.HelmPath("helm3");
        var r = fixture.Results[index]!;
        Assert.True(r.ExitCode != 0, $"case {name}: helm accepted it:\n{r.StdOut}");
        var root = new HelmChartNode
        {
            Name = "errchart",
            Metadata = DiffChart.ChartMetadata("errchart"),
            Templates = [new HelmTemplateFile("templates/x.yaml", c.Template)],
            Files = new Dictionary<string, byte[]>(),
        };
        var ex = Assert.Throws<TemplateException>(() => HelmEngine.Render(root, DiffChart.TopValues(DiffChart.LoadValues(c.Values), HelmCapabilities.Default)));
        Assert.Contains("errchart/templates/x.yaml", ex.Message);
        Assert.True(ex.Line > 0, $"case {name}: no line in {ex.Message}");
        Assert.StartsWith("SEA3", ex.Code);
        if (c.ExpectInMessage is not null)
        {
            Assert.Contains(c.ExpectInMessage, ex.Message);
            Assert.Contains(c.ExpectInMessage, r.StdErr);
        }
    }
}
