using System.Text;
using Sealer.Core.Templating;
using Sealer.Core.Templating.Helm;

namespace Sealer.Templating.Tests;

/// <summary>A chart tree (subchart, library chart, globals, define precedence) rendered by helm and by us.</summary>
public sealed class SubchartDifferentialTests
{
    private static readonly (string Path, string Text)[] ParentFiles =
    [
        ("templates/cm.yaml", "<<<name={{ .Chart.Name }} tpl={{ .Template.Name }} base={{ .Template.BasePath }} g={{ .Values.global.region }} sub={{ .Values.sub.port }} common={{ include \"common.name\" . }} lib={{ include \"lib.label\" . }} sub-def={{ include \"sub.only\" . }} sc={{ .Subcharts.sub.Chart.Name }} scv={{ .Subcharts.sub.Values.port }}>>>"),
        ("templates/_helpers.tpl", "{{ define \"common.name\" }}from-parent{{ end }}{{ define \"dup\" }}parent-b{{ end }}"),
        ("templates/_a.tpl", "{{ define \"dup\" }}parent-a{{ end }}"),
        ("templates/dup.yaml", "<<<{{ include \"dup\" . }}>>>"),
        ("templates/NOTES.txt", "<<<notes {{ .Release.Name }}>>>"),
        ("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 2.0.0\nappVersion: \"9\"\n"),
        ("charts/sub/values.yaml", "port: 80\nname: subby\n"),
        ("charts/sub/templates/svc.yaml", "<<<name={{ .Chart.Name }} v={{ .Chart.Version }} app={{ .Chart.AppVersion }} root={{ .Chart.IsRoot }} port={{ .Values.port }} n={{ .Values.name }} g={{ .Values.global.region }} tpl={{ .Template.Name }} base={{ .Template.BasePath }} common={{ include \"common.name\" . }} f={{ .Files.Get \"data.txt\" }}>>>"),
        ("charts/sub/templates/_helpers.tpl", "{{ define \"common.name\" }}from-sub{{ end }}{{ define \"sub.only\" }}sub-only{{ end }}"),
        ("charts/sub/data.txt", "sub-data"),
        ("charts/lib/Chart.yaml", "apiVersion: v2\nname: lib\nversion: 1.0.0\ntype: library\n"),
        ("charts/lib/templates/_lib.tpl", "{{ define \"lib.label\" }}lib-{{ .Release.Name }}{{ end }}"),
        ("charts/lib/templates/ignored.yaml", "<<<must not render>>>"),
    ];

    private const string ParentValues = "global:\n  region: eu\nsub:\n  port: 8080\n";

    private static Dictionary<string, object?> Values()
    {
        // What Helm's coalescing yields (the charts engineer's job); written out for this test.
        return (Dictionary<string, object?>)DiffChart.LoadValues("""
global:
  region: eu
sub:
  port: 8080
  name: subby
  global:
    region: eu
lib:
  global:
    region: eu
""")!;
    }

    private static HelmChartNode Node(string name, string prefix, IDictionary<string, object?> meta, IReadOnlyList<HelmChartNode> deps)
    {
        var mine = ParentFiles.Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal) && !f.Path[prefix.Length..].StartsWith("charts/", StringComparison.Ordinal))
            .Select(f => (Path: f.Path[prefix.Length..], f.Text)).Where(f => f.Path != "Chart.yaml" && f.Path != "values.yaml").ToList();
        return new HelmChartNode
        {
            Name = name,
            Metadata = meta,
            Templates = mine.Where(f => f.Path.StartsWith("templates/", StringComparison.Ordinal)).Select(f => new HelmTemplateFile(f.Path, f.Text)).ToList(),
            Files = mine.Where(f => !f.Path.StartsWith("templates/", StringComparison.Ordinal)).ToDictionary(f => f.Path, f => Encoding.UTF8.GetBytes(f.Text)),
            Dependencies = deps,
        };
    }

    [Theory]
    [InlineData("helm3")]
    [InlineData("helm4")]
    public void Chart_tree_renders_like_helm(string helmName)
    {
        var helm = HelmOracle.HelmPath(helmName);
        var dir = Path.Combine(Path.GetTempPath(), $"sealer-tpl-sub-{Environment.ProcessId}-{helmName}");
        try
        {
            DiffChart.WriteChart(dir, "parent", ParentValues, ParentFiles);
            var r = HelmOracle.Run(helm, "template", dir, "--debug");
            var theirs = HelmOracle.SplitSources(r.StdOut);
            Assert.True(theirs.Count > 0, r.StdErr);

            var sub = Node("sub", "charts/sub/", new Dictionary<string, object?> { ["Name"] = "sub", ["Version"] = "2.0.0", ["AppVersion"] = "9", ["APIVersion"] = "v2" }, []);
            var lib = Node("lib", "charts/lib/", new Dictionary<string, object?> { ["Name"] = "lib", ["Version"] = "1.0.0", ["APIVersion"] = "v2", ["Type"] = "library" }, []);
            var root = Node("parent", "", DiffChart.ChartMetadata("parent"), [lib, sub]);
            var caps = helmName == "helm3" ? HelmCapabilities.Default : DiffChart.Helm4Capabilities;
            var ours = HelmEngine.Render(root, DiffChart.TopValues(Values(), caps));

            Assert.DoesNotContain(ours.Keys, k => k.Contains("/_", StringComparison.Ordinal));
            Assert.DoesNotContain("parent/charts/lib/templates/ignored.yaml", ours.Keys);
            foreach (var (name, text) in theirs)
            {
                Assert.True(ours.TryGetValue(name, out var mine), $"we did not render {name}; we have {string.Join(", ", ours.Keys)}");
                Assert.Equal(DiffChart.Between(text), DiffChart.Between(mine!));
            }
            // helm template hides NOTES.txt; the engine returns it like helm's engine does.
            Assert.Equal("notes release-name", DiffChart.Between(ours["parent/templates/NOTES.txt"]));
            Assert.Equal("parent-a", DiffChart.Between(ours["parent/templates/dup.yaml"]));
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
