using System.Text.Json;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;

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
    [Fact]
    public async Task Docker_hosts_mirror_every_domain_keep_their_daemon_json_and_leave_containerd_alone()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/docker", "/etc/kubernetes", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024);
        var doc = ClusterfileReader.Parse(FixtureClusterfile("""
              containerRuntime:
                type: docker
              hosts:
                - ips: [10.200.0.11]
                  roles: [master]
                - ips: [10.200.0.12]
                  roles: [node]
            """));
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

        // check --airgap reads the folder Docker reads: h2's _default is gone there (containerd's copy, which Docker does not read, is still in place)
        Assert.True(File.Exists(Lab.Hosts[1].OnHost("/etc/containerd/certs.d/_default/hosts.toml")));
        var check = await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).CheckAirgapAsync();
        var problems = check.Problems.Select(p => p.ToString()).ToList();
        string all = string.Join("\n", problems) + "\n--\n" + string.Join("\n", check.Ok);
        Assert.True(problems.Contains($"10.200.0.12: [airgap] {Sealer.Core.Diagnostics.ErrorCodes.AirgapMirrorMissing}: no /etc/docker/certs.d/_default/hosts.toml: images of other registries are pulled from the internet. Run 'sealer run' again (registry-config)."), all);
        Assert.True(check.Ok.Contains("10.200.0.11: certs.d/_default mirrors to 10.200.0.11:5000"), all);
        // no Docker engine on the test hosts: the docker CLI is missing, or finds no daemon (what it says is passed on)
        Assert.True(check.Ok.Any(o => o == "10.200.0.12: docker's images not listed (docker is not installed)" || (o.StartsWith("10.200.0.12: docker's images not listed (docker failed: ", StringComparison.Ordinal) && o.Contains("daemon", StringComparison.Ordinal))), all);
        Assert.True(check.Ok.Any(o => o.StartsWith("10.200.0.12: Docker's image store not known (docker ", StringComparison.Ordinal) && o.EndsWith("): judged by /etc/docker/certs.d as the containerd image store reads it", StringComparison.Ordinal)), all);
        Assert.DoesNotContain(problems.Concat(check.Ok), m => m.Contains("containerd's CRI", StringComparison.Ordinal) || m.Contains("/etc/containerd", StringComparison.Ordinal));

        var upgraded = await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).RunAsync();
        Assert.Contains("10.200.0.12:registry-config", upgraded.StepsRun);
        Assert.DoesNotContain("10.200.0.11:registry-config", upgraded.StepsRun);
        Assert.True(File.Exists(Lab.Hosts[1].OnHost("/etc/docker/certs.d/_default/hosts.toml")));

        // sealer delete takes our hosts.toml folders away again, the host's daemon.json settings stay
        await new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).DeleteAsync();
        Assert.False(Directory.Exists(Lab.Hosts[1].OnHost("/etc/docker/certs.d/docker.io")));
        Assert.False(Directory.Exists(Lab.Hosts[1].OnHost("/etc/docker/certs.d/_default")));
    }
}
