using Sealer.Core.Artifacts;
using Sealer.Core.Delivery;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.RegistryServer;

namespace Sealer.RegistryServer.Tests;

/// <summary>
/// A site with its own registry (Clusterfile <c>externalRegistry</c>): the app images of a cluster image built for
/// linux/amd64 are mirrored into it (a fresh distribution with basic auth, as Harbor is underneath), and the real
/// containerd pulls the original names (<c>docker.io/library/nginx:1.27</c>, <c>quay.io/…</c>) through it, configured
/// only by the hosts.toml files <see cref="RegistryRuntimeConfig"/> writes for it (its credentials as the hosts'
/// Authorization header): no name is rewritten.
/// </summary>
[Collection("registry")]
public sealed class ExternalRegistryTests(ContainerdFixture ctd) : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [RegistryFact]
    public async Task Containerd_pulls_the_original_names_through_hosts_toml_from_the_mirrored_registry()
    {
        Assert.True(ctd.Unavailable is null, ctd.Unavailable);
        var env = TestEnvironment.Current;
        string[] images = ["docker.io/library/nginx:1.27", "docker.io/library/redis:7.4", "docker.io/library/busybox:1.36", "quay.io/prometheus/node-exporter:v1.8.2"];
        string archive = SealerCli.BuildImageList(_tmp.Sub("build"), "site", images,
            [$"docker.io=http://{env.Registry("docker.io").Address}", $"quay.io=http://{env.Registry("quay.io").Address}"], _tmp.Sub("cache"), "--platform", "linux/amd64");
        var image = ClusterImageSource.Open(archive);

        using var site = SiteRegistry.Start(_tmp.Sub("site"));
        var result = await ImageMirror.MirrorAsync(await image.CarriedImagesAsync(), site.Address,
            new PushOptions { Credentials = RegistryTransport.StaticCredentials(site.Address, site.User, site.Password) });

        // hosts.toml for every domain the image carries, pointing at the site registry (as RegistryConfigStep writes them):
        // without its credentials containerd is refused; with them as the hosts' Authorization header it logs in
        string Hosts(string name, (string, string)? auth)
        {
            string root = _tmp.Sub(name);
            var config = RegistryRuntimeConfig.Generate(image.RegistryDomains(image.Platforms[0]), [new RegistryEndpoint(site.Address, Tls: false)],
                new RuntimeConfigOptions { ContainerdCertsDir = "/certs.d", Docker = false, BasicAuth = auth });
            foreach (var file in config.Files)
            {
                string path = Path.Combine(root, file.Path.TrimStart('/'));
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, file.Content);
                Assert.Equal(auth is null ? RuntimeConfigFile.Readable : RuntimeConfigFile.Private, file.Mode);
            }
            return Path.Combine(root, "certs.d");
        }
        var (refused, why) = await ctd.CtrAsync("-n", "external", "images", "pull", "--platform", "linux/amd64", "--hosts-dir", Hosts("hosts-anonymous", null), images[0]);
        Assert.True(refused != 0, why);
        Assert.Contains("401", why, StringComparison.Ordinal);
        string hosts = Hosts("hosts", (site.User, site.Password));
        foreach (var reference in images)
        {
            var (code, output) = await ctd.CtrAsync("-n", "external", "images", "pull", "--platform", "linux/amd64", "--hosts-dir", hosts, reference);
            Assert.True(code == 0, $"ctr pull {reference} failed: {output}");
        }
        var (lsCode, ls) = await ctd.CtrAsync("-n", "external", "images", "ls");
        Assert.Equal(0, lsCode);
        var pulled = ls.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(p => p[0], p => p[2]);
        foreach (var mirrored in result.Images)
        {
            // the original name, at the digest the site registry serves (an index of the carried platform for nginx, redis, node-exporter)
            Assert.Equal(mirrored.Digest, pulled[mirrored.Source]);
        }
        Assert.Equal(env.Image("busybox").Digest, pulled["docker.io/library/busybox:1.36"]);
    }

    [RegistryFact]
    public async Task Containerd_pulls_a_Sealer_base_s_images_by_the_names_kubeadm_gives_them_through_the_default_hosts_toml()
    {
        Assert.True(ctd.Unavailable is null, ctd.Unavailable);
        var env = TestEnvironment.Current;
        // a Sealer base keeps kubeadm's images domainless (kube-apiserver) and docker.io's under library/; its kubeadm
        // config names them sea.hub:5000/kube-apiserver, which no hosts.toml names: certs.d/_default sends it to the mirror
        var (layout, tree) = SealerBases.Build(_tmp.Sub("sealer-base"), env.Registry("docker.io").Address,
            [("bitnami/redis:7.2", "kube-apiserver:v1.30.0", false), ("library/busybox:1.36", "library/busybox:1.36", false)]);
        using var site = SiteRegistry.Start(_tmp.Sub("site"));
        var image = ClusterImageSource.Open(layout);
        using (var carried = await image.CarriedImagesAsync())
        {
            await ImageMirror.MirrorAsync(carried, site.Address, new PushOptions { Credentials = RegistryTransport.StaticCredentials(site.Address, site.User, site.Password) });
        }
        string root = _tmp.Sub("hosts");
        var config = RegistryRuntimeConfig.Generate(image.RegistryDomains(image.Platforms[0]), [new RegistryEndpoint(site.Address, Tls: false)],
            new RuntimeConfigOptions { ContainerdCertsDir = "/certs.d", Docker = false, BasicAuth = (site.User, site.Password) });
        foreach (var file in config.Files)
        {
            string path = Path.Combine(root, file.Path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, file.Content);
        }
        Assert.False(Directory.Exists(Path.Combine(root, "certs.d", "sea.hub:5000")));
        foreach (var (reference, path, tag) in new[] { ("sea.hub:5000/kube-apiserver:v1.30.0", "kube-apiserver", "v1.30.0"), ("docker.io/library/busybox:1.36", "library/busybox", "1.36") })
        {
            var (code, output) = await ctd.CtrAsync("-n", "sealer-base", "images", "pull", "--platform", "linux/amd64", "--hosts-dir", Path.Combine(root, "certs.d"), reference);
            Assert.True(code == 0, $"ctr pull {reference} failed: {output}");
            var (_, ls) = await ctd.CtrAsync("-n", "sealer-base", "images", "ls", "name==" + reference);
            Assert.Contains(SealerBases.TagOf(tree, path, tag), ls, StringComparison.Ordinal);
        }
    }

    [RegistryFact]
    public async Task Under_a_prefix_containerd_finds_each_domain_s_images_under_it_and_a_Sealer_base_s_without_a_domain()
    {
        Assert.True(ctd.Unavailable is null, ctd.Unavailable);
        var env = TestEnvironment.Current;
        using var site = SiteRegistry.Start(_tmp.Sub("site"));
        var push = new PushOptions { Credentials = RegistryTransport.StaticCredentials(site.Address, site.User, site.Password) };
        // app images by domain (sealer/quay.io/..., sealer/docker.io/...) and a Sealer base's tree (sealer/kube-apiserver,
        // sealer/library/busybox), all under one prefix: one Harbor project
        string archive = SealerCli.BuildImageList(_tmp.Sub("build"), "site", ["quay.io/prometheus/node-exporter:v1.8.2", "docker.io/library/redis:7.4"],
            [$"docker.io=http://{env.Registry("docker.io").Address}", $"quay.io=http://{env.Registry("quay.io").Address}"], _tmp.Sub("cache"), "--platform", "linux/amd64");
        var apps = ClusterImageSource.Open(archive);
        using (var carried = await apps.CarriedImagesAsync()) await ImageMirror.MirrorAsync(carried, site.Address + "/sealer", push);
        var (layout, tree) = SealerBases.Build(_tmp.Sub("sealer-base"), env.Registry("docker.io").Address,
            [("bitnami/redis:7.2", "kube-apiserver:v1.30.0", false), ("library/busybox:1.36", "library/busybox:1.36", false)]);
        using (var carried = await ClusterImageSource.Open(layout).CarriedImagesAsync()) await ImageMirror.MirrorAsync(carried, site.Address + "/sealer", push);
        Assert.NotNull(site.Inspect("sealer/quay.io/prometheus/node-exporter:v1.8.2"));
        Assert.NotNull(site.Inspect("sealer/kube-apiserver:v1.30.0"));

        string root = _tmp.Sub("hosts");
        var config = RegistryRuntimeConfig.Generate(apps.RegistryDomains(apps.Platforms[0]), [new RegistryEndpoint(site.Address, Tls: false)],
            new RuntimeConfigOptions { ContainerdCertsDir = "/certs.d", Docker = false, BasicAuth = (site.User, site.Password), PathPrefix = "sealer" });
        foreach (var file in config.Files)
        {
            string path = Path.Combine(root, file.Path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, file.Content);
        }
        string quay = File.ReadAllText(Path.Combine(root, "certs.d", "quay.io", "hosts.toml"));
        Assert.Contains($"[host.\"http://{site.Address}/v2/sealer/quay.io\"]\n  capabilities = [\"pull\", \"resolve\"]\n  override_path = true\n", quay, StringComparison.Ordinal);
        Assert.Contains($"[host.\"http://{site.Address}/v2/sealer\"]", quay, StringComparison.Ordinal);
        foreach (var (reference, digest) in new[]
        {
            ("quay.io/prometheus/node-exporter:v1.8.2", site.Inspect("sealer/quay.io/prometheus/node-exporter:v1.8.2")!.Value.Digest), // by its domain
            ("docker.io/library/redis:7.4", site.Inspect("sealer/docker.io/library/redis:7.4")!.Value.Digest),
            ("sea.hub:5000/kube-apiserver:v1.30.0", SealerBases.TagOf(tree, "kube-apiserver", "v1.30.0")), // _default: the prefix itself
            ("docker.io/library/busybox:1.36", SealerBases.TagOf(tree, "library/busybox", "1.36")), // not under docker.io: the next host, the prefix
        })
        {
            var (code, output) = await ctd.CtrAsync("-n", "prefixed", "images", "pull", "--platform", "linux/amd64", "--hosts-dir", Path.Combine(root, "certs.d"), reference);
            Assert.True(code == 0, $"ctr pull {reference} failed: {output}");
            var (_, ls) = await ctd.CtrAsync("-n", "prefixed", "images", "ls", "name==" + reference);
            Assert.Contains(digest, ls, StringComparison.Ordinal);
        }

        // Docker hosts: the same files in Docker's certs.d (what its containerd image store reads: containerd's resolver
        // on that folder pulls by the prefix too), and no daemon.json: registry-mirrors take a registry's root, not a path
        var docker = RegistryRuntimeConfig.Generate(apps.RegistryDomains(apps.Platforms[0]), [new RegistryEndpoint(site.Address, Tls: false)],
            new RuntimeConfigOptions { ContainerdCertsDir = "/certs.d", DockerCertsDir = "/docker-certs.d", BasicAuth = (site.User, site.Password), PathPrefix = "sealer" });
        Assert.DoesNotContain(docker.Files, f => f.Path == RuntimeConfigOptions.DockerDaemonJsonPath);
        Assert.Equal(config.Files.Select(f => f.Content), docker.Files.Where(f => f.Path.StartsWith("/certs.d/", StringComparison.Ordinal)).Select(f => f.Content));
        Assert.Equal(config.Files.Select(f => f.Path.Replace("/certs.d/", "/docker-certs.d/", StringComparison.Ordinal)), docker.Files.Where(f => f.Path.StartsWith("/docker-certs.d/", StringComparison.Ordinal)).Select(f => f.Path));
        Assert.Contains(docker.Notes, n => n.Contains($"only the containerd image store can pull through {site.Address}/sealer", StringComparison.Ordinal) && n.Contains("the classic store's registry-mirrors take a registry's root", StringComparison.Ordinal));
        foreach (var file in docker.Files.Where(f => f.Path.StartsWith("/docker-certs.d/", StringComparison.Ordinal)))
        {
            string path = Path.Combine(root, file.Path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, file.Content);
        }
        var (pulled, pullOut) = await ctd.CtrAsync("-n", "prefixed-docker", "images", "pull", "--platform", "linux/amd64", "--hosts-dir", Path.Combine(root, "docker-certs.d"), "quay.io/prometheus/node-exporter:v1.8.2");
        Assert.True(pulled == 0, $"ctr pull through Docker's certs.d failed: {pullOut}");
    }
}
