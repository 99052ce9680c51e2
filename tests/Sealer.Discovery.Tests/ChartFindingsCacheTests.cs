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
    public void The_same_chart_twice_is_rendered_once_and_found_twice_whether_cached_or_not()
    {
        // The second of two items with the same key (same chart, values and release) takes the first's render.
        using var tmp = new TempDir();
        var one = MakeCharts(tmp, 2);
        var charts = new List<ChartInput> { one[0], one[1], new ChartInput { Path = one[0].Path } };
        string cache = Path.Combine(tmp.Path, "obj", "charts");
        var first = Discover(charts, cache);
        Assert.Equal((2, 1), (first.ChartsRendered, first.ChartsFromCache));
        var second = Discover(charts, cache);
        Assert.Equal((0, 3), (second.ChartsRendered, second.ChartsFromCache));
        Assert.Equal(Dump(Discover(charts, cacheDir: null)), Dump(first));
        Assert.Equal(Dump(first), Dump(second));
    }

    [Fact]
    public void Changing_one_charts_template_values_or_settings_renders_that_chart_only()
    {
        using var tmp = new TempDir();
        var charts = MakeCharts(tmp, 4);
        string cache = Path.Combine(tmp.Path, "obj", "charts");
        Discover(charts, cache);

        // A template: the same length, another byte, its time put back (content is compared, not time stamps or sizes,
        // while a file is as recent as this one: FileHashMemo.RacyWindow).
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
    public void Chart_files_hashes_are_remembered_by_size_and_time_so_a_chart_edit_reads_that_chart_only()
    {
        using var tmp = new TempDir();
        var charts = MakeCharts(tmp, 4);
        var old = DateTime.UtcNow.AddMinutes(-10);
        foreach (var f in Directory.GetFiles(tmp.Path, "*", SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(f, old);
        string cache = Path.Combine(tmp.Path, "obj", "charts");
        (DiscoveryResult Result, int Read) Run(string? kubeVersion = null)
        {
            var dir = new ChartFindingsDirectory(cache);
            var r = ImageDiscovery.Discover(new DiscoveryInput { Charts = charts, ChartCache = dir, KubeVersion = kubeVersion });
            return (r, dir.FileHashes.FilesRead);
        }

        Assert.Equal(12, Run().Read); // three files a chart, each read once
        Assert.True(File.Exists(Path.Combine(cache, ChartFindingsDirectory.FileHashesName)));
        var (second, read) = Run();
        Assert.Equal((0, 0, 4), (read, second.ChartsRendered, second.ChartsFromCache)); // no chart file read, none rendered
        Assert.Equal(Dump(ImageDiscovery.Discover(new DiscoveryInput { Charts = charts })), Dump(second));

        // An edit (a new time): that file is read again, that chart rendered; the rest come from the memo and the cache.
        string values = Path.Combine(charts[2].Path, "values.yaml");
        File.WriteAllText(values, "image: {repository: team/app2, tag: \"2.0\"}\n");
        File.SetLastWriteTimeUtc(values, old.AddMinutes(2)); // (edited a while ago: a file as recent as the run is read every time, see below)
        var (edited, readEdited) = Run();
        Assert.Equal((1, 1, 3), (readEdited, edited.ChartsRendered, edited.ChartsFromCache));
        Assert.Contains("docker.io/team/app2:2.0", edited.Images.Select(i => i.Reference));

        // Touched, same bytes: read again, and the findings still come from the cache (the key is the content's).
        File.SetLastWriteTimeUtc(Path.Combine(charts[0].Path, "Chart.yaml"), old.AddMinutes(1));
        var (touched, readTouched) = Run();
        Assert.Equal((1, 0), (readTouched, touched.ChartsRendered));

        // Rewritten with the same size and its old time put back: not seen (as MSBuild's own up-to-date check would not
        // see it) ...
        string template = Path.Combine(charts[1].Path, "templates", "deploy.yaml");
        File.WriteAllText(template, File.ReadAllText(template).Replace("name: main", "name: mane", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(template, old);
        Assert.Equal((0, 0), (Run().Read, Run().Result.ChartsRendered));
        // ... until the memo is gone (dotnet build --no-incremental cleans obj/); a damaged memo is an empty one.
        string memo = Path.Combine(cache, ChartFindingsDirectory.FileHashesName);
        Assert.Equal(13, File.ReadAllLines(memo).Length); // a header, then a file a line
        string text = File.ReadAllText(memo);
        File.WriteAllText(memo, text[..(text.IndexOf('\t', text.IndexOf('\n') + 1) + 2)]); // cut in the first file's line
        var (afterDamage, readAfterDamage) = Run();
        Assert.Equal((12, 1), (readAfterDamage, afterDamage.ChartsRendered));
        Assert.Equal(Dump(ImageDiscovery.Discover(new DiscoveryInput { Charts = charts })), Dump(afterDamage));

        // A file written within the racy window is hashed every time, so a same-size rewrite keeping its time is seen.
        var recent = DateTime.UtcNow;
        File.WriteAllText(template, File.ReadAllText(template).Replace("name: mane", "name: main", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(template, recent);
        Assert.Equal(1, Run().Read);
        File.WriteAllText(template, File.ReadAllText(template).Replace("name: main", "name: mine", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(template, recent);
        var (racy, readRacy) = Run();
        Assert.Equal((1, 1), (readRacy, racy.ChartsRendered));
        Assert.Equal(1, Directory.GetFiles(cache, "*.memo").Length + Directory.GetFiles(cache, ".*.tmp").Length); // no temp files left
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
