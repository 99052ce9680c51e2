using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Sdk.Tests.ClusterImage;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>Builds real .kubeproj projects with `dotnet build` against the freshly packed SDK and the loopback registries.</summary>
[Collection(SdkCollection.Name)]
public sealed class SdkBuildTests(SdkFeed feed)
{
    private static readonly string[] Registries = ["docker.io", "quay.io", "registry.k8s.io"];

    /// <summary>A realistic project: an image, an image list, a COPY'd file, a kube app with its YAML, labels, env, launch.</summary>
    private (string Dir, string Project) WriteApp(string name = "shop", Action<KubeProject>? customize = null)
    {
        string dir = feed.NewProjectDir(name);
        Directory.CreateDirectory(Path.Combine(dir, "files"));
        Directory.CreateDirectory(Path.Combine(dir, "apps", "web"));
        File.WriteAllText(Path.Combine(dir, "files", "registry.conf"), "mirror=on\n");
        File.WriteAllText(Path.Combine(dir, "apps", "web", "deploy.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n");
        File.WriteAllText(Path.Combine(dir, "images.txt"), "# platform images\nquay.io/coreos/etcd:v3.5.15\nregistry.k8s.io/pause:3.9   # sandbox\n");
        Directory.CreateDirectory(Path.Combine(dir, "manifests", "monitoring"));
        File.WriteAllText(Path.Combine(dir, "manifests", "monitoring", "node-exporter.yaml"), """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: node-exporter
            spec:
              template:
                spec:
                  containers:
                    - name: node-exporter
                      image: quay.io/prometheus/node-exporter:v1.8.2
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: cache
            spec:
              containers:
                - name: redis
                  image: docker.io/library/redis:7.4
            """);
        var p = new KubeProject()
            .Property("KubernetesVersion", "v1.30.0")
            .Property("ClusterImageTag", "1.2.3")
            .Property("SealerLaunch", "web")
            .Item("ContainerImage", "nginx:1.27")
            .Item("ImageList", "images.txt")
            .Item("KubeManifest", "manifests/**/*.yaml")
            .Item("SealerFile", "files/registry.conf", ("Destination", "etc/"))
            .Item("SealerApp", "web", ("Source", "apps/web"), ("Type", "kube"))
            .Item("SealerLabel", "owner", ("Value", "team-a"))
            .Item("SealerEnv", "REGION", ("Value", "eu"))
            .Mirrors(feed.Env);
        customize?.Invoke(p);
        return (dir, p.Write(dir, name + ".kubeproj"));
    }

    private string NewCache() => feed.NewProjectDir("cache");

    /// <summary>Builds with a User-Agent of its own, so requests are counted per build (other test projects share the registries).</summary>
    private (int ExitCode, string Output, TimeSpan Elapsed) Build(string dir, string cache, string extra = "", string? agent = null)
        => feed.Dotnet(dir, $"build -c Release {extra}", cache, new Dictionary<string, string> { ["SealerUserAgent"] = agent ?? NewAgent() });

    private static string NewAgent() => $"sealer-sdk-tests/{Guid.NewGuid():N}";

    private Dictionary<string, long> Marks() => Registries.ToDictionary(r => r, feed.Env.LogMark);

    private int RequestsSince(Dictionary<string, long> marks, string agent) => marks.Sum(m => feed.Env.RequestsSince(m.Key, m.Value, agent).Count);

    [Fact]
    public void A_reused_MSBuild_node_names_the_line_of_an_edited_project()
    {
        // An IDE or the MSBuild server keeps the node that ran the tasks: an edit above an item moves its line, and the
        // error of the next build names the new one (the tasks once kept each project's lines for the node's life).
        string dir = feed.NewProjectDir("reused");
        string path = new KubeProject().Item("ContainerImage", "docker.io/library/NGINX:1.0").Write(dir);
        var env = ChildDotnet.Environment(feed.PackagesDir);
        env["MSBUILDDISABLENODEREUSE"] = null;
        env["MSBUILDNOINPROCNODE"] = "1"; // the tasks run in a worker node, which -nr:true keeps for the next build
        env["MSBUILDNODEHANDSHAKESALT"] = Guid.NewGuid().ToString("N"); // only this test's builds reuse it
        env["SEALER_CACHE_DIR"] = NewCache();
        int LineOf() => File.ReadAllLines(path).ToList().FindIndex(l => l.Contains("NGINX")) + 1;
        // Output to a file: the node that stays holds what the build's stdout was, and a pipe would not end until it goes.
        string Dotnet(string args)
        {
            Processes.Run("bash", ["-c", $"dotnet {args} > out.log 2>&1 < /dev/null"], dir, env);
            return File.ReadAllText(Path.Combine(dir, "out.log"));
        }
        string Build() => Dotnet("build -c Release -nr:true -m:1");
        try
        {
            int before = LineOf();
            Assert.Contains($"app.kubeproj({before}): error {ErrorCodes.InvalidImageReference}", Build());
            File.WriteAllText(path, File.ReadAllText(path).Replace("<ItemGroup>", "<!-- one -->\n<!-- two -->\n<!-- three -->\n<ItemGroup>"));
            int after = LineOf();
            Assert.Equal(before + 3, after);
            Assert.Contains($"app.kubeproj({after}): error {ErrorCodes.InvalidImageReference}", Build());
        }
        finally
        {
            Dotnet("build-server shutdown --msbuild");
        }
    }

    [Fact]
    public void Build_writes_a_cluster_image_that_skopeo_and_umoci_accept_with_every_image_by_full_ref()
    {
        var (dir, _) = WriteApp();
        string cache = NewCache();
        var r = Build(dir, cache);
        Assert.True(r.ExitCode == 0, r.Output);
        string layout = Path.Combine(dir, "bin", "Release", "shop");
        string archive = layout + ".tar";
        Assert.True(File.Exists(Path.Combine(layout, "index.json")), r.Output);
        Assert.True(File.Exists(archive));
        Assert.True(File.Exists(Path.Combine(dir, "images.lock.json")));

        var (code, output) = Processes.RunCommandLine("skopeo", $"inspect oci:{layout}:shop:1.2.3");
        Assert.True(code == 0, output);
        Assert.Contains("\"sealer.io.kubeversion\": \"v1.30.0\"", output);
        (code, output) = Processes.RunCommandLine("skopeo", $"inspect oci-archive:{archive}");
        Assert.True(code == 0, output);

        var reader = ClusterImageReader.Open(archive);
        var p = Assert.Single(reader.Platforms);
        Assert.Equal(["web"], p.Extension!.Launch.AppNames!);
        Assert.Equal("kube", Assert.Single(p.Apps).Type);
        Assert.Contains(new KeyValuePair<string, string>("REGION", "eu"), p.Env);
        string[] refs = ["docker.io/library/nginx:1.27", "docker.io/library/redis:7.4", "quay.io/coreos/etcd:v3.5.15", "quay.io/prometheus/node-exporter:v1.8.2", "registry.k8s.io/pause:3.9"];
        Assert.Equal(refs, reader.ImageReferences());

        string bundle = Path.Combine(dir, "unpacked");
        (code, output) = Processes.RunCommandLine("umoci", $"unpack --rootless --image {layout}:shop:1.2.3 {bundle}");
        Assert.True(code == 0, output);
        string rootfs = Path.Combine(bundle, "rootfs");
        Assert.Equal("mirror=on\n", File.ReadAllText(Path.Combine(rootfs, "etc", "registry.conf")));
        Assert.True(File.Exists(Path.Combine(rootfs, "application", "apps", "web", "web", "deploy.yaml")));
        Assert.True(File.Exists(Path.Combine(rootfs, "images.lock.json")));
        Assert.True(File.Exists(Path.Combine(rootfs, "manifests", "monitoring", "node-exporter.yaml")));
        string lockText = File.ReadAllText(Path.Combine(rootfs, "images.lock.json"));
        Assert.Contains("\"file\": \"manifests/monitoring/node-exporter.yaml\"", lockText);
        Assert.DoesNotContain(dir, lockText); // sources are project-relative
        AssertCompleteRegistry(Path.Combine(rootfs, "registry"), refs);
        AssertImageList(Path.Combine(rootfs, "registry"), refs);
        // skopeo reads OCI-typed images of the layout (it skips Docker media types in index.json, which we keep as served).
        (code, output) = Processes.RunCommandLine("skopeo", $"inspect --override-os linux --override-arch amd64 oci:{rootfs}/registry:docker.io/library/nginx:1.27");
        Assert.True(code == 0, output);

        // The SBOM beside the archive: the cluster image (by digest) and each app image it carries, with the digest
        // registry/index.json has, and the app.
        using var sbom = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(layout + ".spdx.json"));
        Assert.Equal("SPDX-2.3", sbom.RootElement.GetProperty("spdxVersion").GetString());
        var packages = sbom.RootElement.GetProperty("packages").EnumerateArray().ToList();
        string Checksum(System.Text.Json.JsonElement pkg) => "sha256:" + pkg.GetProperty("checksums")[0].GetProperty("checksumValue").GetString();
        Assert.Equal(reader.Descriptor.Digest, Checksum(packages.Single(x => x.GetProperty("SPDXID").GetString() == "SPDXRef-ClusterImage")));
        var byRef = Sealer.Core.Layout.OciLayout.Open(Path.Combine(rootfs, "registry")).ReadIndex().Manifests.ToDictionary(m => m.GetAnnotation(Sealer.Core.Oci.Annotations.RefName)!);
        var imagePackages = packages.Where(x => x.GetProperty("SPDXID").GetString()!.StartsWith("SPDXRef-Image-", StringComparison.Ordinal)).ToList();
        Assert.Equal(refs.Length, imagePackages.Count);
        foreach (var r0 in refs)
        {
            Assert.Contains(imagePackages, x => x.GetProperty("comment").GetString()!.StartsWith($"{r0}@{byRef[r0].Digest}", StringComparison.Ordinal) && Checksum(x) == byRef[r0].Digest);
        }
        Assert.Contains(packages, x => x.GetProperty("primaryPackagePurpose").GetString() == "APPLICATION" && x.GetProperty("name").GetString() == "web");
    }

