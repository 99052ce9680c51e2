using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>
/// Failures injected in the middle of a real run on the sshd hosts — a disk that fills up while blobs arrive, a host that
/// drops off the network while its lifecycle script runs — each a coded error naming the host and the phase, quickly;
/// then a re-run that completes without redoing what finished.
/// </summary>
[Collection(HostsCollection.Name)]
public sealed class FailureInjectionTests(TestHosts hosts, Xunit.Abstractions.ITestOutputHelper log) : HostsTest(hosts, "sealer-fail-")
{

    private RunOptions Options(string image) => RunOptionsFor(image, 3) with
    {
        // a host that stops answering is given up after 3 unanswered checks a second apart
        Ssh = new SshOptions { KnownHostsPath = Lab.KnownHostsFile, ConnectTimeout = TimeSpan.FromSeconds(3), AliveInterval = TimeSpan.FromSeconds(1), AliveCountMax = 3 },
    };

    private async Task<string> AsRootAsync(int host, string script)
    {
        await using var ssh = await Lab.ConnectAsync(Lab.Hosts[host].Ip);
        return (await ssh.RunAsync(script)).Stdout;
    }

    /// <summary>Cluster 'fixture': master0 10.200.0.11 and the given nodes, by key.</summary>
    private string ClusterfileText(string nodes) => FixtureClusterfile($"""
          hosts:
            - ips: [10.200.0.11]
              roles: [master]
            - ips: [{nodes}]
              roles: [node]
        """);

