using System.Text.Json;

namespace Sealer.Discovery.Tests;

/// <summary><c>sealer find-images</c> end to end, as a user runs it.</summary>
public class FindImagesCliTests
{
    [Fact]
    public void Prints_normalized_refs_json_with_provenance_and_why()
    {
        using var tmp = new TempDir();
        tmp.Write("app/m.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: nginx:1.27\n");
        tmp.Write("app/imageList", "# comment\nregistry.k8s.io/pause:3.10\nnginx:1.27\n");
        var plain = SealerCli.Run("find-images", Path.Combine(tmp.Path, "app"));
        Assert.True(plain.ExitCode == 0, plain.StdErr);
        Assert.Equal("docker.io/library/nginx:1.27\nregistry.k8s.io/pause:3.10\n", plain.StdOut);

        var json = SealerCli.Run("find-images", Path.Combine(tmp.Path, "app"), "--json");
        Assert.True(json.ExitCode == 0, json.StdErr);
        using var doc = JsonDocument.Parse(json.StdOut);
        var nginx = doc.RootElement.EnumerateArray().Single(e => e.GetProperty("reference").GetString() == "docker.io/library/nginx:1.27");
        var lines = nginx.GetProperty("sources").EnumerateArray().Select(s => (Path.GetFileName(s.GetProperty("file").GetString()), s.GetProperty("line").GetInt32())).OrderBy(x => x.Item1).ToList();
        Assert.Equal([("imageList", 3), ("m.yaml", 7)], lines);

        var why = SealerCli.Run("find-images", Path.Combine(tmp.Path, "app"), "--why", "docker.io/nginx:1.27");
        Assert.True(why.ExitCode == 0, why.StdErr);
        Assert.Contains("m.yaml(7): Pod/p: spec.containers[0].image", why.StdOut);
        var missing = SealerCli.Run("find-images", Path.Combine(tmp.Path, "app"), "--why", "busybox");
        Assert.Equal(1, missing.ExitCode);
    }

    [Fact]
    public void Renders_a_chart_with_values_and_set()
    {
        using var tmp = new TempDir();
        string chart = Path.Combine(tmp.Path, "web");
        tmp.Write("web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n");
        tmp.Write("web/values.yaml", "image: {registry: docker.io, repository: library/nginx, tag: \"1.27\"}\nsidecar: {enabled: false}\n");
        tmp.Write("web/templates/deploy.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: {{ .Release.Name }}-web}
            spec:
              template:
                spec:
                  containers:
                  - name: web
                    image: "{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}"
                  {{- if .Values.sidecar.enabled }}
                  - name: sidecar
                    image: busybox:1.36
                  {{- end }}
            """);
        tmp.Write("override.yaml", "image: {registry: mirror.local:5000}\n");
        var r = SealerCli.Run("find-images", chart, "-f", Path.Combine(tmp.Path, "override.yaml"), "--set", "sidecar.enabled=true,image.tag=1.28", "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var refs = doc.RootElement.EnumerateArray().Select(e => e.GetProperty("reference").GetString()).ToList();
        Assert.Equal(["docker.io/library/busybox:1.36", "mirror.local:5000/library/nginx:1.28"], refs);
        var src = doc.RootElement[1].GetProperty("sources")[0];
        Assert.Equal(Path.Combine(chart, "templates", "deploy.yaml"), src.GetProperty("file").GetString());
        Assert.Equal(9, src.GetProperty("line").GetInt32()); // line of the image in the rendered output of that template
        Assert.Contains("chart web, template web/templates/deploy.yaml", src.GetProperty("detail").GetString());
    }

    [Fact]
    public void Required_value_is_a_coded_error_naming_chart_template_line_and_value()
    {
        using var tmp = new TempDir();
        string chart = Path.Combine(tmp.Path, "needs");
        tmp.Write("needs/Chart.yaml", "apiVersion: v2\nname: needs\nversion: 1.0.0\n");
        tmp.Write("needs/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  url: {{ required \"databaseUrl must be set\" .Values.databaseUrl }}\n");
        var r = SealerCli.Run("find-images", chart);
        Assert.Equal(1, r.ExitCode);
        Assert.Matches(@"templates[/\\]cm\.yaml\(6,\d+\): error SEA3507: chart 'needs', template 'needs/templates/cm\.yaml' line 6: .*databaseUrl must be set", r.StdErr);
    }

    [Fact]
    public void Bad_input_errors_use_the_compiler_format()
    {
        using var tmp = new TempDir();
        string list = tmp.Write("images.txt", "nginx:1.27\nNot A Ref\n");
        var r = SealerCli.Run("find-images", list);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"{list}(2,1): error SEA3511: ", r.StdErr);
        var missingDep = tmp.Write("dep/Chart.yaml", "apiVersion: v2\nname: dep\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 1.x\n  repository: https://example.invalid\n");
        var r2 = SealerCli.Run("find-images", Path.GetDirectoryName(missingDep)!);
        Assert.Equal(1, r2.ExitCode);
        // An unvendored dependency is fetched like helm dependency build; an unreachable repository is named, with the Chart.yaml line.
        Assert.Contains("Chart.yaml(5): error SEA3602: the chart repository https://example.invalid cannot be reached", r2.StdErr);
        var bad = SealerCli.Run("find-images", "--nope");
        Assert.Contains("error SEA5001", bad.StdErr);
    }
}