    /// <summary>registry/images.json (supply chain) lists every image with the digest registry/index.json has, and per
    /// platform the manifest, config and layer digests of the manifests stored beside it.</summary>
    internal static void AssertImageList(string registry, string[] refs)
    {
        var layout = Sealer.Core.Layout.OciLayout.Open(registry);
        byte[] bytes = File.ReadAllBytes(Path.Combine(registry, "images.json"));
        var list = ClusterImageFormat.ReadImageList(bytes, "images.json");
        Assert.Equal(ContainedImageList.MediaType, list.DocumentMediaType);
        Assert.Equal(refs, list.Images.Select(i => i.Reference).Order(StringComparer.Ordinal));
        var byRef = layout.ReadIndex().Manifests.ToDictionary(m => m.GetAnnotation(Sealer.Core.Oci.Annotations.RefName)!);
        foreach (var image in list.Images)
        {
            Assert.Equal(byRef[image.Reference].Digest, image.Digest);
            var amd64 = Assert.Single(image.Platforms, p => p.Platform is null or "linux/amd64" && layout.HasBlob(Sealer.Core.Oci.Digest.Parse(p.Digest)));
            var manifest = Sealer.Core.Oci.OciJsonContext.FromBytes(layout.ReadBlobBytes(Sealer.Core.Oci.Digest.Parse(amd64.Digest)), Sealer.Core.Oci.OciJsonContext.Default.ImageManifest, "manifest");
            Assert.Equal(manifest.Config.Digest, amd64.Config);
            Assert.Equal(manifest.Layers.Select(l => l.Digest), amd64.Layers!);
        }
        // The same document that ClusterImageFormat builds from the layout (what `sealer inspect --images` shows).
        Assert.Equal(System.Text.Encoding.UTF8.GetString(ClusterImageFormat.CreateImageList(layout)), System.Text.Encoding.UTF8.GetString(bytes));
    }