    [Fact]
    public async Task Disk_full_then_host_down_then_a_rerun_completes()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"));
        var file = Path.Combine(Work, "Clusterfile");
        File.WriteAllText(file, ClusterfileText("10.200.0.12-10.200.0.13"));
        var doc = ClusterfileReader.Load(file);
        try
        {
            // 1. master0's blob store is a 256 KiB disk: the 3 MiB app layer does not fit. Preflight looks at the data root
            //    (plenty of room), so this fails mid-distribution, as a disk filled by something else would.
            await AsRootAsync(0, "mkdir -p /var/lib/sealer/data/.store && mount -t tmpfs -o size=256k sealer-full /var/lib/sealer/data/.store");
            var full = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(image.Dir)).RunAsync());
            log.WriteLine(full.Message);
            Assert.Equal(ErrorCodes.RunStepFailed, full.Code);
            Assert.Contains("10.200.0.11", full.Message, StringComparison.Ordinal);
            Assert.Contains("'distribute'", full.Message, StringComparison.Ordinal);
            Assert.Contains("No space left on device", full.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("runtime", Evidence(0), StringComparison.Ordinal); // nothing ran past the distribution
            // the full disk holds no blob under its final name: only verified blobs are ever renamed into place
            foreach (var blob in Directory.EnumerateFiles(Lab.Hosts[0].OnHost("/var/lib/sealer/data/.store"), "*", SearchOption.AllDirectories))
            {
                Assert.DoesNotMatch("/blobs/sha256/[0-9a-f]{64}$", blob);
            }
            await AsRootAsync(0, "umount /var/lib/sealer/data/.store");

            // 2. the third host drops off the network while its runtime script runs: noticed in seconds, not at the step timeout
            File.WriteAllText(Lab.Hosts[2].OnHost("/tmp/down-runtime"), "");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var down = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(image.Dir)).RunAsync());
            sw.Stop();
            log.WriteLine($"{sw.Elapsed}: {down.Message}");
            Assert.Equal(ErrorCodes.RunStepFailed, down.Code);
            Assert.Contains("10.200.0.13", down.Message, StringComparison.Ordinal);
            Assert.Contains("'runtime'", down.Message, StringComparison.Ordinal);
            Assert.Contains("stopped answering", down.Message, StringComparison.Ordinal);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"a dead host took {sw.Elapsed} to notice");
            Assert.Contains("runtime sealer-h2", Evidence(1), StringComparison.Ordinal); // the others finished the step
            Assert.DoesNotContain("kubeadm", Evidence(0), StringComparison.Ordinal);      // and nothing went past it
            TestHosts.Run("-c", "ip -n sealer-h3 link set eth0 up");

            // 3. the re-run completes and redoes only what did not finish
            var result = await new ClusterInstaller(doc, Options(image.Dir)).RunAsync();
            Assert.Contains("10.200.0.11:distribute", result.StepsSkipped);
            Assert.Contains("10.200.0.12:runtime", result.StepsSkipped);
            Assert.Contains("10.200.0.13:runtime", result.StepsRun);
            Assert.Contains("kubeadm-init", result.StepsRun);
            Assert.Single(Evidence(1).Split('\n'), l => l.StartsWith("runtime sealer-h2", StringComparison.Ordinal));
            Assert.Contains("runtime sealer-h3", Evidence(2), StringComparison.Ordinal);
            Assert.Contains("app demo launched on sealer-h1", Evidence(0), StringComparison.Ordinal);

            var removed = await new ClusterInstaller(doc, Options(image.Dir)).DeleteAsync();
            Assert.Equal(3, removed.Count);
        }
        finally
        {
            TestHosts.Run("-c", "ip -n sealer-h3 link set eth0 up; true");
            TestHosts.Run("-c", $"nsenter -t $(cat '{Lab.StateDir}/h1/sshd.pid') -m umount /var/lib/sealer/data/.store 2>/dev/null; true");
        }
    }

    [Fact]
    public async Task Preflight_asks_a_registry_host_for_room_for_the_app_images_and_a_node_only_for_the_rootfs()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 4 << 20);
        var file = Path.Combine(Work, "Clusterfile");
        File.WriteAllText(file, ClusterfileText("10.200.0.12"));
        // both data roots are 68 MiB disks: room for the rootfs (with the 64 MiB margin), not for the 4 MiB app image twice
        string mount = "mkdir -p /var/lib/sealer/data && mount -t tmpfs -o size=68m sealer-small /var/lib/sealer/data";
        try
        {
            await AsRootAsync(0, mount);
            await AsRootAsync(1, mount);
            var ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(ClusterfileReader.Load(file), Options(image.Dir)).RunAsync());
            Assert.Equal(ErrorCodes.PreflightFailed, ex.Code);
            Assert.Contains("10.200.0.11", ex.Message, StringComparison.Ordinal); // the registry host needs the app images
            Assert.Contains("free under /var/lib/sealer/data", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("10.200.0.12", ex.Message, StringComparison.Ordinal); // the node gets the rootfs only
        }
        finally
        {
            foreach (int h in new[] { 1, 2 })
            {
                TestHosts.Run("-c", $"nsenter -t $(cat '{Lab.StateDir}/h{h}/sshd.pid') -m umount /var/lib/sealer/data 2>/dev/null; true");
            }
        }
    }
    /// <summary>
    /// A firewall between a worker and the registry (iptables in the worker's namespace rejects port 5000 to master0): the
    /// run stops at registry-config naming the host, the registry and the port to open, before writing anything there; once
    /// it is open a re-run completes. With two registry hosts and one of them cut off, the run goes on with a warning.
    /// </summary>
    [Fact]
    public async Task A_firewall_between_a_worker_and_the_registry_stops_the_run_there_and_one_of_two_registries_is_a_warning()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/etc/systemd/system", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024);
        const string Block = "iptables -I OUTPUT -p tcp -d 10.200.0.11 --dport 5000 -j REJECT";
        const string Unblock = "while iptables -D OUTPUT -p tcp -d 10.200.0.11 --dport 5000 -j REJECT 2>/dev/null; do :; done";
        try
        {
            await AsRootAsync(1, Block);
            string text = ClusterfileText("10.200.0.12, 10.200.0.13");
            var ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(ClusterfileReader.Parse(text, "Clusterfile"), Options(image.Dir), text).RunAsync());
            Assert.Equal(ErrorCodes.RunStepFailed, ex.Code);
            Assert.Contains($"Step 'registry-config' on 10.200.0.12 failed ({ErrorCodes.RegistryUnreachableFromHost}): 10.200.0.12 cannot connect to the cluster's registry at 10.200.0.11:5000: " +
                "nothing answered within 5 s, so no image could be pulled there. Open 5000/tcp on the registry hosts to the cluster's hosts (firewalld: firewall-cmd --permanent --add-port=5000/tcp", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("10.200.0.13", ex.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Lab.Hosts[1].OnHost("/etc/containerd/certs.d/_default")));
            Assert.True(File.Exists(Lab.Hosts[2].OnHost("/etc/containerd/certs.d/_default/hosts.toml")));

            await AsRootAsync(1, Unblock);
            var rerun = await new ClusterInstaller(ClusterfileReader.Parse(text, "Clusterfile"), Options(image.Dir), text).RunAsync();
            Assert.Contains("10.200.0.12:registry-config", rerun.StepsRun);
            Assert.DoesNotContain("10.200.0.13:registry-config", rerun.StepsRun);
            Assert.True(File.Exists(Lab.Hosts[1].OnHost("/etc/containerd/certs.d/_default/hosts.toml")));
            await new ClusterInstaller(ClusterfileReader.Parse(text, "Clusterfile"), Options(image.Dir), text).DeleteAsync();

            // two registry hosts (masters, ha): the worker reaching one of them pulls from that one, and is told of the other
            Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/etc/systemd/system", "/tmp");
            await AsRootAsync(2, Block);
            string two = FixtureClusterfile("""
                  hosts:
                    - ips: [10.200.0.11, 10.200.0.12]
                      roles: [master]
                    - ips: [10.200.0.13]
                      roles: [node]
                """);
            var status = new List<string>();
            var run = await new ClusterInstaller(ClusterfileReader.Parse(two, "Clusterfile"), Options(image.Dir) with { Status = l => { lock (status) status.Add(l); } }, two).RunAsync();
            Assert.Contains("10.200.0.13:registry-config", run.StepsRun);
            lock (status) Assert.Contains(status, l => l.Contains($"{ErrorCodes.RegistryUnreachableFromHost}: 10.200.0.13 cannot connect to 10.200.0.11:5000: its pulls go to the other registry hosts", StringComparison.Ordinal));
            // check says so too, and that the others connect to both
            var check = await new ClusterInstaller(ClusterfileReader.Parse(two, "Clusterfile"), Options(image.Dir), two).CheckAsync();
            var cut = Assert.Single(check.Problems, p => p.Check == "registry");
            Assert.Equal("10.200.0.13: [registry] cannot connect to 10.200.0.11:5000 (nothing answered within 5 s): its pulls go to the other registry hosts. Is the registry running there, and port 5000/tcp open to this host (a firewall)?", cut.ToString());
            Assert.Contains("10.200.0.12: connects to 10.200.0.11:5000, 10.200.0.12:5000", check.Ok);
            await new ClusterInstaller(ClusterfileReader.Parse(two, "Clusterfile"), Options(image.Dir), two).DeleteAsync();
        }
        finally
        {
            await AsRootAsync(1, Unblock);
            await AsRootAsync(2, Unblock);
        }
    }
}
