using Sealer.Charts.Tests.Support;
using Sealer.Core.Diagnostics;
using Sealer.Core.Charts;
using Sealer.Core.Discovery;

namespace Sealer.Charts.Tests.Discovery;

/// <summary>Discovery through charts: values, kube version, subcharts with conditions/aliases, archives, provenance.</summary>
public class ChartDiscoveryTests
{
    private static string Deployment(string image) => $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}-{{ .Chart.Name }}
          namespace: {{ .Release.Namespace }}
        spec:
          template:
            spec:
              containers:
              - name: main
                image: {{{image}}}
        """;

    private static string MakeApp(TempDir tmp)
    {
        string root = Path.Combine(tmp.Path, "app");
        tmp.Write("app/Chart.yaml", """
            apiVersion: v2
            name: app
            version: 1.0.0
            dependencies:
            - {name: cache, version: 1.x, condition: cache.enabled}
            - {name: cache, version: 1.x, alias: sessions, condition: sessions.enabled}
            - {name: proxy, version: 2.0.0, tags: [edge]}
            """);
        tmp.Write("app/values.yaml", "cache: {enabled: true}\nsessions: {enabled: false, image: {tag: \"8.0\"}}\ntags: {edge: false}\nglobal: {registry: docker.io}\n");
        tmp.Write("app/templates/deploy.yaml", Deployment("\"registry.k8s.io/kube-proxy:{{ .Capabilities.KubeVersion.Version }}\""));
        tmp.Write("app/templates/NOTES.txt", "image: this/is-not-a-manifest:1\n");
        tmp.Write("app/charts/cache/Chart.yaml", "apiVersion: v2\nname: cache\nversion: 1.4.0\n");
        tmp.Write("app/charts/cache/values.yaml", "image: {repository: redis, tag: \"7.4\"}\n");
        tmp.Write("app/charts/cache/templates/deploy.yaml", Deployment("\"{{ .Values.global.registry }}/library/{{ .Values.image.repository }}:{{ .Values.image.tag }}\""));
        tmp.Write("staging/proxy/Chart.yaml", "apiVersion: v2\nname: proxy\nversion: 2.0.0\n");
        tmp.Write("staging/proxy/templates/deploy.yaml", Deployment("envoyproxy/envoy:v1.32.1"));
        Directory.CreateDirectory(Path.Combine(root, "charts"));
        TempDir.PackTgz(Path.Combine(tmp.Path, "staging", "proxy"), Path.Combine(root, "charts", "proxy-2.0.0.tgz"));
        return root;
    }

    [Fact]
    public void Conditions_aliases_tags_values_and_kube_version_decide_the_images()
    {
        using var tmp = new TempDir();
        string root = MakeApp(tmp);
        var r = ImageDiscovery.Discover(new DiscoveryInput { Charts = [new ChartInput { Path = root }], KubeVersion = "1.31.2" });
        Assert.Equal(["docker.io/library/redis:7.4", "registry.k8s.io/kube-proxy:v1.31.2"], r.Images.Select(i => i.Reference));

        var r2 = ImageDiscovery.Discover(new DiscoveryInput
        {
            Charts = [new ChartInput { Path = root, SetValues = ["sessions.enabled=true,tags.edge=true,global.registry=mirror.local"], SetStringValues = ["cache.image.tag=7.2"] }],
        });
        Assert.Equal(
        [
            "docker.io/envoyproxy/envoy:v1.32.1",
            "mirror.local/library/redis:7.2",
            "mirror.local/library/redis:8.0",
            "registry.k8s.io/kube-proxy:v1.32.0", // helm 3.17's default Kubernetes version
        ], r2.Images.Select(i => i.Reference));
        // The archive subchart's template is located inside the archive.
        var envoy = r2.Images[0].Sources.Single();
        Assert.Equal(Path.Combine(root, "charts", "proxy-2.0.0.tgz") + "!templates/deploy.yaml", envoy.File);
        Assert.Equal(11, envoy.Line);
        Assert.Contains("chart proxy, template app/charts/proxy/templates/deploy.yaml: Deployment/release-name-proxy: spec.template.spec.containers[0].image", envoy.Detail);
        // The alias renders the same template under another name; both places are recorded.
        var sessions = r2.Images[2];
        Assert.Contains("template app/charts/sessions/templates/deploy.yaml", sessions.Sources.Single().Detail);
        Assert.Contains(Path.Combine(root, "values.yaml"), r2.InputFiles);
        Assert.Contains(Path.Combine(root, "charts", "proxy-2.0.0.tgz"), r2.InputFiles);
    }

    [Fact]
    public void Release_name_and_namespace_reach_the_templates()
    {
        using var tmp = new TempDir();
        tmp.Write("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
        tmp.Write("c/templates/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: \"example.com/{{ .Release.Namespace }}/{{ .Release.Name }}:{{ .Release.Revision }}\"\n");
        var r = ImageDiscovery.Discover(new DiscoveryInput { Charts = [new ChartInput { Path = Path.Combine(tmp.Path, "c"), ReleaseName = "web", Namespace = "prod" }] });
        Assert.Equal("example.com/prod/web:1", r.Images.Single().Reference);
    }

    [Fact]
    public void Library_chart_and_missing_dependency_are_coded_errors()
    {
        using var tmp = new TempDir();
        tmp.Write("lib/Chart.yaml", "apiVersion: v2\nname: lib\nversion: 1.0.0\ntype: library\n");
        var ex = Assert.Throws<SealerException>(() => ImageDiscovery.Discover(new DiscoveryInput { Charts = [new ChartInput { Path = Path.Combine(tmp.Path, "lib") }] }));
        Assert.Equal(ErrorCodes.LibraryChartNotInstallable, ex.Code);

        tmp.Write("app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- {name: db, version: 1.0.0, repository: https://charts.example.com}\n");
        var ex2 = Assert.Throws<SealerException>(() => ImageDiscovery.Discover(new DiscoveryInput { Charts = [new ChartInput { Path = Path.Combine(tmp.Path, "app") }] }));
        Assert.Equal(ErrorCodes.MissingChartDependency, ex2.Code);
        Assert.Equal(Path.Combine(tmp.Path, "app", "Chart.yaml"), ex2.File);
    }

    [Fact]
    public void Chart_kubeVersion_constraint_is_checked_like_helm()
    {
        string chart = Path.Combine(HelmOracle.CorpusDir, "cert-manager"); // kubeVersion: ">= 1.22.0-0"
        var helm = HelmOracle.Template("helm3", chart, null, ["--kube-version", "1.21.0"]);
        Assert.NotEqual(0, helm.ExitCode);
        Assert.Contains("incompatible with Kubernetes v1.21.0", helm.StdErr);
        var ex = Assert.Throws<SealerException>(() => ImageDiscovery.Discover(new DiscoveryInput { Charts = [new ChartInput { Path = chart }], KubeVersion = "1.21.0" }));
        Assert.Equal(ErrorCodes.ChartKubeVersionIncompatible, ex.Code);
        Assert.Contains("incompatible with Kubernetes v1.21.0", ex.Message);
        Assert.NotEmpty(ImageDiscovery.Discover(new DiscoveryInput { Charts = [new ChartInput { Path = chart }], KubeVersion = "v1.30.4" }).Images);
    }

    [Fact]
    public void Corpus_chart_images_with_provenance_lines_pointing_at_the_rendered_image()
    {
        string chart = Path.Combine(HelmOracle.CorpusDir, "metrics-server");
        var r = ImageDiscovery.Discover(new DiscoveryInput { Charts = [new ChartInput { Path = chart }] });
        var img = Assert.Single(r.Images);
        Assert.StartsWith("registry.k8s.io/metrics-server/metrics-server:v", img.Reference);
        var src = Assert.Single(img.Sources);
        Assert.Equal(Path.Combine(chart, "templates", "deployment.yaml"), src.File);
        // The line is in the rendered output of that template: check it against helm's rendering of the same template.
        var helm = HelmOracle.Template("helm3", chart, null, ["--skip-schema-validation", "--show-only", "templates/deployment.yaml"]);
        var lines = helm.StdOut.Split('\n').SkipWhile(l => !l.StartsWith("# Source:", StringComparison.Ordinal)).Skip(1).ToList();
        Assert.Contains("image:", lines[src.Line - 1]);
        Assert.Contains(img.Reference.Split('/').Last().Split(':').Last(), lines[src.Line - 1]);
    }
}
