using Sealer.Core.RegistryServer;

namespace Sealer.RegistryServer.Tests;

/// <summary>
/// The real Debian containerd pulls through our registry as a mirror, configured ONLY by the hosts.toml files that
/// <see cref="RegistryRuntimeConfig"/> generates: original names in, original names in <c>ctr images ls</c>, no rewriting.
/// </summary>
[Collection("registry")]
public sealed class ContainerdTests(RegistryFixture f, ContainerdFixture ctd)
{
    private string HostsDir(string name, RegistryHost host, string? caPem, IReadOnlyList<string>? onlyDomains = null, (string, string)? basicAuth = null)
    {
        string root = Path.Combine(f.Root, "hosts-" + name);
        var domains = onlyDomains ?? RegistryRuntimeConfig.DomainsOf(host.Store.Layouts);
        var endpoint = new RegistryEndpoint((host.IsTls ? "localhost" : "127.0.0.1") + ":" + host.Port, host.IsTls);
        var config = RegistryRuntimeConfig.Generate(domains, [endpoint], new RuntimeConfigOptions
        {
            ContainerdCertsDir = "/certs.d",
            CaPem = caPem,
            CaFile = Path.Combine(root, "ca.crt"),
            Docker = false,
            BasicAuth = basicAuth,
        });
        // CaFile is absolute on the "node"; here the node is this machine, so write it there as given.
        foreach (var file in config.Files)
        {
            string path = file.Path == Path.Combine(root, "ca.crt") ? file.Path : Path.Combine(root, file.Path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, file.Content);
        }
        return Path.Combine(root, "certs.d");
    }

    private async Task<string> PullAsync(string ns, string hostsDir, string reference, params string[] extra)
    {
        Assert.True(ctd.Unavailable is null, ctd.Unavailable);
        var (code, output) = await ctd.CtrAsync(["-n", ns, "images", "pull", "--hosts-dir", hostsDir, .. extra, reference]);
        Assert.True(code == 0, $"ctr pull {reference} failed: {output}");
        return output;
    }

    private async Task<Dictionary<string, string>> ImagesAsync(string ns)
    {
        var (code, output) = await ctd.CtrAsync("-n", ns, "images", "ls");
        Assert.Equal(0, code);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(p => p[0], p => p[2]);
    }

    [Fact]
    public async Task Ctr_pulls_every_domain_and_a_pinned_digest_through_the_plain_registry()
    {
        string hosts = HostsDir("plain", f.Plain, caPem: null);
        Assert.True(File.Exists(Path.Combine(hosts, "docker.io", "hosts.toml")));
        Assert.True(File.Exists(Path.Combine(hosts, "_default", "hosts.toml")));
        string[] refs =
        [
            "docker.io/library/nginx:1.27",
            "quay.io/library/nginx:1.27",
            "registry.k8s.io/pause:3.9",
            f.Alpine.RefName,
            "quay.io/coreos/etcd:v3.5",
        ];
        foreach (var r in refs) await PullAsync("plain", hosts, r);
        var images = await ImagesAsync("plain");
        Assert.Equal(f.DockerNginx.Top.Digest, images["docker.io/library/nginx:1.27"]);
        Assert.Equal(f.QuayNginx.Top.Digest, images["quay.io/library/nginx:1.27"]);
        Assert.Equal(f.Pause.Top.Digest, images["registry.k8s.io/pause:3.9"]);
        Assert.Equal(f.Alpine.Top.Digest, images[f.Alpine.RefName]);
        Assert.Equal(f.Etcd.Top.Digest, images["quay.io/coreos/etcd:v3.5"]);
        // The short form resolves to the same original name.
        await PullAsync("plain", hosts, "docker.io/library/busybox:1.3");
        Assert.Contains("docker.io/library/busybox:1.3", (await ImagesAsync("plain")).Keys);
    }

