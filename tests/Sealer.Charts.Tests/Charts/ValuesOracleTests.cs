using Sealer.Core.Charts;
using Sealer.Core.Yaml;

namespace Sealer.Charts.Tests.Charts;

/// <summary>
/// Values coalescing, globals, --set parsing and dependency processing (condition, tags, alias, import-values) checked
/// against the real helm 3: every chart in these fixtures has a template printing <c>toJson .Values</c>, so helm's output
/// tells exactly which subcharts are enabled and what values each one sees.
/// </summary>
public class ValuesOracleTests
{
    private const string ValuesTemplate = "{{ toJson .Values }}\n";

    internal static void MakeChart(string dir, string name, string values = "", string extra = "", string apiVersion = "v2", string version = "1.0.0")
    {
        Directory.CreateDirectory(Path.Combine(dir, "templates"));
        File.WriteAllText(Path.Combine(dir, "Chart.yaml"), $"apiVersion: {apiVersion}\nname: {name}\nversion: {version}\n{extra}");
        File.WriteAllText(Path.Combine(dir, "values.yaml"), values);
        File.WriteAllText(Path.Combine(dir, "templates", "values.yaml"), ValuesTemplate);
    }

    /// <summary>helm's view: chart path (<c>root/charts/sub</c>) → canonical values.</summary>
    private static SortedDictionary<string, string> Helm(string chartDir, string[] valuesFiles, string[] args)
    {
        var r = HelmOracle.Template("helm3", chartDir, valuesFiles, args);
        Assert.True(r.ExitCode == 0, "helm failed: " + r.StdErr);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (source, text) in HelmOracle.SplitOutput(r.StdOut))
        {
            Assert.EndsWith("/templates/values.yaml", source);
            var docs = YamlReader.ParseStream(text);
            result[source[..^"/templates/values.yaml".Length]] = Canon.Of(YamlReader.ToValue(docs[0].Root));
        }
        return result;
    }

    /// <summary>Ours: load, merge user values, process dependencies, coalesce; subcharts see parent[name].</summary>
    private static SortedDictionary<string, string> Ours(string chartDir, string[] valuesFiles, string[] args)
    {
        var chart = ChartLoader.Load(chartDir);
        var opts = new ValuesOptions
        {
            ValuesFiles = [.. valuesFiles],
            SetValues = Pick(args, "--set"),
            SetStringValues = Pick(args, "--set-string"),
            SetFileValues = Pick(args, "--set-file"),
        };
        var user = opts.Merge();
        ChartValues.ProcessDependencies(chart, user);
        var values = ChartValues.CoalesceValues(chart, user);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Visit(chart, chart.Name, values, result);
        return result;
    }

    private static void Visit(Chart c, string path, Dictionary<string, object?> values, SortedDictionary<string, string> result)
    {
        if (c.Templates.Count > 0) result[path] = Canon.Of(values);
        foreach (var d in c.Dependencies)
        {
            var sub = values.GetValueOrDefault(d.Name) as Dictionary<string, object?> ?? new(StringComparer.Ordinal);
            Visit(d, path + "/charts/" + d.Name, sub, result);
        }
    }

    private static List<string> Pick(string[] args, string flag)
    {
        var list = new List<string>();
        for (int i = 0; i < args.Length - 1; i++) if (args[i] == flag) list.Add(args[i + 1]);
        return list;
    }

    private static void AssertSame(string chartDir, string[] valuesFiles, params string[] args)
    {
        var helm = Helm(chartDir, valuesFiles, args);
        var ours = Ours(chartDir, valuesFiles, args);
        Assert.Equal(string.Join("\n", helm.Keys), string.Join("\n", ours.Keys));
        foreach (var (k, v) in helm) Assert.True(v == ours[k], $"values of {k} differ\nhelm: {v}\nours: {ours[k]}");
    }

    [Fact]
    public void Globals_parent_overrides_and_null_deletion_match_helm()
    {
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "app");
        MakeChart(root, "app", """
            global:
              registry: docker.io
              labels: {team: a}
            image: {repository: nginx, tag: "1.27", pullPolicy: IfNotPresent}
            removeMe: {a: 1}
            port: 8080
            big: 1000000
            sub:
              replicas: 3
              nested: {keep: yes, drop: null}
            """, "dependencies:\n- name: sub\n  version: '>=0.1.0'\n");
        string sub = Path.Combine(root, "charts", "sub");
        MakeChart(sub, "sub", """
            global:
              labels: {tier: backend}
              subOnly: true
            replicas: 1
            nested: {keep: no, drop: 5, other: x}
            image: {repository: busybox, tag: latest}
            """, "dependencies:\n- name: leaf\n  version: 1.x\n", version: "0.2.0");
        MakeChart(Path.Combine(sub, "charts", "leaf"), "leaf", "global: {labels: {leaf: yes}}\nvalue: 1\n", version: "1.5.0");
        string f = tmp.Write("override.yaml", "removeMe: null\nsub:\n  image: {tag: '2.0'}\n  nested: {other: null}\n");
        AssertSame(root, [f], "--set", "global.registry=mirror.local:5000,sub.replicas=5,list={a,b,c}", "--set-string", "port=9090");
    }

    [Fact]
    public void Conditions_and_tags_enable_and_disable_subcharts_like_helm()
    {
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "app");
        MakeChart(root, "app", """
            a: {enabled: false}
            b: {enabled: true}
            tags: {front: false, back: true}
            cOn: "yes-string"
            """, """
            dependencies:
            - {name: a, version: 1.0.0, condition: a.enabled}
            - {name: b, version: 1.0.0, condition: "missing.path,b.enabled"}
            - {name: c, version: 1.0.0, condition: cOn, tags: [front]}
            - {name: d, version: 1.0.0, tags: [front, back]}
            - {name: e, version: 1.0.0, tags: [front]}
            """);
        foreach (var n in new[] { "a", "b", "c", "d", "e" }) MakeChart(Path.Combine(root, "charts", n), n, $"name: {n}\nenabled: true\n");
        AssertSame(root, []);
        AssertSame(root, [], "--set", "a.enabled=true,tags.front=true", "--set", "b.enabled=false");
    }

    [Fact]
    public void Alias_copies_a_subchart_under_another_name_like_helm()
    {
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "app");
        MakeChart(root, "app", "first: {x: 1}\nsecond: {enabled: false}\nthird: {x: 3}\n", """
            dependencies:
            - {name: db, version: ~2.1.0, alias: first}
            - {name: db, version: ^2.0.0, alias: second, condition: second.enabled}
            - {name: db, version: 2.1.3, alias: third}
            """);
        MakeChart(Path.Combine(root, "charts", "db"), "db", "x: 0\ny: default\n", version: "2.1.3");
        AssertSame(root, []);
        AssertSame(root, [], "--set", "second.enabled=true,third.y=changed");
    }

    [Fact]
    public void Import_values_in_both_forms_match_helm()
    {
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "app");
        MakeChart(root, "app", "fromChild: {b: parent-wins}\n", """
            dependencies:
            - name: child
              version: 1.0.0
              import-values:
              - data
              - child: deep.table
                parent: fromChild
              - child: missing
                parent: nowhere
            """);
        MakeChart(Path.Combine(root, "charts", "child"), "child", """
            exports:
              data: {exported: true, n: 7}
            deep:
              table: {a: 1, b: child}
            """);
        AssertSame(root, []);
    }

    [Fact]
    public void V1_chart_with_requirements_yaml_and_tgz_subchart_matches_helm()
    {
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "legacy");
        MakeChart(root, "legacy", "redis: {enabled: false}\nweb: {port: 80}\n", apiVersion: "v1");
        File.WriteAllText(Path.Combine(root, "requirements.yaml"), "dependencies:\n- name: redis\n  version: 1.0.0\n  condition: redis.enabled\n- name: web\n  version: 1.0.0\n");
        string staging = Path.Combine(tmp.Path, "staging", "web");
        MakeChart(staging, "web", "port: 8080\nhost: example\n");
        Directory.CreateDirectory(Path.Combine(root, "charts"));
        TempDir.PackTgz(staging, Path.Combine(root, "charts", "web-1.0.0.tgz"));
        MakeChart(Path.Combine(root, "charts", "redis"), "redis", "x: 1\n");
        AssertSame(root, []);
    }

    [Fact]
    public void Duplicate_keys_in_values_files_and_Chart_yaml_keep_the_last_like_helm()
    {
        // helm reads both through sigs.k8s.io/yaml (go-yaml v2): a repeated mapping key is no error, the last one wins.
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "app");
        MakeChart(root, "app", "a: 1\nb: x\na: 2\nm:\n  k: 1\n  j: [1]\n  k: 2\n",
            "dependencies:\n- name: sub\n  version: '>=0.1.0'\n  condition: sub.first\n  condition: sub.enabled\n");
        MakeChart(Path.Combine(root, "charts", "sub"), "sub", "first: false\nenabled: false\nenabled: true\n", version: "0.2.0");
        string f = tmp.Write("override.yaml", "b: y\nm: {k: 3, k: 4}\nb: z\n");
        AssertSame(root, [f]);
    }

    [Fact]
    public void Set_expressions_match_helm()
    {
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "app");
        MakeChart(root, "app", "keep: 1\nremove: {a: 1}\nlist: [1, 2]\n");
        string file = tmp.Write("content.txt", "line1\nline2\n");
        AssertSame(root, [],
            "--set", @"a.b.c=1,d[0]=x,d[2].e=y,esc=a\,b,dot\.key=v,n=-12,z=0,o=0777,f=1.5,t=TRUE,nul=null,remove=null",
            "--set", "m[0][1]=deep,emptyv=",
            "--set-string", "s=123,b=true",
            "--set-file", "file=" + file);
    }
}