    /// <summary>registry/ is an OCI layout whose index.json names every ref, and holds the amd64 closure of each (digests checked).</summary>
    internal static void AssertCompleteRegistry(string registry, string[] refs)
    {
        var layout = Sealer.Core.Layout.OciLayout.Open(registry);
        var index = layout.ReadIndex();
        Assert.Equal(refs, index.Manifests.Select(m => m.GetAnnotation(Sealer.Core.Oci.Annotations.RefName)).Order(StringComparer.Ordinal));
        var amd64 = Sealer.Core.Oci.Platform.Parse("linux/amd64");
        foreach (var top in index.Manifests)
        {
            var manifestDigest = top.ParsedDigest;
            if (Sealer.Core.Oci.MediaTypes.IsIndex(top.MediaType))
            {
                var idx = Sealer.Core.Oci.OciJsonContext.FromBytes(layout.ReadBlobBytes(top.ParsedDigest), Sealer.Core.Oci.OciJsonContext.Default.ImageIndex, "index");
                manifestDigest = idx.Manifests.First(m => amd64.Matches(m.Platform)).ParsedDigest;
            }
            var manifest = Sealer.Core.Oci.OciJsonContext.FromBytes(layout.ReadBlobBytes(manifestDigest), Sealer.Core.Oci.OciJsonContext.Default.ImageManifest, "manifest");
            layout.ReadBlobBytes(manifest.Config.ParsedDigest);
            foreach (var l in manifest.Layers)
            {
                Assert.True(layout.VerifyBlobAsync(l.ParsedDigest, l.Size).GetAwaiter().GetResult(), $"{top.GetAnnotation(Sealer.Core.Oci.Annotations.RefName)}: layer {l.Digest} missing or corrupt");
            }
        }
    }