    [Fact]
    public async Task The_hosts_toml_files_written_for_Docker_pull_every_domain_with_containerds_resolver()
    {
        // Docker Engine with the containerd image store reads hosts.toml from /etc/docker/certs.d through containerd's
        // own hosts-dir resolver; ctr --hosts-dir runs that resolver on the files delivery writes there for Docker hosts
        string root = Path.Combine(f.Root, "hosts-docker");
        var endpoint = new RegistryEndpoint("127.0.0.1:" + f.Plain.Port, false);
        var config = RegistryRuntimeConfig.Generate(["docker.io", "quay.io"], [endpoint], new RuntimeConfigOptions { Docker = true, DockerCertsDir = "/docker-certs.d" });
        foreach (var file in config.Files)
        {
            string path = Path.Combine(root, file.Path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, file.Content);
        }
        string hosts = Path.Combine(root, "docker-certs.d");
        Assert.True(File.Exists(Path.Combine(hosts, "quay.io", "hosts.toml")) && File.Exists(Path.Combine(hosts, "_default", "hosts.toml")));
        await PullAsync("docker-dir", hosts, "quay.io/coreos/etcd:v3.5");        // a domain Docker's registry-mirrors cannot mirror
        await PullAsync("docker-dir", hosts, "registry.k8s.io/pause:3.9");       // through _default
        await PullAsync("docker-dir", hosts, "docker.io/library/nginx:1.27");
        var images = await ImagesAsync("docker-dir");
        Assert.Equal(f.Etcd.Top.Digest, images["quay.io/coreos/etcd:v3.5"]);
        Assert.Equal(f.Pause.Top.Digest, images["registry.k8s.io/pause:3.9"]);
        Assert.Equal(f.DockerNginx.Top.Digest, images["docker.io/library/nginx:1.27"]);
    }

    [Fact]
    public async Task Domains_without_their_own_hosts_toml_go_through_default()
    {
        string hosts = HostsDir("default-only", f.Plain, caPem: null, onlyDomains: ["docker.io"]);
        Assert.False(Directory.Exists(Path.Combine(hosts, "registry.k8s.io")));
        await PullAsync("default", hosts, "registry.k8s.io/pause:3.9");
        await PullAsync("default", hosts, "quay.io/library/nginx:1.27");
        var images = await ImagesAsync("default");
        Assert.Equal(f.Pause.Top.Digest, images["registry.k8s.io/pause:3.9"]);
        Assert.Equal(f.QuayNginx.Top.Digest, images["quay.io/library/nginx:1.27"]);
    }

    [Fact]
    public async Task Ctr_pulls_through_TLS_and_basic_auth()
    {
        string hosts = HostsDir("tls", f.Secure, File.ReadAllText(f.Certs.CaCertificate));
        string toml = File.ReadAllText(Path.Combine(hosts, "quay.io", "hosts.toml"));
        Assert.Contains($"[host.\"https://localhost:{f.Secure.Port}\"]", toml);
        Assert.Contains("ca = ", toml);
        string creds = $"{RegistryFixture.User}:{RegistryFixture.Password}";
        await PullAsync("tls", hosts, "quay.io/coreos/etcd:v3.5", "--user", creds);
        await PullAsync("tls", hosts, "docker.io/library/nginx:1.27", "--user", creds);
        await PullAsync("tls", hosts, f.Alpine.RefName, "--user", creds);
        var images = await ImagesAsync("tls");
        Assert.Equal(f.Etcd.Top.Digest, images["quay.io/coreos/etcd:v3.5"]);
        Assert.Equal(f.DockerNginx.Top.Digest, images["docker.io/library/nginx:1.27"]);

        // Without credentials the pull fails (and containerd does not fall back to anything else that could succeed).
        var (code, output) = await ctd.CtrAsync("-n", "tls-noauth", "images", "pull", "--hosts-dir", hosts, "registry.k8s.io/pause:3.9");
        Assert.NotEqual(0, code);
        Assert.DoesNotContain(RegistryFixture.Password, output);

        // A local registry with username/password (what delivery writes): the credentials are the hosts' Authorization
        // header, so containerd (and the kubelet through it) logs in with no --user
        string withAuth = HostsDir("tls-header", f.Secure, File.ReadAllText(f.Certs.CaCertificate), basicAuth: (RegistryFixture.User, RegistryFixture.Password));
        Assert.Contains("Authorization = [\"Basic ", File.ReadAllText(Path.Combine(withAuth, "registry.k8s.io", "hosts.toml")), StringComparison.Ordinal);
        await PullAsync("tls-header", withAuth, "registry.k8s.io/pause:3.9");
        Assert.Equal(f.Pause.Top.Digest, (await ImagesAsync("tls-header"))["registry.k8s.io/pause:3.9"]);
    }
}
