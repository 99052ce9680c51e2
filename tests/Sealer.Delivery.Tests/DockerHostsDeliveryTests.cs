using System.Text.Json;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;
using Sealer.Core.RegistryServer;

namespace Sealer.Delivery.Tests;

/// <summary>
/// A cluster whose container runtime is Docker, on real sshd hosts (each with its own /etc/docker): the host's
/// daemon.json merged with our mirrors, the same hosts.toml files as containerd's in /etc/docker/certs.d (what Docker
/// Engine reads with the containerd image store, so every domain is mirrored, not docker.io alone), and containerd's
/// config.toml left alone (it is not the cluster's CRI); <c>check --airgap</c> judges Docker's folder.
/// </summary>
[Collection(HostsCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class DockerHostsDeliveryTests(TestHosts hosts) : HostsTest(hosts, "sealer-docker-")
{
    /// <summary>A master (10.200.0.11) and a node (10.200.0.12) whose container runtime is Docker, with <paramref name="registry"/> as the Clusterfile's <c>registry:</c> (one line under it).</summary>
    private ClusterfileDocument DockerCluster(string? registry = null) => ClusterfileReader.Parse(FixtureClusterfile($$"""
          containerRuntime:
            type: docker
          hosts:
            - ips: [10.200.0.11]
              roles: [master]
            - ips: [10.200.0.12]
              roles: [node]
        {{(registry is null ? "" : "  registry:\n    " + registry)}}
        """));

    [Fact]
    public async Task Docker_hosts_mirror_every_domain_keep_their_daemon_json_and_leave_containerd_alone()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/docker", "/etc/kubernetes", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024);
        var doc = DockerCluster();
        var run = await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).RunAsync();
        Assert.Contains("10.200.0.12:registry-config", run.StepsRun);
        Assert.Contains("CRI=docker", Evidence(1), StringComparison.Ordinal);

        string OnHost(int i, string path) => File.ReadAllText(Lab.Hosts[i].OnHost(path));
        // the host's daemon.json kept, our registry first among its mirrors
        using (var daemon = JsonDocument.Parse(OnHost(1, "/etc/docker/daemon.json")))
        {
            Assert.Equal("json-file", daemon.RootElement.GetProperty("log-driver").GetString());
            Assert.Equal(["https://10.200.0.11:5000", "https://mirror.site.example"], daemon.RootElement.GetProperty("registry-mirrors").EnumerateArray().Select(e => e.GetString()));
        }
        // the hosts.toml files Docker reads with the containerd image store: containerd's, for every domain and _default
        foreach (var dir in new[] { "docker.io", "_default" })
        {
            Assert.Equal(OnHost(1, $"/etc/containerd/certs.d/{dir}/hosts.toml"), OnHost(1, $"/etc/docker/certs.d/{dir}/hosts.toml"));
        }
        Assert.Contains("[host.\"https://10.200.0.11:5000\"]", OnHost(1, "/etc/docker/certs.d/docker.io/hosts.toml"), StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", OnHost(1, "/etc/docker/certs.d/10.200.0.11:5000/ca.crt"), StringComparison.Ordinal);
        Assert.Equal(OnHost(1, "/etc/sealer/registry/ca.crt"), OnHost(1, "/etc/docker/certs.d/sea.hub:5000/ca.crt")); // the registry's own name, pulled from directly
        // containerd is not this cluster's CRI: no config.toml written for it
        Assert.False(File.Exists(Lab.Hosts[1].OnHost("/etc/containerd/config.toml")));

        // containerd's resolver (the one Docker's containerd image store uses) on /etc/docker/certs.d fetches the app image from the cluster's registry
        await using (var node = await Lab.ConnectAsync("10.200.0.12"))
        {
            var fetched = await RealContainerd.FetchAsync(node, null, ["docker.io/library/demo:1.0"], hostsDir: "/etc/docker/certs.d");
            Assert.Contains(image.AppManifestDigest, fetched, StringComparison.Ordinal);
        }

        // a re-run leaves registry-config alone; a host whose state an earlier revision of the step wrote (a cluster
        // installed before these files existed) redoes it once, and only that host
        var again = await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).RunAsync();
        Assert.DoesNotContain("10.200.0.12:registry-config", again.StepsRun);
        var statePath = Lab.Hosts[0].OnHost("/var/lib/sealer/data/fixture/state.json");
        var state = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(statePath))!;
        state["hosts"]!["10.200.0.12"]!["fingerprints"]!["registry-config"] = "written-by-an-earlier-revision";
        File.WriteAllText(statePath, state.ToJsonString());
        File.Delete(Lab.Hosts[1].OnHost("/etc/docker/certs.d/_default/hosts.toml"));
        // as if that earlier run had merged another registry host (since gone) into h2's daemon.json: recorded beside the cluster
        string record = Lab.Hosts[1].OnHost("/var/lib/sealer/data/fixture/docker-mirrors.json");
        Assert.Equal("{\n  \"registry-mirrors\": [\n    \"https://10.200.0.11:5000\"\n  ]\n}\n", File.ReadAllText(record));
        File.WriteAllText(record, """{"registry-mirrors":["https://10.200.0.99:5000"]}""");
        File.WriteAllText(Lab.Hosts[1].OnHost("/etc/docker/daemon.json"), """{"log-driver":"json-file","registry-mirrors":["https://10.200.0.99:5000","https://mirror.site.example"]}""");

        // check --airgap reads the folder Docker reads: h2's _default is gone there (containerd's copy, which Docker does not read, is still in place)
        Assert.True(File.Exists(Lab.Hosts[1].OnHost("/etc/containerd/certs.d/_default/hosts.toml")));
        var check = await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).CheckAirgapAsync();
        var problems = check.Problems.Select(p => p.ToString()).ToList();
        string all = string.Join("\n", problems) + "\n--\n" + string.Join("\n", check.Ok);
        Assert.True(problems.Contains($"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: no /etc/docker/certs.d/_default/hosts.toml: images of other registries are pulled from the internet. Run 'sealer run' again (registry-config)."), all);
        Assert.True(check.Ok.Contains("10.200.0.11: certs.d/_default mirrors to 10.200.0.11:5000"), all);
        Assert.True(problems.Contains("10.200.0.12: [registry-config] no /etc/docker/certs.d/_default/hosts.toml: run 'sealer run' again."), all); // sealer check's own look
        Assert.True(check.Ok.Contains("10.200.0.11: Docker hosts.toml"), all);
        // no Docker engine on the test hosts: the docker CLI is missing, or finds no daemon (what it says is passed on)
        Assert.True(check.Ok.Any(o => o == "10.200.0.12: docker's images not listed (docker is not installed)" || (o.StartsWith("10.200.0.12: docker's images not listed (docker failed: ", StringComparison.Ordinal) && o.Contains("daemon", StringComparison.Ordinal))), all);
        Assert.True(check.Ok.Any(o => o.StartsWith("10.200.0.12: Docker's image store not known (docker ", StringComparison.Ordinal) && o.EndsWith("): judged by /etc/docker/certs.d as the containerd image store reads it", StringComparison.Ordinal)), all);
        Assert.DoesNotContain(problems.Concat(check.Ok), m => m.Contains("containerd's CRI", StringComparison.Ordinal) || m.Contains("/etc/containerd", StringComparison.Ordinal));

        var upgraded = await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).RunAsync();
        Assert.Contains("10.200.0.12:registry-config", upgraded.StepsRun);
        Assert.DoesNotContain("10.200.0.11:registry-config", upgraded.StepsRun);
        Assert.True(File.Exists(Lab.Hosts[1].OnHost("/etc/docker/certs.d/_default/hosts.toml")));
        using (var daemon = JsonDocument.Parse(OnHost(1, "/etc/docker/daemon.json"))) // the stale mirror taken out, the host's own kept
        {
            Assert.Equal(["https://10.200.0.11:5000", "https://mirror.site.example"], daemon.RootElement.GetProperty("registry-mirrors").EnumerateArray().Select(e => e.GetString()));
        }

        // sealer delete takes our hosts.toml folders and mirrors away again, the host's daemon.json settings stay
        await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).DeleteAsync();
        foreach (int h in new[] { 0, 1 })
        {
            using var daemon = JsonDocument.Parse(OnHost(h, "/etc/docker/daemon.json"));
            Assert.Equal("json-file", daemon.RootElement.GetProperty("log-driver").GetString());
            Assert.Equal(["https://mirror.site.example"], daemon.RootElement.GetProperty("registry-mirrors").EnumerateArray().Select(e => e.GetString()));
        }
        Assert.False(Directory.Exists(Lab.Hosts[1].OnHost("/etc/docker/certs.d/docker.io")));
        Assert.False(Directory.Exists(Lab.Hosts[1].OnHost("/etc/docker/certs.d/_default")));
        Assert.False(Directory.Exists(Lab.Hosts[1].OnHost("/etc/docker/certs.d/sea.hub:5000"))); // and the folders holding only its CA
        Assert.False(Directory.Exists(Lab.Hosts[1].OnHost("/etc/docker/certs.d/10.200.0.11:5000")));
    }

    /// <summary>A run of <paramref name="image"/>, two hosts at a time, and the status lines it printed.</summary>
    private async Task<List<string>> RunCollectingAsync(ClusterfileDocument doc, string image)
    {
        var lines = new List<string>();
        await new ClusterInstaller(doc, RunOptionsFor(image, 2) with { Status = l => { lock (lines) lines.Add(l); } }).RunAsync();
        return lines;
    }

    /// <summary>Real Docker Engine (Debian's docker.io: 20.10, the classic image store) on h2, in its network namespace and its private /tmp; the docker CLI of that host talks to it through a context in its private /root.</summary>
    private const string Dockerd = "/tmp/dockerd";

    private static async Task StartDockerdAsync(SshHost node)
    {
        await node.RunAsync($$"""
            mkdir -p {{Dockerd}}
            nohup setsid dockerd --data-root {{Dockerd}}/root --exec-root {{Dockerd}}/exec -H unix://{{Dockerd}}/docker.sock --pidfile {{Dockerd}}/pid \
              --iptables=false --ip-masq=false --bridge=none > {{Dockerd}}/log 2>&1 < /dev/null &
            for i in $(seq 1 200); do [ -S {{Dockerd}}/docker.sock ] && docker -H unix://{{Dockerd}}/docker.sock version >/dev/null 2>&1 && break; sleep 0.1; done
            if ! docker -H unix://{{Dockerd}}/docker.sock version >/dev/null 2>&1; then echo "dockerd did not start:"; grep -v 'module=grpc' {{Dockerd}}/log | tail -n 15; exit 1; fi
            docker context rm -f sealer-test >/dev/null 2>&1 || true
            docker context create sealer-test --docker host=unix://{{Dockerd}}/docker.sock >/dev/null
            docker context use sealer-test >/dev/null
            docker info --format {{SshHost.ShellQuote(DockerImageStore.InfoFormat)}}
            """, new CommandOptions { Timeout = TimeSpan.FromSeconds(60) });
    }

    private static async Task StopDockerdAsync(SshHost node)
        => await node.RunAsync($$"""
            docker context use default >/dev/null 2>&1; docker context rm -f sealer-test >/dev/null 2>&1
            if [ -f {{Dockerd}}/pid ]; then p=$(cat {{Dockerd}}/pid); kill $p 2>/dev/null; for i in $(seq 1 100); do kill -0 $p 2>/dev/null || break; sleep 0.1; done; fi
            rm -rf {{Dockerd}}
            true
            """, new CommandOptions { Check = false, Timeout = TimeSpan.FromSeconds(30) });

    [Fact]
    public async Task Real_Docker_with_the_classic_store_pulls_docker_io_through_registry_mirrors_and_its_other_domains_are_warned_of_and_reported()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/docker", "/etc/kubernetes", "/tmp");
        var doc = DockerCluster();
        await using var node = await Lab.ConnectAsync("10.200.0.12");
        try
        {
            await StartDockerdAsync(node);
            // docker.io's image: the run merges the cluster's registry into daemon.json's registry-mirrors; a reload (what
            // 'systemctl reload docker' sends: SIGHUP) and real Docker pulls it from there, trusting the CA the run wrote
            var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024);
            var lines = await RunCollectingAsync(doc, image.Dir);
            Assert.DoesNotContain(lines, l => l.Contains(ErrorCodes.DockerClassicStoreUnmirrored, StringComparison.Ordinal)); // docker.io alone: nothing left unmirrored
            var pull = await node.RunAsync($"kill -HUP $(cat {Dockerd}/pid); sleep 0.5; docker pull docker.io/library/demo:1.0 2>&1 && docker image ls --digests --format '{{{{.Repository}}}}:{{{{.Tag}}}} {{{{.Digest}}}}'",
                new CommandOptions { Check = false, Timeout = TimeSpan.FromSeconds(60) });
            if (pull.ExitCode != 0)
            {
                var log = await node.RunAsync($"grep -v 'module=grpc' {Dockerd}/log | grep -iE 'level=(error|warning)|pull|mirror' | tail -n 20", new CommandOptions { Check = false });
                Assert.Fail($"docker pull failed ({pull.ExitCode}): {pull.Stdout}{pull.Stderr}\ndockerd: {log.Stdout}");
            }
            Assert.Contains($"demo:1.0 {image.AppManifestDigest}", pull.Stdout, StringComparison.Ordinal);
            Assert.Contains("/v2/library/demo/manifests/1.0", File.ReadAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/data/fixture/registry-access.log")), StringComparison.Ordinal);
            // the registry's own name (what a Sealer base's kubeadm images are named by: sea.hub:5000/pause:3.9), pulled directly: Docker trusts its CA there too
            // (dockerd's Go resolver keeps /etc/hosts for 5 s: the name the run added there may take that long to resolve)
            var local = await node.RunAsync("for i in $(seq 1 20); do out=$(docker pull sea.hub:5000/library/demo:1.0 2>&1) && break; case \"$out\" in *'lookup sea.hub'*) sleep 0.5;; *) break;; esac; done; echo \"$out\"; docker image inspect sea.hub:5000/library/demo:1.0 >/dev/null",
                new CommandOptions { Check = false, Timeout = TimeSpan.FromSeconds(60) });
            Assert.True(local.ExitCode == 0, local.Stdout);

            // check --airgap asks the real daemon: the classic store, docker.io through registry-mirrors, the image it holds served
            var check = await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).CheckAirgapAsync();
            var problems = check.Problems.Select(p => p.ToString()).ToList();
            string all = string.Join("\n", problems) + "\n--\n" + string.Join("\n", check.Ok);
            Assert.True(check.Ok.Contains("10.200.0.12: Docker uses its classic image store: it reads no hosts.toml and mirrors docker.io only (registry-mirrors in /etc/docker/daemon.json)"), all);
            Assert.True(check.Ok.Contains("10.200.0.12: docker.io mirrors to the cluster's registry (registry-mirrors)"), all);
            Assert.True(check.Ok.Contains($"10.200.0.12: docker on 10.200.0.12 holds demo:1.0 {image.AppManifestDigest[..19]} is served by the built-in registry"), all);
            Assert.True(check.Ok.Contains("10.200.0.12: sea.hub:5000 is the cluster's registry"), all);
            Assert.DoesNotContain(problems, p => p.StartsWith("10.200.0.12: [airgap]", StringComparison.Ordinal));

            // an image of quay.io: the run warns that this store leaves quay.io to the internet, and the check reports it
            await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).DeleteAsync();
            var quay = FixtureImage.Build(Path.Combine(Work, "quay"), appLayerBytes: 1024, appImage: "quay.io/acme/agent:2");
            lines = await RunCollectingAsync(doc, quay.Dir);
            var warned = lines.Where(l => l.Contains(ErrorCodes.DockerClassicStoreUnmirrored, StringComparison.Ordinal)).ToList();
            Assert.Equal([$"registry-config  {ErrorCodes.DockerClassicStoreUnmirrored}: 10.200.0.12: Docker's classic image store mirrors docker.io only: images of quay.io are pulled from those registries directly. " +
                DockerImageStore.Remedy], warned); // h1 has no daemon answering: not said of it
            // what it warns of: Docker asks quay.io itself (no route out of the lab), not the cluster's registry
            var leak = await node.RunAsync("timeout 30 docker pull quay.io/acme/agent:2 2>&1", new CommandOptions { Check = false, Timeout = TimeSpan.FromSeconds(40) });
            Assert.NotEqual(0, leak.ExitCode);
            Assert.Contains("quay.io", leak.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("/v2/acme/agent/manifests/2", File.ReadAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/data/fixture/registry-access.log")), StringComparison.Ordinal);
        }
        finally
        {
            await StopDockerdAsync(node);
        }
    }

    /// <summary>The test hosts' bridge: this machine's address on their network (build/test-hosts.sh).</summary>
    private const string BridgeIp = "10.200.0.1";

    /// <summary>
    /// The master and the Docker node with the Clusterfile's externalRegistry <paramref name="site"/> (with its credentials
    /// when <paramref name="credentials"/>, <paramref name="more"/> fields).
    /// </summary>
    private ClusterfileDocument DockerClusterWith(SiteRegistry site, bool credentials, string more = "") =>
        DockerCluster($"externalRegistry: {{domain: {BridgeIp}, port: {site.Address.Split(':')[1]}{(credentials ? $", username: {site.User}, password: {site.Password}" : "")}{more}}}");

    [Fact]
    public async Task Real_Docker_with_the_classic_store_pulls_docker_io_through_an_external_registry_and_a_prefix_it_cannot_take_is_refused()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/docker", "/etc/kubernetes", "/tmp");
        await using var node = await Lab.ConnectAsync("10.200.0.12");
        // the site's Harbor: a distribution over HTTPS on the hosts' network, its CA trusted by the Docker host as a site's
        // admin does (certs.d/HOST:PORT/ca.crt), this machine pushing without checking it (SEALER_INSECURE_REGISTRIES)
        var certs = CertificateGenerator.Generate(Path.Combine(Work, "site-certs"), [BridgeIp]);
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024);
        string? insecure = Environment.GetEnvironmentVariable("SEALER_INSECURE_REGISTRIES");
        try
        {
            await StartDockerdAsync(node);
            foreach (bool credentials in new[] { false, true })
            {
                using var site = SiteRegistry.Start(Path.Combine(Work, $"site-{credentials}"), auth: credentials, host: BridgeIp, tls: (certs.ServerCertificate, certs.ServerKey));
                Environment.SetEnvironmentVariable("SEALER_INSECURE_REGISTRIES", site.Address);
                Directory.CreateDirectory(Lab.Hosts[1].OnHost($"/etc/docker/certs.d/{site.Address}"));
                File.Copy(certs.CaCertificate, Lab.Hosts[1].OnHost($"/etc/docker/certs.d/{site.Address}/ca.crt"), overwrite: true);
                var doc = DockerClusterWith(site, credentials);
                var lines = await RunCollectingAsync(doc, image.Dir);
                Assert.Equal(image.AppManifestDigest, site.Inspect("library/demo:1.0")?.Digest); // pushed there by this machine under its own path
                using (var daemon = JsonDocument.Parse(File.ReadAllText(Lab.Hosts[1].OnHost("/etc/docker/daemon.json"))))
                {
                    // merged first into the mirrors the host's own daemon.json has (the fixture's docker.sh writes one)
                    Assert.Equal([$"https://{site.Address}", "https://mirror.site.example"], daemon.RootElement.GetProperty("registry-mirrors").EnumerateArray().Select(e => e.GetString()));
                }
                // the lab has no route out: a pull that succeeds came through the mirror
                var pull = await node.RunAsync($"kill -HUP $(cat {Dockerd}/pid); sleep 0.5; docker rmi -f docker.io/library/demo:1.0 >/dev/null 2>&1; timeout 40 docker pull docker.io/library/demo:1.0 2>&1 && docker image ls --digests --format '{{{{.Repository}}}}:{{{{.Tag}}}} {{{{.Digest}}}}'",
                    new CommandOptions { Check = false, Timeout = TimeSpan.FromSeconds(60) });
                var warned = lines.Where(l => l.Contains(ErrorCodes.DockerClassicStoreUnmirrored, StringComparison.Ordinal)).ToList();
                if (!credentials)
                {
                    Assert.Empty(warned);
                    Assert.True(pull.ExitCode == 0, pull.Stdout);
                    Assert.Contains($"demo:1.0 {image.AppManifestDigest}", pull.Stdout, StringComparison.Ordinal);
                    var check = await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).CheckAirgapAsync();
                    string all = string.Join("\n", check.Problems) + "\n--\n" + string.Join("\n", check.Ok);
                    Assert.True(check.Ok.Contains("10.200.0.12: docker.io mirrors to the cluster's registry (registry-mirrors)"), all);
                    Assert.True(check.Ok.Contains($"10.200.0.12: docker on 10.200.0.12 holds demo:1.0 {image.AppManifestDigest[..19]} is served by the externalRegistry {site.Address}"), all);
                }
                else
                {
                    // what the warning says: Docker sends the mirror no credentials, is refused, and asks docker.io itself
                    Assert.Equal([$"registry-config  {ErrorCodes.DockerClassicStoreUnmirrored}: 10.200.0.12: Docker's classic image store mirrors docker.io only: images of docker.io are pulled from those registries directly " +
                        $"(docker.io too, unless {site.Address} lets anyone pull: Docker sends a registry mirror no credentials). {DockerImageStore.Remedy}"], warned);
                    Assert.NotEqual(0, pull.ExitCode);
                    Assert.DoesNotContain(site.Password, string.Join("\n", lines), StringComparison.Ordinal);
                }
                await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).DeleteAsync();
                Assert.DoesNotContain(site.Address, File.ReadAllText(Lab.Hosts[1].OnHost("/etc/docker/daemon.json")), StringComparison.Ordinal); // the mirror taken out again
            }

            // a prefix: the classic store's registry-mirrors cannot take one, so that host stops before anything is written for it
            using (var site = SiteRegistry.Start(Path.Combine(Work, "site-prefix"), auth: false, host: BridgeIp, tls: (certs.ServerCertificate, certs.ServerKey)))
            {
                Environment.SetEnvironmentVariable("SEALER_INSECURE_REGISTRIES", site.Address);
                var doc = DockerClusterWith(site, credentials: false, ", prefix: sealer/site");
                var ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).RunAsync());
                Assert.Equal(ErrorCodes.RunStepFailed, ex.Code);
                Assert.Contains($"Step 'registry-config' on 10.200.0.12 failed ({ErrorCodes.DockerPrefixedMirrorRefused}): 10.200.0.12: Docker uses its classic image store", ex.Message, StringComparison.Ordinal);
                Assert.Contains($"through the externalRegistry's prefix ({site.Address}/sealer/site) it would pull every image from the internet", ex.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(site.Address, File.ReadAllText(Lab.Hosts[1].OnHost("/etc/docker/daemon.json")), StringComparison.Ordinal);
                Assert.False(Directory.Exists(Lab.Hosts[1].OnHost("/etc/docker/certs.d/docker.io")));
                // the master has no Docker daemon answering (its store not known): it got the hosts.toml files, no mirror in daemon.json
                Assert.Contains($"/v2/sealer/site/docker.io", File.ReadAllText(Lab.Hosts[0].OnHost("/etc/docker/certs.d/docker.io/hosts.toml")), StringComparison.Ordinal);
                Assert.DoesNotContain(site.Address, File.ReadAllText(Lab.Hosts[0].OnHost("/etc/docker/daemon.json")), StringComparison.Ordinal);
                await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).DeleteAsync();
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("SEALER_INSECURE_REGISTRIES", insecure);
            await StopDockerdAsync(node);
        }
    }

    [Fact]
    public async Task Real_Docker_pulls_the_registry_s_own_name_with_the_login_the_run_writes_and_docker_io_through_a_registry_with_credentials_is_warned_of()
    {
        Lab.Wipe("/var/lib/sealer", "/var/lib/kubelet", "/etc/containerd", "/etc/docker", "/etc/kubernetes", "/tmp");
        const string User = "hub", Password = "hub-pass-4711";
        var doc = DockerCluster($"localRegistry: {{username: {User}, password: {Password}}}");
        await using var node = await Lab.ConnectAsync("10.200.0.12");
        try
        {
            await StartDockerdAsync(node);
            var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024);
            var lines = await RunCollectingAsync(doc, image.Dir);
            Assert.Equal([$"registry-config  {ErrorCodes.DockerClassicStoreUnmirrored}: 10.200.0.12: Docker's classic image store mirrors docker.io only: images of docker.io are pulled from those registries directly " +
                $"(docker.io too: Docker sends a registry mirror no credentials, and the cluster's registry asks for them). {DockerImageStore.Remedy}"],
                lines.Where(l => l.Contains(ErrorCodes.DockerClassicStoreUnmirrored, StringComparison.Ordinal)));
            Assert.DoesNotContain(lines, l => l.Contains(Password, StringComparison.Ordinal));

            // the login kubelet (through cri-dockerd) and root's docker CLI send to the registry's own name, root-only;
            // root's config keeps what was there (the lab's docker context)
            string token = DockerAuths.Token(User, Password);
            var files = await node.RunAsync($"stat -c '%a' {DockerAuths.KubeletConfigPath} {DockerAuths.RootDockerConfigPath}; cat {DockerAuths.KubeletConfigPath}; echo @@; cat {DockerAuths.RootDockerConfigPath}");
            string[] parts = files.Stdout.Split("@@\n");
            Assert.StartsWith("600\n600\n", parts[0], StringComparison.Ordinal);
            using (var kubelet = JsonDocument.Parse(parts[0][8..]))
            {
                Assert.Equal(token, kubelet.RootElement.GetProperty("auths").GetProperty("sea.hub:5000").GetProperty("auth").GetString());
            }
            using (var root = JsonDocument.Parse(parts[1]))
            {
                Assert.Equal("sealer-test", root.RootElement.GetProperty("currentContext").GetString());
                Assert.Equal(token, root.RootElement.GetProperty("auths").GetProperty("sea.hub:5000").GetProperty("auth").GetString());
            }
            // real Docker pulls the registry's own name with that login (dockerd keeps /etc/hosts 5 s: the retry)
            var own = await node.RunAsync("for i in $(seq 1 20); do out=$(docker pull sea.hub:5000/library/demo:1.0 2>&1) && break; case \"$out\" in *'lookup sea.hub'*) sleep 0.5;; *) break;; esac; done; echo \"$out\"; docker image inspect sea.hub:5000/library/demo:1.0 >/dev/null",
                new CommandOptions { Check = false, Timeout = TimeSpan.FromSeconds(60) });
            Assert.True(own.ExitCode == 0, own.Stdout);
            // and what the warning says: docker.io through the mirror is refused (no credentials sent), then asked of docker.io itself
            var hub = await node.RunAsync($"kill -HUP $(cat {Dockerd}/pid); sleep 0.5; timeout 40 docker pull docker.io/library/demo:1.0 2>&1", new CommandOptions { Check = false, Timeout = TimeSpan.FromSeconds(60) });
            Assert.NotEqual(0, hub.ExitCode);
            Assert.Contains("registry-1.docker.io", hub.Stdout, StringComparison.Ordinal);
            // check --airgap says so of a docker.io image the host holds (tagged here: it could not be pulled), and not of sea.hub:5000's
            await node.RunAsync("docker tag sea.hub:5000/library/demo:1.0 docker.io/library/demo:1.0");
            var check = await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).CheckAirgapAsync();
            var problems = check.Problems.Select(p => p.ToString()).ToList();
            string all = string.Join("\n", problems) + "\n--\n" + string.Join("\n", check.Ok);
            Assert.True(problems.Contains($"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: the registry-mirrors of /etc/docker/daemon.json name the cluster's registry, but Docker sends a registry mirror no credentials, " +
                $"and the cluster's registry asks for them, so demo:1.0 uses docker.io: a pull goes to docker.io directly. {DockerImageStore.Remedy}"), all);
            Assert.True(check.Ok.Contains("10.200.0.12: sea.hub:5000 is the cluster's registry"), all);

            // delete takes the logins out again: kubelet's file held nothing else, root's keeps its context
            await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).DeleteAsync();
            var after = await node.RunAsync($"[ -e {DockerAuths.KubeletConfigPath} ] && echo kubelet-config-left; cat {DockerAuths.RootDockerConfigPath}");
            Assert.DoesNotContain("kubelet-config-left", after.Stdout, StringComparison.Ordinal);
            using (var root = JsonDocument.Parse(after.Stdout))
            {
                Assert.Equal("sealer-test", root.RootElement.GetProperty("currentContext").GetString());
                Assert.False(root.RootElement.TryGetProperty("auths", out _));
            }
        }
        finally
        {
            await StopDockerdAsync(node);
        }
    }
}
