using Sealer.Core.Build;
using Sealer.Core.Charts;
using Sealer.Core.Discovery;

namespace Sealer.Discovery.Tests;

/// <summary>
/// The per-chart findings cache (issue 17: a rebuild after one chart changed is proportional to that chart): a chart whose
/// files, values and settings did not change is not rendered again, and what discovery returns is the same as a full render.
/// </summary>
public class ChartFindingsCacheTests
{
    private static string Deployment(string image) => $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}-{{ .Chart.Name }}
        spec:
          template:
            spec:
              containers:
              - name: main
                image: {{{image}}}
        """;

    private static List<ChartInput> MakeCharts(TempDir tmp, int count)
    {
        var charts = new List<ChartInput>();
        for (int i = 0; i < count; i++)
        {
            tmp.Write($"c{i}/Chart.yaml", $"apiVersion: v2\nname: c{i}\nversion: 1.0.0\n");
            tmp.Write($"c{i}/values.yaml", $"image: {{repository: team/app{i}, tag: \"1.{i}\"}}\n");
            tmp.Write($"c{i}/templates/deploy.yaml", Deployment("\"{{ .Values.image.repository }}:{{ .Values.image.tag }}\""));
            charts.Add(new ChartInput { Path = Path.Combine(tmp.Path, $"c{i}") });
        }
        return charts;
    }

    private static DiscoveryResult Discover(List<ChartInput> charts, string? cacheDir, string? kubeVersion = null)
        => ImageDiscovery.Discover(new DiscoveryInput
        {
            Charts = charts,
            KubeVersion = kubeVersion,
            ChartCache = cacheDir is null ? null : new ChartFindingsDirectory(cacheDir),
        });

    private static string Dump(DiscoveryResult r)
        => string.Join("\n", r.Images.Select(i => i.Reference + " <- " + string.Join(" | ", i.Sources.Select(s => $"{s.File}:{s.Line} {s.Detail}"))))
           + "\n--\n" + string.Join("\n", r.InputFiles);

    [Fact]
    public void A_second_discovery_renders_nothing_and_returns_exactly_what_a_full_render_returns()
    {
        using var tmp = new TempDir();
        var charts = MakeCharts(tmp, 4);
        string cache = Path.Combine(tmp.Path, "obj", "charts");

        var first = Discover(charts, cache);
        Assert.Equal((4, 0), (first.ChartsRendered, first.ChartsFromCache));
        Assert.Equal(4, Directory.GetFiles(cache, "*.json").Length);

        var second = Discover(charts, cache);
        Assert.Equal((0, 4), (second.ChartsRendered, second.ChartsFromCache));
        var uncached = Discover(charts, cacheDir: null);
        Assert.Equal(Dump(uncached), Dump(second));
        Assert.Equal(["docker.io/team/app0:1.0", "docker.io/team/app1:1.1", "docker.io/team/app2:1.2", "docker.io/team/app3:1.3"], second.Images.Select(i => i.Reference));
    }

    [Fact]
    public void Changing_one_charts_template_values_or_settings_renders_that_chart_only()
    {
        using var tmp = new TempDir();
        var charts = MakeCharts(tmp, 4);
        string cache = Path.Combine(tmp.Path, "obj", "charts");
        Discover(charts, cache);

        // A template: the same length, another byte (content is compared, not time stamps or sizes).
        string template = Path.Combine(charts[1].Path, "templates", "deploy.yaml");
        var stamp = File.GetLastWriteTimeUtc(template);
        File.WriteAllText(template, File.ReadAllText(template).Replace("name: main", "name: mane", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(template, stamp);
        var r = Discover(charts, cache);
        Assert.Equal((1, 3), (r.ChartsRendered, r.ChartsFromCache));

        // A values file of the chart.
        File.WriteAllText(Path.Combine(charts[2].Path, "values.yaml"), "image: {repository: team/app2, tag: \"2.0\"}\n");
        r = Discover(charts, cache);
        Assert.Equal((1, 3), (r.ChartsRendered, r.ChartsFromCache));
        Assert.Contains("docker.io/team/app2:2.0", r.Images.Select(i => i.Reference));

        // A new file in the chart, and a --set on another.
        tmp.Write("c0/templates/extra.yaml", Deployment("busybox:1.37"));
        charts[3] = new ChartInput { Path = charts[3].Path, SetValues = ["image.tag=9.9"] };
        r = Discover(charts, cache);
        Assert.Equal((2, 2), (r.ChartsRendered, r.ChartsFromCache));
        Assert.Contains("docker.io/library/busybox:1.37", r.Images.Select(i => i.Reference));
        Assert.Contains("docker.io/team/app3:9.9", r.Images.Select(i => i.Reference));

        // An outside values file given to one chart, then changed.
        tmp.Write("site.yaml", "image: {tag: \"5.0\"}\n");
        charts[0] = new ChartInput { Path = charts[0].Path, ValuesFiles = [Path.Combine(tmp.Path, "site.yaml")] };
        Assert.Equal(1, Discover(charts, cache).ChartsRendered);
        tmp.Write("site.yaml", "image: {tag: \"5.1\"}\n");
        r = Discover(charts, cache);
        Assert.Equal((1, 3), (r.ChartsRendered, r.ChartsFromCache));
        Assert.Contains("docker.io/team/app0:5.1", r.Images.Select(i => i.Reference));

        // The Kubernetes version renders every chart again.
        Assert.Equal(4, Discover(charts, cache, kubeVersion: "1.30.0").ChartsRendered);
        Assert.Equal(Dump(Discover(charts, cacheDir: null, kubeVersion: "1.30.0")), Dump(Discover(charts, cache, kubeVersion: "1.30.0")));
    }

    [Fact]
    public void Keys_computed_at_once_report_a_bad_set_file_of_the_first_chart_as_a_render_does()
    {
        // The keys of all charts are computed on all cores; one that fails (a malformed --set-file) is computed again in
        // chart order, so the error is the first bad chart's, the same as without the cache.
        using var tmp = new TempDir();
        var charts = MakeCharts(tmp, 6);
        charts[2] = new ChartInput { Path = charts[2].Path, SetFileValues = ["first-bad"] };
        charts[4] = new ChartInput { Path = charts[4].Path, SetFileValues = ["second,bad"] };
        string cache = Path.Combine(tmp.Path, "obj", "charts");
        var uncached = Assert.ThrowsAny<Exception>(() => Discover(charts, cacheDir: null));
        for (int i = 0; i < 5; i++)
        {
            var cached = Assert.ThrowsAny<Exception>(() => Discover(charts, cache));
            Assert.Equal(uncached.GetType(), cached.GetType());
            Assert.Equal(uncached.Message, cached.Message);
        }
        Assert.Contains("first-bad", uncached.Message);
    }

    [Fact]
    public void A_damaged_entry_is_a_miss_and_entries_of_removed_charts_are_dropped()
    {
        using var tmp = new TempDir();
        var charts = MakeCharts(tmp, 3);
        string cache = Path.Combine(tmp.Path, "obj", "charts");
        Discover(charts, cache);
        var entries = Directory.GetFiles(cache, "*.json").OrderBy(f => f, StringComparer.Ordinal).ToList();
        File.WriteAllText(entries[0], "{\"key\": \"trunc");
        File.WriteAllText(Path.Combine(cache, "notes.txt"), "not ours");

        var r = Discover(charts, cache);
        Assert.Equal((1, 2), (r.ChartsRendered, r.ChartsFromCache));
        Assert.Equal(Dump(Discover(charts, cacheDir: null)), Dump(r));

        charts.RemoveAt(2);
        Discover(charts, cache);
        Assert.Equal(2, Directory.GetFiles(cache, "*.json").Length);
        Assert.True(File.Exists(Path.Combine(cache, "notes.txt"))); // only its own files are ever deleted
    }

    [Fact]
    public void A_chart_that_fails_to_render_caches_nothing_and_fails_again_with_the_same_error()
    {
        using var tmp = new TempDir();
        var charts = MakeCharts(tmp, 2);
        tmp.Write("c1/templates/bad.yaml", "{{ .Values.missing.field }}\n");
        string cache = Path.Combine(tmp.Path, "obj", "charts");
        var first = Assert.ThrowsAny<Exception>(() => Discover(charts, cache));
        var second = Assert.ThrowsAny<Exception>(() => Discover(charts, cache));
        Assert.Contains("nil pointer evaluating interface {}.field", first.Message);
        Assert.Equal(first.Message, second.Message);
        Assert.Single(Directory.GetFiles(cache, "*.json")); // c0's entry; c1 has none
    }
}
