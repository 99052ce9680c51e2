using System.Net;
using System.Net.Http.Headers;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.RegistryServer.Tests;

/// <summary>
/// Pull-through: a site registry with an empty layout fetches from an upstream (here: the fixture's plain registry as a
/// ?ns= proxy, a basic-auth registry standing for quay.io, and the test environment's token-auth registry), verifies,
/// caches in its writable layout, and serves.
/// </summary>
[Collection("registry")]
public sealed class PullThroughTests(RegistryFixture f, ContainerdFixture ctd)
{
    [Fact]
    public async Task Misses_are_fetched_verified_cached_and_served()
    {
        string cache = Path.Combine(f.Root, "pt-cache-" + Guid.NewGuid().ToString("N")[..6]);
        var empty = OciLayout.OpenOrCreate(Path.Combine(f.Root, "pt-empty"));
        var options = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0, WritableLayout = cache };
        options.Layouts.Add(empty.Root);
        options.Upstreams.Add(UpstreamRegistry.Parse($"http://127.0.0.1:{f.Plain.Port}"));
        await using var host = await RegistryHost.StartAsync(options);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };

        var req = new HttpRequestMessage(HttpMethod.Get, "/v2/library/nginx/manifests/1.27?ns=quay.io");
        req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciManifest));
        var r = await client.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(f.QuayNginx.Top.Digest, r.Headers.GetValues("Docker-Content-Digest").Single());
        var blob = await client.GetByteArrayAsync($"/v2/library/nginx/blobs/{f.QuayNginx.Layers[0].Digest}?ns=quay.io");
        Assert.Equal(f.QuayNginx.Layers[0].Digest, Digest.Sha256(blob).ToString());
        var layout = OciLayout.Open(cache);
        Assert.Equal(f.QuayNginx.Top.Digest, layout.FindRef("quay.io/library/nginx:1.27")!.Digest);
        Assert.True(layout.HasBlob(f.QuayNginx.Layers[0].ParsedDigest));
        Assert.Empty(empty.ReadIndex().Manifests);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v2/library/nosuch/manifests/1")).StatusCode);

        // The whole pull of a multi-arch image, by containerd, through the pull-through registry.
        Assert.True(ctd.Unavailable is null, ctd.Unavailable);
        string hosts = Path.Combine(f.Root, "pt-hosts", "docker.io");
        Directory.CreateDirectory(hosts);
        File.WriteAllText(Path.Combine(hosts, "hosts.toml"), Sealer.Core.RegistryServer.RegistryRuntimeConfig.ContainerdHostsToml("docker.io",
            [new Sealer.Core.RegistryServer.RegistryEndpoint($"127.0.0.1:{host.Port}", Tls: false)], null, false));
        var (code, output) = await ctd.CtrAsync("-n", "pullthrough", "images", "pull", "--hosts-dir", Path.GetDirectoryName(hosts)!, "docker.io/library/nginx:1.27");
        Assert.True(code == 0, output);
        Assert.Equal(f.DockerNginx.Top.Digest, layout.FindRef("docker.io/library/nginx:1.27")!.Digest);
    }

    [Fact]
    public async Task Domain_upstream_with_basic_auth()
    {
        // The upstream stands for quay.io itself: names without a domain are quay.io's there.
        string htpasswd = Path.Combine(f.Root, "pt-htpasswd");
        await File.WriteAllTextAsync(htpasswd, $"up:{BCrypt.Net.BCrypt.HashPassword("up-pw", 4)}\n");
        var upOptions = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0, HtpasswdFile = htpasswd, DefaultDomain = "quay.io" };
        upOptions.Layouts.Add(Path.Combine(f.Root, "rootfs"));
        await using var up = await RegistryHost.StartAsync(upOptions);

        var options = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0, WritableLayout = Path.Combine(f.Root, "pt-cache-auth") };
        options.Upstreams.Add(UpstreamRegistry.Parse($"quay.io=http://127.0.0.1:{up.Port}", "up", "up-pw"));
        await using var host = await RegistryHost.StartAsync(options);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };
        var r = await client.GetAsync("/v2/quay.io/coreos/etcd/manifests/v3.5");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(f.Etcd.Top.Digest, r.Headers.GetValues("Docker-Content-Digest").Single());
        // docker.io has no upstream configured: a plain miss.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v2/library/nginx/manifests/1.27")).StatusCode);

        // Wrong credentials: a miss, never an error page from the upstream passed through.
        var bad = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0, WritableLayout = Path.Combine(f.Root, "pt-cache-bad") };
        bad.Upstreams.Add(UpstreamRegistry.Parse($"quay.io=http://127.0.0.1:{up.Port}", "up", "wrong"));
        await using var badHost = await RegistryHost.StartAsync(bad);
        using var badClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{badHost.Port}") };
        Assert.Equal(HttpStatusCode.NotFound, (await badClient.GetAsync("/v2/quay.io/coreos/etcd/manifests/v3.5")).StatusCode);
    }

    [RegistryFact]
    public async Task Domain_upstream_with_bearer_token_auth()
    {
        // The upstream is the test environment's token registry (distribution `auth: token`): its 401 names the token
        // server, which issues a token for the repository scope to the upstream's credentials (Core's registry auth).
        var env = TestEnvironment.Current;
        var token = env.Registry("token");
        var secure = env.Image("token-secure");
        using var stats = new HttpClient();
        async Task<long> Tokens() => System.Text.Json.JsonDocument.Parse(await stats.GetStringAsync(token.TokenStats + "?agent=sealer-registry%2F1.0")).RootElement.GetProperty("tokens").GetInt64();
        long before = await Tokens();

        string cache = Path.Combine(f.Root, "pt-cache-token-" + Guid.NewGuid().ToString("N")[..6]);
        var options = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0, WritableLayout = cache };
        options.Upstreams.Add(UpstreamRegistry.Parse($"registry.example=http://{token.Address}", token.Username, token.Password));
        await using var host = await RegistryHost.StartAsync(options);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };
        var req = new HttpRequestMessage(HttpMethod.Get, $"/v2/registry.example/{secure.Repository}/manifests/{secure.Tag}");
        foreach (var a in MediaTypes.AllManifests) req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(a));
        var r = await client.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(secure.Digest, r.Headers.GetValues("Docker-Content-Digest").Single());
        var blob = secure.Blobs.OrderBy(b => b.Size).First();
        var bytes = await client.GetByteArrayAsync($"/v2/registry.example/{secure.Repository}/blobs/{blob.Digest}");
        Assert.Equal(blob.Digest, Digest.Sha256(bytes).ToString());
        Assert.Equal(secure.Digest, OciLayout.Open(cache).FindRef($"registry.example/{secure.Repository}:{secure.Tag}")!.Digest);
        Assert.True(await Tokens() > before, "the token server issued no token to the pull-through");

        // Wrong password: the token server refuses it, and the pull-through answers a plain miss.
        var bad = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0, WritableLayout = cache + "-bad" };
        bad.Upstreams.Add(UpstreamRegistry.Parse($"registry.example=http://{token.Address}", token.Username, "wrong"));
        await using var badHost = await RegistryHost.StartAsync(bad);
        using var badClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{badHost.Port}") };
        Assert.Equal(HttpStatusCode.NotFound, (await badClient.GetAsync($"/v2/registry.example/{secure.Repository}/manifests/{secure.Tag}")).StatusCode);
    }

    [Fact]
    public void Upstream_parsing()
    {
        var all = UpstreamRegistry.Parse("https://proxy.example:5000");
        Assert.Equal("*", all.Domain);
        var one = UpstreamRegistry.Parse("index.docker.io=https://mirror.example");
        Assert.Equal("docker.io", one.Domain);
        Assert.Equal("SEA1808", Assert.Throws<Sealer.Core.Diagnostics.SealerException>(() => UpstreamRegistry.Parse("ftp://x")).Code);
        Assert.Equal("SEA1808", Assert.Throws<Sealer.Core.Diagnostics.SealerException>(() => UpstreamRegistry.Parse("https://x/v2/sub")).Code);
    }
}
