using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.RegistryServer;

namespace Sealer.RegistryServer.Tests;

/// <summary>
/// Sealer's own cluster images carry <c>rootfs/registry</c> as a docker/distribution storage tree with the domain dropped.
/// The tree here is written by the real Debian docker-registry (skopeo pushes into it), then served in place; combined with
/// an OCI layout in the same directory (what a FROM of a Sealer base image gives), the OCI layout's full names win.
/// </summary>
[Collection("registry")]
public sealed class SealerStorageTests(RegistryFixture f, ContainerdFixture ctd)
{
    private static void Run(string file, params string[] args)
    {
        var r = Processes.Run(file, args, workDir: null, env: [new("REGISTRY_AUTH_FILE", "/nonexistent-auth.json")], timeoutMs: 120_000);
        Assert.True(r.ExitCode == 0, $"{file} {string.Join(' ', args)}: {r.StdErr}");
    }

    /// <summary>Runs docker-registry with its storage at <paramref name="root"/>, pushes (source ref, name) pairs, stops it.</summary>
    private async Task WriteStorageAsync(string root, params (string Source, string Name)[] images)
    {
        Assert.True(File.Exists("/usr/bin/docker-registry"), "docker-registry is not installed: run build/install-test-deps.sh");
        int port = LoopbackPort.Free();
        string config = Path.Combine(f.Root, $"dr-{port}.yml");
        await File.WriteAllTextAsync(config, $"version: 0.1\nlog: {{ level: error, accesslog: {{ disabled: true }} }}\nstorage: {{ filesystem: {{ rootdirectory: {root} }} }}\nhttp: {{ addr: 127.0.0.1:{port} }}\n");
        using var registry = Process.Start(new ProcessStartInfo("/usr/bin/docker-registry", ["serve", config]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        try
        {
            using var http = new HttpClient();
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (true)
            {
                try { if ((await http.GetAsync($"http://127.0.0.1:{port}/v2/")).IsSuccessStatusCode) break; }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline) { }
                await Task.Delay(100);
            }
            foreach (var (source, name) in images)
            {
                Run("/usr/bin/skopeo", "copy", "--all", "--dest-tls-verify=false", $"oci:{f.LayoutA.Root}:{source}", $"docker://127.0.0.1:{port}/{name}");
            }
        }
        finally
        {
            Process.Start("/bin/kill", ["-TERM", registry.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!registry.WaitForExit(10000)) registry.Kill();
        }
    }

    [Fact]
    public async Task Sealer_storage_is_served_in_place_and_OCI_full_names_win()
    {
        // A "FROM sealer-base" rootfs: registry/ holds both the docker/distribution tree and our OCI layout.
        string rootfs = Path.Combine(f.Root, "sealer-rootfs");
        string registryDir = Path.Combine(rootfs, "registry");
        await WriteStorageAsync(registryDir, ("docker.io/library/busybox:1.0", "library/busybox:1.0"), ("quay.io/library/nginx:1.27", "coreos/nginx:1.27"));
        var oci = OciLayout.OpenOrCreate(registryDir);
        var ociNginx = OciImages.Add(oci, "quay.io/coreos/nginx:1.27", "oci-coreos-nginx", layers: 1);
        Assert.True(Directory.Exists(Path.Combine(registryDir, "docker", "registry", "v2", "repositories", "coreos", "nginx")));

        var options = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0 };
        options.Layouts.Add(rootfs);
        await using var host = await RegistryHost.StartAsync(options);
        Assert.Single(host.Store.Storages);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };
        async Task<string?> DigestOf(string url)
        {
            var req = new HttpRequestMessage(HttpMethod.Get, url);
            foreach (var a in MediaTypes.AllManifests) req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(a));
            var r = await client.SendAsync(req);
            return r.StatusCode == HttpStatusCode.OK ? r.Headers.GetValues("Docker-Content-Digest").Single() : null;
        }
        Assert.Equal(f.Busybox.Top.Digest, await DigestOf("/v2/library/busybox/manifests/1.0?ns=docker.io"));
        Assert.Equal(ociNginx.Top.Digest, await DigestOf("/v2/coreos/nginx/manifests/1.27?ns=quay.io"));   // the OCI full name wins
        Assert.Equal(f.QuayNginx.Top.Digest, await DigestOf("/v2/coreos/nginx/manifests/1.27?ns=ghcr.io")); // domainless: any other domain
        Assert.Null(await DigestOf("/v2/library/busybox/manifests/9.9?ns=docker.io"));
        var blob = await client.GetByteArrayAsync($"/v2/library/busybox/blobs/{f.Busybox.Layers[0].Digest}");
        Assert.Equal(f.Busybox.Layers[0].Digest, Digest.Sha256(blob).ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v2/library/busybox/blobs/{f.QuayNginx.Layers[0].Digest}")).StatusCode);
        var catalog = await client.GetStringAsync("/v2/_catalog");
        Assert.Contains("\"library/busybox\"", catalog);
        Assert.Contains("\"coreos/nginx\"", catalog);
        Assert.Contains("\"quay.io/coreos/nginx\"", catalog);

        // containerd pulls the Sealer-format image by its original name through _default/hosts.toml.
        Assert.True(ctd.Unavailable is null, ctd.Unavailable);
        string hosts = Path.Combine(f.Root, "sealer-hosts");
        foreach (var file in RegistryRuntimeConfig.Generate([], [new RegistryEndpoint($"127.0.0.1:{host.Port}", Tls: false)], new RuntimeConfigOptions { ContainerdCertsDir = "/d", Docker = false }).Files)
        {
            string p = Path.Combine(hosts, file.Path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(p)!);
            File.WriteAllText(p, file.Content);
        }
        var (code, output) = await ctd.CtrAsync("-n", "sealer-format", "images", "pull", "--hosts-dir", Path.Combine(hosts, "d"), "docker.io/library/busybox:1.0");
        Assert.True(code == 0, output);
        (code, output) = await ctd.CtrAsync("-n", "sealer-format", "images", "ls", "-q");
        Assert.Contains("docker.io/library/busybox:1.0", output);
    }
}
