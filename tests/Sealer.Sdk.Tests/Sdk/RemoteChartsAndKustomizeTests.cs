using System.Text.Json;
using Sealer.Core.ClusterImage;
using Sealer.Sdk.Tests.ClusterImage;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>
/// <c>dotnet build</c> of a .kubeproj naming charts where teams keep them — <c>oci://</c> (pushed with real <c>helm push</c>
/// into the loopback registry) and an HTTP repository (real <c>helm repo index</c>, served by nginx) — and a kustomize
/// overlay: pinned, carried, their images pulled; a no-op rebuild asks nobody anything (nginx's and the registries' access
/// logs); a re-published chart stops the build at the lock entry; a remote kustomize resource stops it at its line.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class RemoteChartsAndKustomizeTests(SdkFeed feed, ChartRepoServer repo) : IClassFixture<ChartRepoServer>
{
    private const string Nginx = "docker.io/library/nginx:1.27";
    private const string Redis = "docker.io/library/redis:7.4";

    private static readonly string[] Registries = ["docker.io", "quay.io", "registry.k8s.io"];

    private (int ExitCode, string Output, TimeSpan Elapsed) Build(string dir, string cache, string agent, string extra = "")
        => feed.Dotnet(dir, $"build -c Release {extra}", cache, new Dictionary<string, string> { ["SealerUserAgent"] = agent });

    private static string NewAgent() => $"sealer-sdk-tests/{Guid.NewGuid():N}";

    /// <summary>A chart "demo" at <paramref name="version"/> whose pod runs nginx, packaged by real helm; <paramref name="label"/> makes other bytes.</summary>
    private string PackageDemo(string version, string label)
    {
        string src = Path.Combine(feed.NewProjectDir("chart-src"), "demo");
        Directory.CreateDirectory(Path.Combine(src, "templates"));
        File.WriteAllText(Path.Combine(src, "Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 0.0.0\nappVersion: \"1.27\"\n");
        File.WriteAllText(Path.Combine(src, "templates", "pod.yaml"),
            $"apiVersion: v1\nkind: Pod\nmetadata:\n  name: demo\n  labels:\n    build: {label}\nspec:\n  containers:\n    - name: web\n      image: \"docker.io/library/nginx:{{{{ .Chart.AppVersion }}}}\"\n");
        string outDir = feed.NewProjectDir("chart-pkg");
        ChartRepoServer.Run(repo.Helm, "package", src, "--version", version, "-d", outDir);
        return Path.Combine(outDir, $"demo-{version}.tgz");
    }

    private void Push(string package, string ociNamespace)
        => ChartRepoServer.Run(repo.Helm, "push", package, ociNamespace, "--plain-http");

    /// <summary>Files of the assembled cluster image's rootfs (umoci unpack of the layout).</summary>
    private static string Unpack(string dir, string name, string tag)
    {
        string bundle = Path.Combine(dir, "unpacked-" + Guid.NewGuid().ToString("N")[..6]);
        var (code, output) = Processes.Run("umoci", "unpack", "--rootless", "--image", $"{Path.Combine(dir, "bin", "Release", name)}:{name}:{tag}", bundle);
        Assert.True(code == 0, output);
        return Path.Combine(bundle, "rootfs");
    }

    [Fact]
    public void Charts_from_an_oci_registry_and_an_http_repository_are_pinned_carried_and_their_images_pulled_then_a_no_op_rebuild_makes_no_request()
    {
        string ns = $"oci://{repo.Registry}/sdk-charts-{Guid.NewGuid():N}";
        Push(PackageDemo("1.0.0", "oci"), ns);
        string dir = feed.NewProjectDir("charts");
        new KubeProject()
            .Property("ClusterImageName", "charts")
            .Property("ClusterImageTag", "1.0")
            .Item("HelmChart", $"{ns}/demo", ("Version", "1.0.0"), ("ReleaseName", "from-oci"))
            .Item("HelmChart", "demo", ("Repository", repo.OpenUrl), ("Version", "1.x"), ("ReleaseName", "from-http"))
            .Mirrors(feed.Env)
            .Write(dir);
        string cache = feed.NewProjectDir("cache");
        var r = Build(dir, cache, NewAgent());
        Assert.True(r.ExitCode == 0, r.Output);

        // Pinned: charts.lock.json has both, with the digests of the bytes served (helm repo index's digest; the OCI layer).
        using (var lockJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "charts.lock.json"))))
        {
            var charts = lockJson.RootElement.GetProperty("charts").EnumerateArray().ToList();
            Assert.Equal(2, charts.Count);
            var http = Assert.Single(charts, c => c.GetProperty("repository").GetString() == repo.OpenUrl);
            Assert.Equal(("demo", "1.x", "1.1.0"), (http.GetProperty("name").GetString(), http.GetProperty("requested").GetString(), http.GetProperty("version").GetString()));
            Assert.Equal(repo.DigestOf("demo-1.1.0.tgz"), http.GetProperty("digest").GetString());
            var oci = Assert.Single(charts, c => c.GetProperty("repository").GetString()!.StartsWith("oci://", StringComparison.Ordinal));
            Assert.Equal(("1.0.0", "1.0.0"), (oci.GetProperty("requested").GetString(), oci.GetProperty("version").GetString()));
            Assert.StartsWith("sha256:", oci.GetProperty("digest").GetString());
            Assert.Equal("app.kubeproj", Path.GetFileName(oci.GetProperty("sources")[0].GetProperty("file").GetString()));
        }
        // images.lock.json pins the image the charts render, with the charts as its sources.
        string imagesLock = File.ReadAllText(Path.Combine(dir, "images.lock.json"));
        Assert.Contains($"\"reference\": \"{Nginx}\"", imagesLock);
        Assert.Contains("demo", imagesLock);

        // Carried: both as packaged charts under charts/, byte-identical to what was served; the image in the registry.
        string rootfs = Unpack(dir, "charts", "1.0");
        string[] carried = Directory.GetFiles(Path.Combine(rootfs, "charts")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(["demo-1.0.0.tgz", "demo-1.1.0.tgz"], carried);
        Assert.Equal(File.ReadAllBytes(Path.Combine(repo.Www, "open", "demo-1.1.0.tgz")), File.ReadAllBytes(Path.Combine(rootfs, "charts", "demo-1.1.0.tgz")));
        Assert.Equal([Nginx], ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "charts")).ImageReferences());
        SdkBuildTests.AssertCompleteRegistry(Path.Combine(rootfs, "registry"), [Nginx]);

        // A no-op rebuild: not one request to the chart repository (nginx's access log) or to any registry.
        int nginxBefore = repo.Requests().Length;
        var marks = Registries.ToDictionary(x => x, feed.Env.LogMark);
        string agent = NewAgent();
        var again = Build(dir, cache, agent);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal([], repo.Requests().Skip(nginxBefore));
        foreach (var (registry, mark) in marks) Assert.Equal([], feed.Env.RequestsSince(registry, mark, agent));
    }

    [Fact]
    public void A_chart_re_published_with_other_content_stops_the_build_at_its_lock_entry_until_refresh_is_asked_for()
    {
        string ns = $"oci://{repo.Registry}/sdk-retag-{Guid.NewGuid():N}";
        Push(PackageDemo("1.0.0", "first"), ns);
        string dir = feed.NewProjectDir("retag");
        new KubeProject()
            .Property("ClusterImageName", "retag")
            .Item("ContainerImage", Redis)
            .Item("HelmChart", $"{ns}/demo", ("Version", "1.0.0"))
            .Mirrors(feed.Env)
            .Write(dir);
        var first = Build(dir, feed.NewProjectDir("cache"), NewAgent());
        Assert.True(first.ExitCode == 0, first.Output);
        string lockPath = Path.Combine(dir, "charts.lock.json");
        string pinned = File.ReadAllText(lockPath);

        // Same name and version, other bytes, pushed over the tag. A fresh machine (empty cache) with the committed lock:
        Push(PackageDemo("1.0.0", "second"), ns);
        var stopped = Build(dir, feed.NewProjectDir("cache"), NewAgent());
        Assert.True(stopped.ExitCode != 0, stopped.Output);
        int entryLine = File.ReadAllLines(lockPath).Select((l, i) => (l, i)).First(x => x.l.TrimStart().StartsWith('{') && x.i > 0).i + 1;
        Assert.Contains($"charts.lock.json({entryLine}", stopped.Output);
        Assert.Contains("error SEA3606", stopped.Output);
        Assert.Contains("SealerRefresh=true", stopped.Output);
        Assert.Equal(pinned, File.ReadAllText(lockPath)); // the lock is not rewritten by a failed build

        var refreshed = Build(dir, feed.NewProjectDir("cache"), NewAgent(), "-p:SealerRefresh=true");
        Assert.True(refreshed.ExitCode == 0, refreshed.Output);
        string repinned = File.ReadAllText(lockPath);
        Assert.NotEqual(pinned, repinned);
        Assert.Contains("\"version\": \"1.0.0\"", repinned);
    }

    [Fact]
    public void A_kustomization_item_is_carried_rendered_and_its_transformed_images_pulled_and_a_remote_resource_is_an_error_at_its_line()
    {
        string dir = feed.NewProjectDir("kustomize");
        string baseDir = Path.Combine(dir, "deploy", "base"), prod = Path.Combine(dir, "deploy", "overlays", "prod");
        Directory.CreateDirectory(baseDir);
        Directory.CreateDirectory(prod);
        File.WriteAllText(Path.Combine(baseDir, "deployment.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cache\nspec:\n  template:\n    spec:\n      containers:\n        - name: cache\n          image: nginx\n");
        File.WriteAllText(Path.Combine(baseDir, "kustomization.yaml"), "resources:\n  - deployment.yaml\n");
        File.WriteAllText(Path.Combine(prod, "kustomization.yaml"),
            "resources:\n  - ../../base\nnamePrefix: prod-\nimages:\n  - name: nginx\n    newName: docker.io/library/redis\n    newTag: \"7.4\"\n");
        new KubeProject()
            .Property("ClusterImageName", "kustomize")
            .Property("ClusterImageTag", "1.0")
            .Item("Kustomization", "deploy/overlays/prod", ("Name", "shop"))
            .Mirrors(feed.Env)
            .Write(dir);
        string cache = feed.NewProjectDir("cache");
        var r = Build(dir, cache, NewAgent());
        Assert.True(r.ExitCode == 0, r.Output);

        // The image after the images: transformer, pulled; the overlay carried as what kubectl kustomize renders.
        Assert.Equal([Redis], ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "kustomize")).ImageReferences());
        string rootfs = Unpack(dir, "kustomize", "1.0");
        string rendered = File.ReadAllText(Path.Combine(rootfs, "manifests", "shop.yaml"));
        Assert.Contains("kind: Deployment", rendered);
        Assert.Contains("name: prod-cache", rendered);
        Assert.Contains("image: docker.io/library/redis:7.4", rendered);
        SdkBuildTests.AssertCompleteRegistry(Path.Combine(rootfs, "registry"), [Redis]);

        // A remote resource: the build is offline; SEA3702 at the kustomization's line that names it.
        File.WriteAllText(Path.Combine(prod, "kustomization.yaml"),
            "resources:\n  - ../../base\n  - https://github.com/kubernetes-sigs/metrics-server/releases/download/v0.7.2/components.yaml\n");
        var remote = Build(dir, cache, NewAgent());
        Assert.True(remote.ExitCode != 0, remote.Output);
        Assert.Contains("kustomization.yaml(3", remote.Output);
        Assert.Contains("error SEA3702", remote.Output);
    }
}