    [Fact]
    public void Same_project_in_two_places_gives_the_same_digest_and_a_no_op_rebuild_skips_everything_without_network()
    {
        string cache = NewCache();
        var (dirA, _) = WriteApp("same");
        var (dirB, _) = WriteApp("same");
        var a = Build(dirA, cache);
        Assert.True(a.ExitCode == 0, a.Output);
        var b = Build(dirB, cache);
        Assert.True(b.ExitCode == 0, b.Output);
        string Digest(string dir) => ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "same")).Descriptor.Digest;
        Assert.Equal(Digest(dirA), Digest(dirB));

        var marks = Marks();
        string agent = NewAgent();
        var again = Build(dirA, cache, "-v:d", agent);
        Assert.True(again.ExitCode == 0, again.Output);
        foreach (var target in new[] { "ResolveClusterImages", "PullClusterImages", "AssembleClusterImage", "WriteClusterImageSbom" })
        {
            Assert.Contains($"Skipping target \"{target}\" because all output files are up-to-date", again.Output);
        }
        Assert.Equal(0, RequestsSince(marks, agent));
        Assert.Equal(Digest(dirB), Digest(dirA));
    }

    [Fact]
    public void A_changed_input_rebuilds_only_what_depends_on_it_and_refresh_re_resolves_tags()
    {
        string cache = NewCache();
        var (dir, _) = WriteApp("change");
        Assert.Equal(0, Build(dir, cache).ExitCode);
        File.WriteAllText(Path.Combine(dir, "files", "registry.conf"), "mirror=off\n");
        var marks = Marks();
        string agent = NewAgent();
        var r = Build(dir, cache, "-v:n", agent);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("reused", r.Output); // image layers came from the previous output
        Assert.Equal(0, RequestsSince(marks, agent));

        var labelOnly = Build(dir, cache, "-v:d -p:SealerSourceDateEpoch=1700000000");
        Assert.True(labelOnly.ExitCode == 0, labelOnly.Output);
        Assert.Contains("Skipping target \"PullClusterImages\"", labelOnly.Output);
        Assert.DoesNotContain("Skipping target \"AssembleClusterImage\"", labelOnly.Output);

        marks = Marks();
        agent = NewAgent();
        var refresh = Build(dir, cache, "-p:SealerRefresh=true", agent);
        Assert.True(refresh.ExitCode == 0, refresh.Output);
        Assert.True(RequestsSince(marks, agent) > 0, "SealerRefresh=true must ask the registries again, with SealerUserAgent");

        // A wiped image cache is pulled again at the locked digests, and the image comes out the same.
        string before = ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "change")).Descriptor.Digest;
        Directory.Delete(cache, recursive: true);
        var wiped = Build(dir, cache, "-v:n");
        Assert.True(wiped.ExitCode == 0, wiped.Output);
        Assert.Contains("blobs / ", wiped.Output); // PullClusterImages ran and downloaded
        Assert.True(File.Exists(Path.Combine(cache, "index.json")));
        Assert.Equal(before, ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "change")).Descriptor.Digest);
    }

    [Fact]
    public void After_one_chart_changed_only_that_chart_is_rendered_and_an_unchanged_image_list_pulls_nothing()
    {
        string cache = NewCache();
        string dir = feed.NewProjectDir("charts3");
        string[] images = ["docker.io/library/redis:7.4", "docker.io/library/nginx:1.27", "registry.k8s.io/pause:3.9"];
        for (int i = 0; i < images.Length; i++)
        {
            string chart = Path.Combine(dir, "charts", $"c{i}");
            Directory.CreateDirectory(Path.Combine(chart, "templates"));
            File.WriteAllText(Path.Combine(chart, "Chart.yaml"), $"apiVersion: v2\nname: c{i}\nversion: 1.0.0\n");
            File.WriteAllText(Path.Combine(chart, "values.yaml"), $"image: {images[i]}\n");
            File.WriteAllText(Path.Combine(chart, "templates", "pod.yaml"),
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Chart.Name }}\nspec:\n  containers:\n  - name: main\n    image: {{ .Values.image }}\n");
        }
        new KubeProject()
            .Property("KubernetesVersion", "v1.30.0")
            .Item("HelmChart", "charts/c0").Item("HelmChart", "charts/c1").Item("HelmChart", "charts/c2")
            .Mirrors(feed.Env)
            .Write(dir, "charts3.kubeproj");
        var first = Build(dir, cache, "-v:n");
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("charts: 3 rendered, 0 unchanged", first.Output);
        string Digest() => ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "charts3")).Descriptor.Digest;
        string before = Digest();

        // A template edit that keeps the images: one chart rendered, the image list kept, nothing pulled, a new cluster image.
        File.AppendAllText(Path.Combine(dir, "charts", "c1", "templates", "pod.yaml"), "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n");
        var marks = Marks();
        string agent = NewAgent();
        var edited = Build(dir, cache, "-v:d", agent);
        Assert.True(edited.ExitCode == 0, edited.Output);
        Assert.Contains("charts: 1 rendered, 2 unchanged; the image list is unchanged", edited.Output);
        Assert.Contains("Skipping target \"PullClusterImages\" because all output files are up-to-date", edited.Output);
        Assert.DoesNotContain("Skipping target \"AssembleClusterImage\"", edited.Output);
        Assert.Equal(0, RequestsSince(marks, agent));
        Assert.NotEqual(before, Digest());

        // A values edit that changes an image: that chart only, and the pull runs for the new image.
        File.WriteAllText(Path.Combine(dir, "charts", "c2", "values.yaml"), "image: docker.io/library/busybox:1.36\n");
        var retagged = Build(dir, cache, "-v:d");
        Assert.True(retagged.ExitCode == 0, retagged.Output);
        Assert.Contains("charts: 1 rendered, 2 unchanged", retagged.Output);
        Assert.DoesNotContain("the image list is unchanged", retagged.Output);
        Assert.DoesNotContain("Skipping target \"PullClusterImages\"", retagged.Output);
        Assert.Contains("docker.io/library/busybox:1.36", File.ReadAllText(Path.Combine(dir, "images.lock.json")));

        // Nothing changed: the whole build is skipped.
        var again = Build(dir, cache, "-v:d");
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("Skipping target \"ResolveClusterImages\" because all output files are up-to-date", again.Output);
    }

    [Fact]
    public void ResolveHelmCharts_is_skipped_on_a_no_op_build_runs_again_when_a_dependency_list_changes_and_later_targets_see_its_items()
    {
        string cache = NewCache();
        string dir = feed.NewProjectDir("chartdeps");
        void Chart(string name, string body, string? image = null)
        {
            string chart = Path.Combine(dir, "charts", name);
            Directory.CreateDirectory(Path.Combine(chart, "templates"));
            File.WriteAllText(Path.Combine(chart, "Chart.yaml"), body);
            if (image is not null)
            {
                File.WriteAllText(Path.Combine(chart, "templates", "pod.yaml"),
                    $"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: main\n    image: {image}\n");
            }
        }
        // "app" names its subcharts in Chart.yaml without vendoring them (file:// dependencies: planned like helm dependency
        // build, offline). Their images are found only through the SealerDependencies ResolveHelmCharts hands on.
        Chart("redis", "apiVersion: v2\nname: redis\nversion: 1.0.0\n", "docker.io/library/redis:7.4");
        Chart("pause", "apiVersion: v2\nname: pause\nversion: 1.0.0\n", "registry.k8s.io/pause:3.9");
        Chart("app", "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 1.0.0\n  repository: file://../redis\n", "docker.io/library/nginx:1.27");
        new KubeProject()
            .Property("KubernetesVersion", "v1.30.0")
            .Item("HelmChart", "charts/app", ("ReleaseName", "shop"))
            .Mirrors(feed.Env)
            .Write(dir, "chartdeps.kubeproj");
        string imagesLock = Path.Combine(dir, "images.lock.json");
        var first = Build(dir, cache, "-v:n");
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("docker.io/library/redis:7.4", File.ReadAllText(imagesLock));
        Assert.Contains("charts.items.props", string.Join("\n", Directory.GetFiles(Path.Combine(dir, "obj"), "*", SearchOption.AllDirectories)));

        // No-op: the task does not run (no Sealer.Tasks load), yet ResolveClusterImages sees the same items (skipped too:
        // its state hash over _SealerHelmChart's metadata, SealerDependencies included, is unchanged).
        var marks = Marks();
        string agent = NewAgent();
        var noop = Build(dir, cache, "-v:d", agent);
        Assert.True(noop.ExitCode == 0, noop.Output);
        foreach (var target in new[] { "ResolveHelmCharts", "ResolveClusterImages", "PullClusterImages", "AssembleClusterImage" })
        {
            Assert.Contains($"Skipping target \"{target}\" because all output files are up-to-date", noop.Output);
        }
        Assert.Equal(0, RequestsSince(marks, agent));

        // A template edit of a chart: charts are rendered again, the dependency plan is not made again.
        File.AppendAllText(Path.Combine(dir, "charts", "app", "templates", "pod.yaml"), "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n");
        var template = Build(dir, cache, "-v:d");
        Assert.True(template.ExitCode == 0, template.Output);
        Assert.Contains("Skipping target \"ResolveHelmCharts\" because all output files are up-to-date", template.Output);
        Assert.DoesNotContain("Skipping target \"ResolveClusterImages\"", template.Output);
        Assert.Contains("docker.io/library/redis:7.4", File.ReadAllText(imagesLock)); // the dependency still rendered

        // The dependency list changes (a second unvendored subchart): the plan is made again and its image is found.
        File.AppendAllText(Path.Combine(dir, "charts", "app", "Chart.yaml"), "- name: pause\n  version: 1.0.0\n  repository: file://../pause\n");
        var changed = Build(dir, cache, "-v:d");
        Assert.True(changed.ExitCode == 0, changed.Output);
        Assert.DoesNotContain("Skipping target \"ResolveHelmCharts\"", changed.Output);
        Assert.Contains("registry.k8s.io/pause:3.9", File.ReadAllText(imagesLock));

        // A subchart vendored under charts/ (a new file, an old timestamp as cp -p or an unpacked archive leave it) wins over
        // the file:// one, as with helm: the target runs again (the set of chart files changed) and the vendored image is used.
        string vendored = Path.Combine(dir, "charts", "app", "charts", "pause");
        Directory.CreateDirectory(Path.Combine(vendored, "templates"));
        File.WriteAllText(Path.Combine(vendored, "Chart.yaml"), "apiVersion: v2\nname: pause\nversion: 1.0.0\n");
        File.WriteAllText(Path.Combine(vendored, "templates", "pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: vendored\nspec:\n  containers:\n  - name: main\n    image: docker.io/library/busybox:1.36\n");
        foreach (var f in Directory.GetFiles(vendored, "*", SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(f, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var vendoredBuild = Build(dir, cache, "-v:d");
        Assert.True(vendoredBuild.ExitCode == 0, vendoredBuild.Output);
        Assert.DoesNotContain("Skipping target \"ResolveHelmCharts\"", vendoredBuild.Output);
        string pinned = File.ReadAllText(imagesLock);
        Assert.Contains("docker.io/library/busybox:1.36", pinned);
        Assert.DoesNotContain("registry.k8s.io/pause:3.9", pinned);

        var again = Build(dir, cache, "-v:d");
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("Skipping target \"ResolveHelmCharts\" because all output files are up-to-date", again.Output);
        Assert.Contains("Skipping target \"ResolveClusterImages\" because all output files are up-to-date", again.Output);
    }

    [Fact]
    public void The_cluster_image_pushes_to_a_registry_and_serves_as_the_base_of_another()
    {
        var (dir, _) = WriteApp("pushme");
        string cache = NewCache();
        var r = Build(dir, cache);
        Assert.True(r.ExitCode == 0, r.Output);
        string repo = $"sdk-tests/pushme-{Guid.NewGuid():N}";
        string target = $"{feed.Env.Registry("docker.io").Address}/{repo}:1.2.3";
        var (code, output) = Processes.RunCommandLine("skopeo", $"copy --preserve-digests --dest-tls-verify=false oci:{Path.Combine(dir, "bin", "Release", "pushme")}:pushme:1.2.3 docker://{target}");
        Assert.True(code == 0, output);
        (code, output) = Processes.RunCommandLine("skopeo", $"inspect --tls-verify=false docker://{target}");
        Assert.True(code == 0, output);
        Assert.Contains("sealer.io.kubeversion", output);

        // FROM the pushed image (through the docker.io mirror): its layers are kept as they are, its images stay listed.
        string child = feed.NewProjectDir("child");
        File.WriteAllText(Path.Combine(child, "extra.conf"), "x=1\n");
        new KubeProject()
            .Property("SealerBaseImage", $"docker.io/{repo}:1.2.3")
            .Property("SealerLaunch", "web") // an app only the base defines
            .Item("ContainerImage", "busybox:1.36")
            .Item("SealerFile", "extra.conf", ("Destination", "etc/"))
            .Mirrors(feed.Env)
            .Write(child);
        r = Build(child, cache);
        Assert.True(r.ExitCode == 0, r.Output);
        var parent = ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "pushme")).Platforms[0];
        var reader = ClusterImageReader.OpenLayout(Path.Combine(child, "bin", "Release", "app"));
        var p = reader.Platforms[0];
        Assert.Equal(parent.Manifest.Layers.Select(l => l.Digest), p.Manifest.Layers.Take(parent.Manifest.Layers.Count).Select(l => l.Digest));
        Assert.Contains("docker.io/library/busybox:1.36", reader.ImageReferences());
        Assert.Contains("quay.io/coreos/etcd:v3.5.15", reader.ImageReferences());
        Assert.Equal("web", Assert.Single(p.Apps).Name);
        Assert.Equal("team-a", p.Labels["owner"]);
    }

    [Fact]
    public void Publish_PushClusterImage_builds_then_pushes_the_same_digest_and_a_second_push_uploads_no_blob()
    {
        var (dir, _) = WriteApp("pushed");
        string cache = NewCache();
        var registry = feed.Env.Registry("docker.io");
        string prefix = $"sdk-tests/{Guid.NewGuid():N}";
        string target = $"{registry.Address}/{prefix}/pushed:1.2.3";

        // Nothing built yet: the target builds first (DependsOnTargets Build), then pushes every platform.
        long mark = feed.Env.LogMark("docker.io");
        var r = feed.Dotnet(dir, $"publish -c Release -t:PushClusterImage -p:ClusterImageRegistry={registry.Address}/{prefix}", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        string local = ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "pushed")).Descriptor.Digest;
        Assert.Contains($"Sealer: pushed {target}@{local}", r.Output);
        var first = feed.Env.RequestsSince("docker.io", mark).Where(l => l.Contains($"/v2/{prefix}/", StringComparison.Ordinal)).ToList();
        Assert.Contains(first, l => l.Contains("\"PUT ", StringComparison.Ordinal) && l.Contains("/blobs/uploads/", StringComparison.Ordinal));

        var (code, raw) = Processes.RunCommandLine("skopeo", $"inspect --raw --tls-verify=false docker://{target}");
        Assert.True(code == 0, raw);
        Assert.Equal(local, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw.TrimEnd('\n')))));
        (code, string inspect) = Processes.RunCommandLine("skopeo", $"inspect --tls-verify=false docker://{target}");
        Assert.True(code == 0, inspect);
        Assert.Contains(local, inspect);

        // After a build (a no-op here), the push again: every blob is already there, only the manifest is PUT again.
        mark = feed.Env.LogMark("docker.io");
        r = feed.Dotnet(dir, $"build -c Release -t:Build;PushClusterImage -p:SealerPushDestination={target}", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("blobs: 0 uploaded / 0 bytes", r.Output);
        var second = feed.Env.RequestsSince("docker.io", mark).Where(l => l.Contains($"/v2/{prefix}/", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(second, l => l.Contains("/blobs/uploads", StringComparison.Ordinal) || l.Contains("\"PATCH ", StringComparison.Ordinal));
        Assert.Contains(second, l => l.Contains("\"PUT ", StringComparison.Ordinal) && l.Contains("/manifests/1.2.3", StringComparison.Ordinal));

        // No destination: a coded error that says what to set.
        r = feed.Dotnet(dir, "build -c Release -t:PushClusterImage", cache);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("SEA1305", r.Output);
    }

    [Fact]
    public void FROM_an_oci_layout_or_oci_archive_goes_through_BaseImageResolver_without_pulling_the_base()
    {
        var (dir, _) = WriteApp("base");
        string cache = NewCache();
        var r = Build(dir, cache);
        Assert.True(r.ExitCode == 0, r.Output);
        var parent = ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "base")).Platforms[0];
        string store = feed.NewProjectDir("store");

        foreach (string from in new[] { $"oci:{Path.Combine(dir, "bin", "Release", "base")}:base:1.2.3", $"oci-archive:{Path.Combine(dir, "bin", "Release", "base.tar")}" })
        {
            string child = feed.NewProjectDir("child");
            File.WriteAllText(Path.Combine(child, "extra.conf"), "x=1\n");
            new KubeProject()
                .Property("SealerBaseImage", from)
                .Property("SealerLaunch", "web")
                .Item("SealerFile", "extra.conf", ("Destination", "etc/"))
                .Mirrors(feed.Env)
                .Write(child);
            string agent = NewAgent();
            var marks = Marks();
            r = feed.Dotnet(child, "build -c Release", cache, new Dictionary<string, string> { ["SealerUserAgent"] = agent, ["SEALER_IMAGES_DIR"] = store });
            Assert.True(r.ExitCode == 0, r.Output);
            Assert.Equal(0, RequestsSince(marks, agent)); // the base is local: nothing asked of any registry
            var reader = ClusterImageReader.OpenLayout(Path.Combine(child, "bin", "Release", "app"));
            var p = reader.Platforms[0];
            Assert.Equal(parent.Manifest.Layers.Select(l => l.Digest), p.Manifest.Layers.Take(parent.Manifest.Layers.Count).Select(l => l.Digest));
            Assert.Equal(parent.Manifest.Layers.Count + 2, p.Manifest.Layers.Count); // + rootfs + registry metadata
            Assert.Contains("quay.io/coreos/etcd:v3.5.15", reader.ImageReferences());
            Assert.Equal("web", Assert.Single(p.Apps).Name);
        }

        // A missing layout: the resolver's coded error, at the project's SealerBaseImage line.
        string bad = feed.NewProjectDir("bad");
        new KubeProject().Property("SealerBaseImage", "oci:/nonexistent/layout").Write(bad);
        r = feed.Dotnet(bad, "build -c Release", cache);
        Assert.NotEqual(0, r.ExitCode);
        Assert.True(r.Output.Contains(ErrorCodes.BaseImageNotFound, StringComparison.Ordinal) && r.Output.Contains("app.kubeproj(", StringComparison.Ordinal), r.Output);
    }

    [Fact]
    public void Clean_removes_the_output_and_rebuild_writes_it_again()
    {
        var (dir, _) = WriteApp("cleanme");
        string cache = NewCache();
        Assert.Equal(0, Build(dir, cache).ExitCode);
        string layout = Path.Combine(dir, "bin", "Release", "cleanme");
        var clean = feed.Dotnet(dir, "clean -c Release", cache);
        Assert.True(clean.ExitCode == 0, clean.Output);
        Assert.False(Directory.Exists(layout));
        Assert.False(File.Exists(layout + ".tar"));
        Assert.False(File.Exists(layout + ".spdx.json"));
        var rebuild = feed.Dotnet(dir, "build -c Release -t:Rebuild", cache);
        Assert.True(rebuild.ExitCode == 0, rebuild.Output);
        Assert.True(File.Exists(Path.Combine(layout, "index.json")));
        Assert.True(File.Exists(layout + ".tar"));
        Assert.True(File.Exists(layout + ".spdx.json"));
        // SealerSbom=false: none
        Assert.True(feed.Dotnet(dir, "clean -c Release", cache).ExitCode == 0);
        var without = feed.Dotnet(dir, "build -c Release -p:SealerSbom=false", cache);
        Assert.True(without.ExitCode == 0, without.Output);
        Assert.True(File.Exists(layout + ".tar"));
        Assert.False(File.Exists(layout + ".spdx.json"));
    }

    [Fact]
    public void A_design_time_build_is_fast_and_offline()
    {
        // Mirrors to a closed port and an empty cache: any network attempt would fail or hang.
        string dir = feed.NewProjectDir("ide");
        new KubeProject().Item("ContainerImage", "nginx:1.27").Item("SealerRegistryMirror", "docker.io", ("Mirrors", "http://127.0.0.1:9"), ("FallbackToSource", "false")).Write(dir);
        var restore = feed.Dotnet(dir, "restore", NewCache());
        Assert.True(restore.ExitCode == 0, restore.Output);
        var r = feed.Dotnet(dir, "build --no-restore -p:DesignTimeBuild=true", NewCache());
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.False(Directory.Exists(Path.Combine(dir, "bin")) && Directory.EnumerateFileSystemEntries(Path.Combine(dir, "bin"), "*", SearchOption.AllDirectories).Any(f => f.EndsWith("index.json", StringComparison.Ordinal)));
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(20), $"design-time build took {r.Elapsed}");
        var ide = feed.Dotnet(dir, "build --no-restore -p:BuildingProject=false", NewCache());
        Assert.True(ide.ExitCode == 0, ide.Output);
        Assert.DoesNotContain("images found", ide.Output);
    }

    [Fact]
    public void Errors_are_coded_and_point_at_the_project_or_list_line()
    {
        string cache = NewCache();
        // An image that no registry has.
        var (dir, project) = WriteApp("missing", p => p.Item("ContainerImage", "docker.io/library/does-not-exist:9.9"));
        var r = Build(dir, cache);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches(@"error SEA1\d{3}: .*does-not-exist", r.Output);

        // A bad reference in an image list: the list's file and line.
        var (dir2, _) = WriteApp("badlist");
        File.AppendAllText(Path.Combine(dir2, "images.txt"), "Not A Reference!!\n");
        r = Build(dir2, cache);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches($@"images\.txt\(4(,\d+)?\): error {ErrorCodes.InvalidImageListEntry}", r.Output);

        // A bad reference in a manifest: the manifest's file and line.
        var (dir5, _) = WriteApp("badmanifest");
        File.WriteAllText(Path.Combine(dir5, "manifests", "bad.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n    - name: x\n      image: docker.io/library/Bad_Image:1\n");
        r = Build(dir5, cache);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches($@"manifests/bad\.yaml\(8(,\d+)?\): error {ErrorCodes.InvalidImageReference}", r.Output);

        // A bad ContainerImage item: the .kubeproj line of the item.
        string dir3 = feed.NewProjectDir("baditem");
        string path = new KubeProject().Item("ContainerImage", "docker.io/library/NGINX:1.0").Write(dir3);
        int line = File.ReadAllLines(path).ToList().FindIndex(l => l.Contains("NGINX")) + 1;
        r = Build(dir3, cache);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"app.kubeproj({line}): error {ErrorCodes.InvalidImageReference}", r.Output);

        // LAUNCH and CMDS together.
        var (dir4, _) = WriteApp("both", p => p.Property("SealerCmds", "kubectl get nodes"));
        r = Build(dir4, cache);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"error {ErrorCodes.LaunchAndCmdsBothSet}", r.Output);
        _ = project;
    }

    [Fact]
    public void Dotnet_sln_add_and_global_json_sdk_pins_work()
    {
        string dir = feed.NewProjectDir("slnapp");
        new KubeProject { Sdk = "Sealer.Sdk" }.Item("ContainerImage", "busybox:1.36").Mirrors(feed.Env).Write(dir);
        File.WriteAllText(Path.Combine(dir, "global.json"), """{ "msbuild-sdks": { "Sealer.Sdk": "0.1.0" } }""");
        string cache = NewCache();
        var r = feed.Dotnet(dir, "new sln -n cluster", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        string sln = Directory.GetFiles(dir, "cluster.sln*").Single();
        r = feed.Dotnet(dir, $"sln {Path.GetFileName(sln)} add app.kubeproj", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("app.kubeproj", File.ReadAllText(sln));
        r = feed.Dotnet(dir, $"build {Path.GetFileName(sln)} -c Release", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.True(File.Exists(Path.Combine(dir, "bin", "Release", "app", "index.json")), r.Output);
        Assert.Equal(["docker.io/library/busybox:1.36"], ClusterImageReader.Open(Path.Combine(dir, "bin", "Release", "app.tar")).ImageReferences());
    }
}
