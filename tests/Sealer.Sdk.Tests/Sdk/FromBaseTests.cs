using System.Text.Json;
using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;
using Sealer.Sdk.Tests.ClusterImage;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>
/// FROM a cluster image that already carries app images: the child neither pulls them (not a manifest, not a blob, counted in
/// the loopback registries' access logs) nor collects them again; it records them as coming from the base and still serves
/// every image. Every base form: registry ref, <c>oci:</c> layout, <c>oci-archive:</c>, a local store name.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class FromBaseTests(SdkFeed feed)
{
    private const string A = "docker.io/library/nginx:1.27";
    private const string B = "quay.io/coreos/etcd:v3.5.15";
    private const string C = "docker.io/library/redis:7.4";

    private static readonly (string Registry, string Path)[] PathsOfAB = [("docker.io", "/v2/library/nginx/"), ("quay.io", "/v2/coreos/etcd/")];

    /// <summary>The base: images A and B, a kube app launched, an env, a label; built once, archived, pushed, loaded into a store.</summary>
    private (string Layout, string Archive, string Repo, string Store) BuildBase() => BuildBase(feed.NewProjectDir("base"));

    private (string Layout, string Archive, string Repo, string Store) BuildBase(string dir, params string[] extraImages)
    {
        Directory.CreateDirectory(Path.Combine(dir, "apps", "web"));
        File.WriteAllText(Path.Combine(dir, "apps", "web", "deploy.yaml"), $"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: {A}\n");
        var p = new KubeProject()
            .Property("ClusterImageTag", "1.0")
            .Property("SealerLaunch", "web")
            .Item("ContainerImage", B)
            .Item("KubeManifest", "apps/web/deploy.yaml")
            .Item("SealerApp", "web", ("Source", "apps/web"), ("Type", "kube"))
            .Item("SealerEnv", "REGION", ("Value", "eu"))
            .Item("SealerLabel", "owner", ("Value", "team-a"))
            .Mirrors(feed.Env);
        foreach (var i in extraImages) p.Item("ContainerImage", i);
        p.Write(dir, "base.kubeproj");
        var r = feed.Dotnet(dir, "build -c Release", feed.NewProjectDir("cache"));
        Assert.True(r.ExitCode == 0, r.Output);
        string layout = Path.Combine(dir, "bin", "Release", "base");
        Assert.Equal([A, .. extraImages, B], ClusterImageReader.OpenLayout(layout).ImageReferences());

        string repo = $"sdk-tests/from-base-{Guid.NewGuid():N}";
        var (code, output) = Processes.RunCommandLine("skopeo", $"copy --preserve-digests --dest-tls-verify=false oci:{layout}:base:1.0 docker://{feed.Env.Registry("docker.io").Address}/{repo}:1.0");
        Assert.True(code == 0, output);
        string store = feed.NewProjectDir("store");
        OciArchive.LoadAsync(ClusterImageStore.Open(store), layout + ".tar").GetAwaiter().GetResult();
        return (layout, layout + ".tar", repo, store);
    }

    private (string Dir, string Agent, Dictionary<string, long> Marks, (int ExitCode, string Output, TimeSpan Elapsed) Result) BuildChild(string from, string store, string[] images, Action<string>? before = null, string? dir = null, string? cache = null)
    {
        if (dir is not null) return Rebuild(dir, store, cache!);
        dir = feed.NewProjectDir("child");
        Directory.CreateDirectory(Path.Combine(dir, "apps", "extra"));
        File.WriteAllText(Path.Combine(dir, "apps", "extra", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n");
        var p = new KubeProject()
            .Property("SealerBaseImage", from)
            .Item("SealerApp", "extra", ("Source", "apps/extra"), ("Type", "kube"))
            .Item("SealerEnv", "ZONE", ("Value", "a"))
            .Mirrors(feed.Env);
        foreach (var i in images) p.Item("ContainerImage", i);
        p.Write(dir);
        before?.Invoke(dir);
        // A fresh image cache: nothing of A or B is cached, so only the base can provide them.
        return Rebuild(dir, store, cache ?? feed.NewProjectDir("cache"));
    }

    private (string Dir, string Agent, Dictionary<string, long> Marks, (int ExitCode, string Output, TimeSpan Elapsed) Result) Rebuild(string dir, string store, string cache)
    {
        string agent = $"sealer-sdk-tests/{Guid.NewGuid():N}";
        var marks = new[] { "docker.io", "quay.io", "registry.k8s.io" }.ToDictionary(r => r, feed.Env.LogMark);
        var r = feed.Dotnet(dir, "build -c Release", cache, new Dictionary<string, string> { ["SealerUserAgent"] = agent, ["SEALER_IMAGES_DIR"] = store });
        return (dir, agent, marks, r);
    }

    private List<string> Requests(Dictionary<string, long> marks, string agent, string registry, string path)
        => feed.Env.RequestsSince(registry, marks[registry], agent).Where(l => l.Contains(path, StringComparison.Ordinal)).ToList();

    [Fact]
    public void A_child_FROM_any_base_form_takes_the_images_the_base_carries_from_the_base_and_pulls_only_the_rest()
    {
        var (layout, archive, repo, store) = BuildBase();
        var forms = new[]
        {
            $"docker.io/{repo}:1.0",
            $"oci:{layout}:base:1.0",
            $"oci-archive:{archive}",
            "base:1.0",
        };
        // Blobs redis (C) shares with what the base carries for linux/amd64 (nginx's layers).
        var carriedBlobs = BaseImageContent.CarriedBlobs(ClusterImageReader.OpenLayout(layout).Platforms[0].Manifest);
        var sharedBlobs = feed.Env.Image("redis").Blobs.Select(b => b.Digest).Where(carriedBlobs.Contains).ToList();
        Assert.NotEmpty(sharedBlobs);
        foreach (var from in forms)
        {
            var (dir, agent, marks, r) = BuildChild(from, store, [A, B, C]);
            Assert.True(r.ExitCode == 0, $"FROM {from}: {r.Output}");
            foreach (var (registry, path) in PathsOfAB)
            {
                var seen = Requests(marks, agent, registry, path);
                Assert.True(seen.Count == 0, $"FROM {from}: the base carries {path}, yet the child asked {registry}:\n{string.Join('\n', seen)}");
            }
            // C is pulled, except the blobs it shares with A: those are read out of the base's layers.
            var redisBlobs = Requests(marks, agent, "docker.io", "/v2/library/redis/blobs/");
            Assert.NotEmpty(redisBlobs);
            foreach (var shared in sharedBlobs) Assert.DoesNotContain(redisBlobs, l => l.Contains(shared, StringComparison.Ordinal));
            Assert.Contains($"{sharedBlobs.Count} blobs from the base image", r.Output);
            Assert.Contains("2 carried by the base image", r.Output);

            // Provenance: the lock and pulled.json say where A and B come from.
            using (var lockJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "images.lock.json"))))
            {
                var entries = lockJson.RootElement.GetProperty("images").EnumerateArray().ToDictionary(e => e.GetProperty("reference").GetString()!, e => e);
                Assert.True(entries[A].TryGetProperty("from", out var fa) && fa.GetString()!.Length > 0, $"FROM {from}: {entries[A]}");
                Assert.True(entries[B].TryGetProperty("from", out _));
                Assert.False(entries[C].TryGetProperty("from", out _));
                Assert.Contains("linux/amd64", entries[A].GetProperty("platforms").EnumerateObject().Select(o => o.Name));
            }
            var pulled = PulledImagesFile.Read(Path.Combine(dir, "obj", "Release", "sealer", "pulled.json"));
            Assert.Equal([A, B], pulled.Images.Where(i => i.From is not null).Select(i => i.Reference).Order(StringComparer.Ordinal));

            // The result serves A, B and C, keeps the base's layers, merges apps and env, keeps the base's launch.
            string childLayout = Path.Combine(dir, "bin", "Release", "app");
            var reader = ClusterImageReader.OpenLayout(childLayout);
            var p = Assert.Single(reader.Platforms);
            var parent = ClusterImageReader.OpenLayout(layout).Platforms[0];
            Assert.Equal(parent.Manifest.Layers.Select(l => l.Digest), p.Manifest.Layers.Take(parent.Manifest.Layers.Count).Select(l => l.Digest));
            Assert.Equal([A, C, B], reader.ImageReferences());
            Assert.Equal(["extra", "web"], p.Apps.Select(a => a.Name).Order(StringComparer.Ordinal));
            Assert.Equal(["web"], p.Extension!.Launch.AppNames!);
            Assert.Contains(new KeyValuePair<string, string>("REGION", "eu"), p.Env);
            Assert.Contains(new KeyValuePair<string, string>("ZONE", "a"), p.Env);
            Assert.Equal("team-a", p.Labels["owner"]);
            // No layer of the child repeats an app image blob the base carries.
            var baseBlobs = BaseImageContent.CarriedBlobs(parent.Manifest);
            Assert.DoesNotContain(p.Manifest.Layers.Skip(parent.Manifest.Layers.Count), l => l.GetAnnotation(ClusterImageFormat.LayerBlobAnnotation) is { } b && baseBlobs.Contains(b));

            string bundle = Path.Combine(dir, "unpacked");
            var (code, output) = Processes.RunCommandLine("umoci", $"unpack --rootless --image {childLayout}:app:1.0.0 {bundle}");
            Assert.True(code == 0, output);
            SdkBuildTests.AssertCompleteRegistry(Path.Combine(bundle, "rootfs", "registry"), [A, C, B]);
            Assert.True(File.Exists(Path.Combine(bundle, "rootfs", "application", "apps", "web", "web", "deploy.yaml")));
            Assert.True(File.Exists(Path.Combine(bundle, "rootfs", "application", "apps", "extra", "extra", "cm.yaml")));
        }
    }

    [Fact]
    public void A_child_that_pins_another_digest_or_tag_of_a_carried_image_pulls_it()
    {
        var (layout, _, _, store) = BuildBase();
        var nginx = feed.Env.Image("nginx");
        string amd64 = nginx.Platforms["linux/amd64"];
        Assert.NotEqual(nginx.Digest, amd64);
        // The lock pins A (the tag the base carries) to another digest: the child's own manifest of it, not the base's index.
        void PinOther(string dir) => File.WriteAllText(Path.Combine(dir, "images.lock.json"), $$"""
            {
              "version": 1,
              "images": [
                { "reference": "{{A}}", "digest": "{{amd64}}", "mediaType": "application/vnd.oci.image.manifest.v1+json", "platforms": { "linux/amd64": "{{amd64}}" }, "sources": [] }
              ]
            }
            """);
        var (dir, agent, marks, r) = BuildChild($"oci:{layout}:base:1.0", store, [A, B], PinOther);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.NotEmpty(Requests(marks, agent, "docker.io", $"/v2/library/nginx/manifests/{amd64}"));
        Assert.Empty(Requests(marks, agent, "quay.io", "/v2/coreos/etcd/"));
        var reader = ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "app"));
        var index = reader.RegistryIndex(reader.Platforms[0]);
        Assert.Equal(amd64, index.Single(d => d.GetAnnotation(Sealer.Core.Oci.Annotations.RefName) == A).Digest);
        using (var lockJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "images.lock.json"))))
        {
            var entries = lockJson.RootElement.GetProperty("images").EnumerateArray().ToDictionary(e => e.GetProperty("reference").GetString()!, e => e);
            Assert.False(entries[A].TryGetProperty("from", out _), entries[A].ToString());
            Assert.Equal(amd64, entries[A].GetProperty("digest").GetString());
            Assert.True(entries[B].TryGetProperty("from", out _));
        }

        // Another tag of the same repository (the digest ref of A's amd64 manifest) is another image: pulled too.
        string pinnedRef = $"docker.io/library/nginx@{amd64}";
        (dir, agent, marks, r) = BuildChild($"oci:{layout}:base:1.0", store, [A, pinnedRef]);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("1 carried by the base image", r.Output);
        Assert.NotEmpty(Requests(marks, agent, "docker.io", "/v2/library/nginx/"));
        Assert.Contains(pinnedRef, ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "app")).ImageReferences());
    }

    [Fact]
    public void A_rebuilt_base_is_an_input_of_the_child_and_what_it_now_carries_is_no_longer_pulled()
    {
        string baseDir = feed.NewProjectDir("base");
        var (layout, _, _, store) = BuildBase(baseDir);
        string cache = feed.NewProjectDir("cache");
        var (dir, _, _, r) = BuildChild($"oci:{layout}:base:1.0", store, [A, C], cache: cache);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("1 carried by the base image", r.Output);
        string digest = ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "app")).Descriptor.Digest;

        // A no-op rebuild: nothing asked of any registry, the same image.
        var (_, agent, marks, again) = Rebuild(dir, store, cache);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Empty(marks.Keys.SelectMany(k => feed.Env.RequestsSince(k, marks[k], agent)));
        Assert.Equal(digest, ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "app")).Descriptor.Digest);

        // The base now carries C too: the child's next build notices (the base's index.json is an input) and takes C from it.
        BuildBase(baseDir, C);
        (_, agent, marks, again) = Rebuild(dir, store, cache);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("2 carried by the base image", again.Output);
        Assert.Empty(marks.Keys.SelectMany(k => feed.Env.RequestsSince(k, marks[k], agent)));
        var pulled = PulledImagesFile.Read(Path.Combine(dir, "obj", "Release", "sealer", "pulled.json"));
        Assert.Equal([A, C], pulled.Images.Where(i => i.From is not null).Select(i => i.Reference).Order(StringComparer.Ordinal));
        var reader = ClusterImageReader.OpenLayout(Path.Combine(dir, "bin", "Release", "app"));
        Assert.NotEqual(digest, reader.Descriptor.Digest);
        Assert.Equal([A, C, B], reader.ImageReferences());
        // The archive was brought up to date in place (its stable head kept), and reads as the new image.
        Assert.Matches(@"app\.tar \(\d+ bytes: \d+ bytes written, [1-9]\d* kept\)", again.Output);
        string archive = Path.Combine(dir, "bin", "Release", "app.tar");
        var (code, output) = Processes.RunCommandLine("skopeo", $"inspect --raw oci-archive:{archive}");
        Assert.True(code == 0, output);
        Assert.Equal(reader.Descriptor.Digest, ClusterImageReader.OpenArchive(archive).Descriptor.Digest);
    }
}
