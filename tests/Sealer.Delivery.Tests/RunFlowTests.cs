using System.Net.Http.Headers;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>End to end on real sshd hosts: run (with an injected failure and a resuming re-run), check, delete; bad input.</summary>
[Collection(HostsCollection.Name)]
public class RunFlowTests(TestHosts hosts, Xunit.Abstractions.ITestOutputHelper log) : HostsTest(hosts, "sealer-run-")
{

    private string SealerWrapper() => Lab.SealerWrapper(Work);

    private string Clusterfile(string hostsYaml, string extra = "") => FixtureClusterfile(hostsYaml, extra, env: ["MyVar=fromcluster"], ssh: ["port: \"22\""]);

    private RunOptions Options(string image, List<TransferProgress>? progress = null, List<string>? output = null) => RunOptionsFor(image) with
    {
        TransferProgress = progress is null ? null : new SyncProgress<TransferProgress>(p => { lock (progress) progress.Add(p); }),
        Output = output is null ? null : l => { lock (output) output.Add(l); },
    };

    /// <summary>Host i's content store holds <paramref name="present"/> (verified) and none of <paramref name="absent"/>.</summary>
    private void AssertStore(int i, IEnumerable<string> present, IEnumerable<string> absent)
    {
        foreach (var d in present)
        {
            var path = Lab.Hosts[i].OnHost("/var/lib/sealer/data/.store/blobs/sha256/" + d["sha256:".Length..]);
            Assert.True(File.Exists(path), $"{Lab.Hosts[i].Ip} lacks {d}");
            Assert.Equal(d, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))));
        }
        foreach (var d in absent)
        {
            Assert.False(File.Exists(Lab.Hosts[i].OnHost("/var/lib/sealer/data/.store/blobs/sha256/" + d["sha256:".Length..])), $"{Lab.Hosts[i].Ip} got {d}, which only registry hosts need");
        }
    }

    [Fact]
    public async Task Run_injected_failure_resume_check_and_delete()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"));
        var file = Path.Combine(Work, "Clusterfile");
        File.WriteAllText(file, Clusterfile("""
              hosts:
                - ips: [10.200.0.11]
                  roles: [master]
                  labels: {zone: a}
                - ips: [10.200.0.12-10.200.0.13]
                  roles: [node]
                  env: [MyVar=fromhost]
              hostAliases:
                - ip: 10.200.0.250
                  hostnames: [mirror.example, mirror]
            """, """
            ---
            kind: Plugin
            metadata: {name: pre}
            spec:
              type: SHELL
              action: PreInitHost
              scope: master
              data: echo "plugin pre-init-host $(hostname) in $(pwd)" >> /var/lib/sealer/evidence.log
            ---
            kind: Plugin
            metadata: {name: post}
            spec:
              action: post-install
              data: echo "plugin post-install $(hostname)" >> /var/lib/sealer/evidence.log
            ---
            kind: Config
            metadata: {name: values}
            spec:
              path: etc/values.yaml
              data: |
                replicas: 3
                image:
                  tag: v2
            """));
        var doc = ClusterfileReader.Load(file);

        // 1. a failure injected on the third host in the runtime step
        File.WriteAllText(Lab.Hosts[2].OnHost("/tmp/fail-runtime"), "");
        var progress = new List<TransferProgress>();
        var output = new List<string>();
        var ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(image.Dir, progress, output)).RunAsync());
        Assert.Equal(ErrorCodes.RunStepFailed, ex.Code);
        Assert.Contains("10.200.0.13", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'runtime'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("scripts/containerd.sh", ex.Message, StringComparison.Ordinal);
        Assert.Contains("injected failure in containerd.sh", ex.Message, StringComparison.Ordinal);
        Assert.Contains("runtime sealer-h1 HostIP=10.200.0.11 CRI=containerd MyVar=fromcluster", Evidence(0), StringComparison.Ordinal);
        Assert.Contains("runtime sealer-h2 HostIP=10.200.0.12 CRI=containerd MyVar=fromhost", Evidence(1), StringComparison.Ordinal); // host env over cluster env
        Assert.DoesNotContain("runtime", Evidence(2), StringComparison.Ordinal);
        Assert.DoesNotContain("kubeadm", Evidence(0), StringComparison.Ordinal); // stopped before the kube phase
        Assert.Contains(output, l => l.StartsWith("[10.200.0.13] runtime: injected failure", StringComparison.Ordinal));

        // distribution: bytes and hosts reported, and at least one host was served by another host (relay)
        var last = progress[^1];
        Assert.Equal(3, last.HostsDone);
        // master0 runs the registry and gets the app image content; the two nodes get the rootfs only
        Assert.Equal(image.TotalBytes + 2 * image.RootfsBytes, last.BytesTotal);
        AssertStore(0, image.RegistryContentDigests.Append(image.RootfsDigest), []);
        AssertStore(1, [image.RootfsDigest], image.RegistryContentDigests);
        AssertStore(2, [image.RootfsDigest], image.RegistryContentDigests);
        Assert.Equal(last.BytesTotal, last.BytesDone);
        Assert.Contains(progress, p => p.Source is not null && p.Source.StartsWith("10.200.0.", StringComparison.Ordinal));
        foreach (var h in Lab.Hosts.Take(3))
        {
            Assert.False(File.Exists(h.OnHost("/root/.ssh/authorized_keys")) && File.ReadAllText(h.OnHost("/root/.ssh/authorized_keys")).Contains("sealer-relay", StringComparison.Ordinal));
            Assert.Empty(Directory.Exists(h.OnHost("/var/lib/sealer/data/.store/relay")) ? Directory.GetFiles(h.OnHost("/var/lib/sealer/data/.store/relay")) : []);
        }

        // 2. re-run: resumes, skips what is done, completes
        var result = await new ClusterInstaller(doc, Options(image.Dir)).RunAsync();
        Assert.Contains("10.200.0.11:distribute", result.StepsSkipped);
        Assert.Contains("10.200.0.11:runtime", result.StepsSkipped);
        Assert.Contains("10.200.0.12:runtime", result.StepsSkipped);
        Assert.Contains("10.200.0.13:runtime", result.StepsRun);
        Assert.Contains("kubeadm-init", result.StepsRun);
        Assert.Equal(1, CountLines(Evidence(0), "runtime sealer-h1"));

        // lifecycle evidence, in Sealer's order
        var e0 = Evidence(0);
        TextAssert.InOrder(e0, "plugin pre-init-host sealer-h1 in /var/lib/sealer/data/fixture/rootfs", "runtime sealer-h1", "init-kube sealer-h1 registry=sea.hub:5000",
            "kubeadm init --config etc/kubeadm.yml --upload-certs on sealer-h1", "plugin post-install sealer-h1", "kubectl label node sealer-h1 zone=a --overwrite",
            "app demo launched on sealer-h1 from /var/lib/sealer/data/fixture/rootfs");
        Assert.DoesNotContain("plugin pre-init-host", Evidence(1), StringComparison.Ordinal); // scope: master
        foreach (var i in new[] { 1, 2 })
        {
            TextAssert.InOrder(Evidence(i), "init-kube sealer-h", "kubeadm join 10.103.97.2:6443 --token abcdef.0123456789abcdef", "plugin post-install");
            Assert.DoesNotContain("--control-plane", Evidence(i), StringComparison.Ordinal);
        }
        // each host unpacked what it got: registry/ (the app images) only on the registry host
        Assert.True(File.Exists(Lab.Hosts[0].OnHost("/var/lib/sealer/data/fixture/rootfs/registry/index.json")));
        Assert.False(Directory.Exists(Lab.Hosts[1].OnHost("/var/lib/sealer/data/fixture/rootfs/registry")));
        Assert.True(File.Exists(Lab.Hosts[1].OnHost("/var/lib/sealer/data/fixture/rootfs/bin/kubeadm")));
        // templates rendered per host, Config merged into the image's file
        Assert.Equal("url=sea.hub:5000 host=10.200.0.12 my=fromhost other=dflt\n", File.ReadAllText(Lab.Hosts[1].OnHost("/var/lib/sealer/data/fixture/rootfs/etc/registry.conf")));
        var values = File.ReadAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/data/fixture/rootfs/etc/values.yaml"));
        Assert.Contains("replicas: 3", values, StringComparison.Ordinal);
        Assert.Contains("tag: v2", values, StringComparison.Ordinal);
        Assert.Contains("pull: Always", values, StringComparison.Ordinal);
        // /etc/hosts, containerd hosts.toml pointing at the registry host
        Assert.Contains("10.200.0.11 sea.hub", File.ReadAllText(Lab.Hosts[2].OnHost("/etc/hosts")), StringComparison.Ordinal);
        Assert.Contains("10.200.0.250 mirror.example mirror", File.ReadAllText(Lab.Hosts[1].OnHost("/etc/hosts")), StringComparison.Ordinal);
        var toml = File.ReadAllText(Lab.Hosts[2].OnHost("/etc/containerd/certs.d/docker.io/hosts.toml"));
        Assert.Contains("[host.\"https://10.200.0.11:5000\"]", toml, StringComparison.Ordinal);
        Assert.Contains("ca = \"/etc/sealer/registry/ca.crt\"", toml, StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", File.ReadAllText(Lab.Hosts[2].OnHost("/etc/sealer/registry/ca.crt")), StringComparison.Ordinal);
        Assert.True(File.Exists(Lab.Hosts[1].OnHost("/etc/containerd/certs.d/_default/hosts.toml")));
        // and containerd's CRI reads them: the base image's default config.toml got config_path, its one changed line
        var config = File.ReadAllText(Lab.Hosts[1].OnHost("/etc/containerd/config.toml"));
        Assert.Contains("      config_path = \"/etc/containerd/certs.d\"\n", config, StringComparison.Ordinal);
        Assert.DoesNotContain("config_path = \"\"", config, StringComparison.Ordinal);
        Assert.Contains("sandbox_image = ", config, StringComparison.Ordinal);

        // the registry on master0 serves the app image by its original name, over TLS with the cluster's private CA
        using (var http = new HttpClient(TrustingOnly(Path.Combine(Work, "state", "fixture", "certs", "ca.crt"))))
        {
            var req = new HttpRequestMessage(HttpMethod.Get, "https://10.200.0.11:5000/v2/library/demo/manifests/1.0?ns=docker.io");
            req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
            using var resp = await http.SendAsync(req);
            Assert.True(resp.IsSuccessStatusCode, $"registry answered {(int)resp.StatusCode}");
            Assert.Equal(image.AppManifestDigest, resp.Headers.GetValues("Docker-Content-Digest").Single());
        }

        // a real containerd on a node pulls the app image by its original name through the delivered hosts.toml
        await using (var node = await Lab.ConnectAsync("10.200.0.13"))
        {
            var fetched = await RealContainerd.FetchAsync(node, null, ["docker.io/library/demo:1.0"]);
            Assert.Contains(image.AppManifestDigest, fetched, StringComparison.Ordinal);
            Assert.Equal(3, fetched.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // manifest, config, layer
        }

        // state on master0 and locally
        Assert.Contains("\"kubeadm-init\"", File.ReadAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/data/fixture/state.json")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Work, "state", "fixture", "state.json")));

        // 3. a third run changes nothing
        var again = await new ClusterInstaller(doc, Options(image.Dir)).RunAsync();
        Assert.DoesNotContain(again.StepsRun, s => s.Contains(':', StringComparison.Ordinal) || s == "kubeadm-init" || s == "apps");

        // 4. check
        var check = await new ClusterInstaller(doc, Options(image.Dir)).CheckAsync();
        Assert.Empty(check.Problems);
        Assert.Contains("10.200.0.11: registry on port 5000", check.Ok);
        Assert.Contains("10.200.0.11: kubernetes answers (no workloads)", check.Ok);

        // 4b. the apps' workloads through kubectl on master0 (the fixture's kubectl answers from these files)
        string fake = Lab.Hosts[0].OnHost("/var/lib/sealer/fake-kube");
        Directory.CreateDirectory(fake);
        File.WriteAllText(Path.Combine(fake, "workloads.json"), """
            {"items":[
              {"kind":"Deployment","metadata":{"name":"web","namespace":"shop","annotations":{"meta.helm.sh/release-name":"shop"}},"spec":{"replicas":3},"status":{"readyReplicas":1}},
              {"kind":"StatefulSet","metadata":{"name":"db","namespace":"shop","labels":{"app.kubernetes.io/instance":"shop"}},"spec":{"replicas":1},"status":{"readyReplicas":1}},
              {"kind":"DaemonSet","metadata":{"name":"node-exporter","namespace":"monitoring"},"spec":{},"status":{"desiredNumberScheduled":3,"numberReady":3}}
            ]}
            """);
        File.WriteAllText(Path.Combine(fake, "pods.json"), """
            {"items":[
              {"metadata":{"name":"web-1","namespace":"shop","labels":{"app.kubernetes.io/instance":"shop"}},"status":{"containerStatuses":[
                {"name":"nginx","image":"docker.io/library/nginx:1.27","restartCount":0,"state":{"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image"}}}]}},
              {"metadata":{"name":"web-2","namespace":"shop","labels":{"app.kubernetes.io/instance":"shop"}},"status":{"containerStatuses":[
                {"name":"nginx","image":"docker.io/library/nginx:1.27","restartCount":7,"state":{"waiting":{"reason":"CrashLoopBackOff"}},"lastState":{"terminated":{"exitCode":137,"reason":"OOMKilled"}}}]}},
              {"metadata":{"name":"web-0","namespace":"shop"},"status":{"containerStatuses":[{"name":"nginx","image":"docker.io/library/nginx:1.27","restartCount":0,"state":{"running":{}}}]}}
            ]}
            """);
        check = await new ClusterInstaller(doc, Options(image.Dir)).CheckAsync();
        Assert.Contains("10.200.0.11: app shop: statefulset shop/db 1/1 ready", check.Ok);
        Assert.Contains("10.200.0.11: app monitoring: daemonset monitoring/node-exporter 3/3 ready", check.Ok);
        Assert.Equal(3, check.Problems.Count);
        Assert.All(check.Problems, p => Assert.Equal("app shop", p.Check));
        Assert.Contains(check.Problems, p => p.Message.StartsWith("deployment shop/web has 1/3 ready", StringComparison.Ordinal));
        Assert.Contains(check.Problems, p => p.Message.Contains("pod shop/web-1 container nginx cannot pull docker.io/library/nginx:1.27 (ImagePullBackOff: Back-off pulling image)", StringComparison.Ordinal));
        Assert.Contains(check.Problems, p => p.Message.Contains("pod shop/web-2 container nginx is crash looping (7 restarts, last exit 137 OOMKilled)", StringComparison.Ordinal));
        var (unhealthyCode, unhealthy) = Cli($"check -f {file} --image {image.Dir} --known-hosts {Lab.KnownHostsFile} --state-dir {Path.Combine(Work, "state")}");
        Assert.True(unhealthyCode == 1, unhealthy);
        Assert.Contains("FAIL  10.200.0.11: [app shop] deployment shop/web has 1/3 ready", unhealthy, StringComparison.Ordinal);
        Assert.Contains("3 problem(s)", unhealthy, StringComparison.Ordinal);
        Directory.Delete(fake, true);

        // 5. the CLI: join a fourth host, check, remove it again
        string cli = $"--image {image.Dir} --known-hosts {Lab.KnownHostsFile} --sealer-binary {SealerWrapper()} --state-dir {Path.Combine(Work, "state")} --parallel 1";
        var (code, stdout) = Cli($"join -f {file} --nodes 10.200.0.14 {cli}");
        log.WriteLine("$ sealer join -f Clusterfile --nodes 10.200.0.14 ...\n" + stdout);
        Assert.True(code == 0, stdout);
        Assert.Contains("kubeadm-init     done before", stdout, StringComparison.Ordinal);
        Assert.Contains("join             1 host(s): 10.200.0.14 (2 done before)", stdout, StringComparison.Ordinal);
        Assert.Contains("updated " + file, stdout, StringComparison.Ordinal);
        Assert.Contains("10.200.0.14", File.ReadAllText(file), StringComparison.Ordinal);
        Assert.Contains("kubeadm join 10.103.97.2:6443", Evidence(3), StringComparison.Ordinal);
        AssertStore(3, [image.RootfsDigest], image.RegistryContentDigests); // a joined node gets the rootfs only
        Assert.Equal(1, CountLines(Evidence(0), "kubeadm init ")); // master0 was not initialized twice
        Assert.Equal(1, CountLines(Evidence(1), "kubeadm join"));
        // the CLI's join saved the Clusterfile with the new host on master0 and in the ConfigMap; the new worker has lvscare
        Assert.Contains("10.200.0.14", File.ReadAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/data/fixture/Clusterfile")), StringComparison.Ordinal);
        Assert.Contains("10.200.0.14", LastConfigMap(), StringComparison.Ordinal);
        Assert.Contains("- 10.200.0.11:6443", File.ReadAllText(Lab.Hosts[3].OnHost("/etc/kubernetes/manifests/kube-lvscare.yaml")), StringComparison.Ordinal);
        (code, stdout) = Cli($"check -f {file} {cli}");
        Assert.True(code == 0, stdout);
        Assert.Contains("cluster 'fixture' is healthy", stdout, StringComparison.Ordinal);
        (code, stdout) = Cli($"delete -f {file} --hosts 10.200.0.14 -y {cli}");
        Assert.True(code == 0, stdout);
        Assert.Contains("kubectl drain sealer-h4", Evidence(0), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Lab.Hosts[3].OnHost("/var/lib/sealer/data/fixture")));
        Assert.DoesNotContain("10.200.0.14", File.ReadAllText(file), StringComparison.Ordinal);
        Assert.DoesNotContain("10.200.0.14", LastConfigMap(), StringComparison.Ordinal); // the CLI's delete updated it
        Assert.False(File.Exists(Lab.Hosts[3].OnHost("/etc/kubernetes/manifests/kube-lvscare.yaml")));
        doc = ClusterfileReader.Load(file);
        Assert.Equal(3, doc.Cluster.Hosts.Count);
        Assert.Equal(3, doc.Plugins.Count + doc.Configs.Count); // the other documents survive the edits

        // 6. an installed node that is down does not block adding another one
        var withH4 = ClusterfileReader.Parse(ClusterfileEditor.AddHosts(File.ReadAllText(file), [], ["10.200.0.14"], file), file);
        var unreachable = new ClusterfileDocument
        {
            Cluster = new ClusterSpec
            {
                Name = withH4.Cluster.Name, Image = withH4.Cluster.Image, Env = withH4.Cluster.Env, Ssh = withH4.Cluster.Ssh, Registry = withH4.Cluster.Registry,
                Hosts = withH4.Cluster.Hosts.Select(h => h.Ip != "10.200.0.12" ? h : new HostSpec { Ip = h.Ip, Roles = h.Roles, Env = h.Env, Ssh = h.Ssh with { Port = 2999 } }).ToList(),
            },
            Plugins = withH4.Plugins, Configs = withH4.Configs, File = file,
        };
        var partial = await new ClusterInstaller(unreachable, Options(image.Dir)).RunAsync();
        Assert.Contains("10.200.0.12:unreachable", partial.StepsSkipped);
        Assert.Contains("10.200.0.14:join", partial.StepsRun);
        Assert.Equal(2, CountLines(Evidence(3), "kubeadm join 10.103.97.2:6443")); // joined, removed, joined again

        // 7. delete everything
        var removed = await new ClusterInstaller(withH4, Options(image.Dir)).DeleteAsync();
        Assert.Equal(4, removed.Count);
        foreach (var h in Lab.Hosts)
        {
            Assert.False(Directory.Exists(h.OnHost("/var/lib/sealer/data/fixture")));
            Assert.False(Directory.Exists(h.OnHost("/etc/containerd/certs.d/docker.io")));
            Assert.DoesNotContain("sea.hub", File.ReadAllText(h.OnHost("/etc/hosts")), StringComparison.Ordinal);
        }
        Assert.Contains("kubeadm reset -f on sealer-h2", Evidence(1), StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<HttpRequestException>(async () =>
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
            await http.GetAsync("https://10.200.0.11:5000/v2/");
        });
        Assert.False(File.Exists(Path.Combine(Work, "state", "fixture", "state.json")));
    }

    [Fact]
    public async Task Bad_hosts_are_all_reported_before_anything_changes()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024);
        var kh = Path.Combine(Work, "known_hosts");
        // h3's entry replaced by h2's key: a changed host key
        var lines = File.ReadAllLines(Lab.KnownHostsFile).Where(l => !l.StartsWith("10.200.0.13 ", StringComparison.Ordinal)).ToList();
        lines.AddRange(lines.Where(l => l.StartsWith("10.200.0.12 ", StringComparison.Ordinal)).Select(l => "10.200.0.13" + l["10.200.0.12".Length..]).ToList());
        File.WriteAllLines(kh, lines);
        var doc = ClusterfileReader.Parse(Clusterfile("""
              hosts:
                - ips: [10.200.0.11]
                  roles: [master]
                - ips: [10.200.0.12]
                  roles: [node]
                  ssh: {passwd: wrong-password-123, pk: ""}
                - ips: [10.200.0.13, 10.200.0.99]
                  roles: [node]
            """));
        var ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(image.Dir) with
        {
            Ssh = new SshOptions { KnownHostsPath = kh, ConnectTimeout = TimeSpan.FromSeconds(2) },
        }).RunAsync());
        Assert.Equal(ErrorCodes.PreflightFailed, ex.Code);
        Assert.Contains("nothing was changed", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Contains($"10.200.0.12: [ssh] {ErrorCodes.SshAuthFailed}", StringComparison.Ordinal), ex.Message);
        Assert.Contains($"10.200.0.12: [ssh] {ErrorCodes.SshAuthFailed}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"10.200.0.13: [ssh] {ErrorCodes.SshHostKeyChanged}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"10.200.0.99: [ssh] {ErrorCodes.SshUnreachable}", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password-123", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Lab.Hosts[0].OnHost("/var/lib/sealer/data")));
        Assert.DoesNotContain("BEGIN sealer", File.ReadAllText(Lab.Hosts[0].OnHost("/etc/hosts")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preflight_reports_busy_ports_and_duplicate_hostnames_together()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024);
        var doc = ClusterfileReader.Parse(Clusterfile("""
              hosts:
                - ips: [10.200.0.13]
                  roles: [master]
                - ips: [10.200.0.14]
                  roles: [node]
            """));
        var knownHosts = KnownHosts.Load(Lab.KnownHostsFile);
        var opts = new SshOptions { KnownHostsPath = Lab.KnownHostsFile };
        await using var h3 = await SshHost.ConnectAsync("10.200.0.13", Lab.KeySsh, opts, knownHosts);
        await using var h4 = await SshHost.ConnectAsync("10.200.0.14", Lab.KeySsh, opts, knownHosts);
        // something already listens on the registry port of the master, and h4 claims h3's hostname
        await h3.RunAsync("nohup setsid python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"0.0.0.0\",5000)); s.listen(); time.sleep(60)' >/dev/null 2>&1 & sleep 0.5");
        await h4.RunAsync("hostname sealer-h3");
        try
        {
            var ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(image.Dir)).RunAsync());
            Assert.Equal(ErrorCodes.PreflightFailed, ex.Code);
            Assert.Contains("10.200.0.13: [port] port 5000 is already in use", ex.Message, StringComparison.Ordinal);
            Assert.Contains("10.200.0.14: [hostname] hostname 'sealer-h3' is also used by 10.200.0.13", ex.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Lab.Hosts[2].OnHost("/var/lib/sealer/data")));
        }
        finally
        {
            await h4.RunAsync("hostname sealer-h4");
            await h3.RunAsync("pkill -f 'bind((\"0.0.0.0\",5000))' || true", new CommandOptions { Check = false });
        }
    }

    /// <summary>A Sealer base's registry tree, by hand: <c>pause:3.9</c> (a docker schema 2 image: manifest, config, one
    /// layer) and a tag <c>broken:1</c> whose manifest is not in the tree. Rootfs files, and pause's manifest digest.</summary>
    private static (Dictionary<string, string> Files, string PauseManifest) SealerTree()
    {
        const string Tree = "registry/docker/registry/v2/";
        static string Sha(string text) => "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
        string pauseLayer = "the pause image's one layer", pauseConfig = """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["DIFF"]}}""".Replace("DIFF", Sha(pauseLayer), StringComparison.Ordinal);
        string pauseManifest = $$"""{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":{{pauseConfig.Length}},"digest":"{{Sha(pauseConfig)}}"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":{{pauseLayer.Length}},"digest":"{{Sha(pauseLayer)}}"}]}""";
        var tree = new Dictionary<string, string>
        {
            [Tree + "repositories/pause/_manifests/tags/3.9/current/link"] = Sha(pauseManifest),
            [Tree + "repositories/broken/_manifests/tags/1/current/link"] = "sha256:" + new string('0', 64),
        };
        foreach (var blob in new[] { pauseLayer, pauseConfig, pauseManifest }) tree[$"{Tree}blobs/sha256/{Sha(blob)[7..9]}/{Sha(blob)[7..]}/data"] = blob;
        return (tree, Sha(pauseManifest));
    }

    /// <summary>
    /// One master (10.200.0.14) wiped; a cluster image with a Sealer base's tree (<see cref="SealerTree"/>); the site's
    /// Harbor, a fresh distribution with basic auth (this machine pushes to it; the hosts would pull from it), as the
    /// Clusterfile's externalRegistry, with <paramref name="more"/> fields. Returns pause's manifest digest too.
    /// </summary>
    /// <summary>The test hosts' bridge: a site registry there is one the hosts reach (this machine reaches it too).</summary>
    private const string Bridge = "10.200.0.1";

    /// <summary>The site registry's server certificate and key (HTTPS, as a site's Harbor; for the bridge's address).</summary>
    private (string Certificate, string Key) SiteTls()
    {
        var certs = Sealer.Core.RegistryServer.CertificateGenerator.Generate(Path.Combine(Work, "site-certs"), [Bridge]);
        return (certs.ServerCertificate, certs.ServerKey);
    }

    /// <summary>A site registry on the bridge listed as insecure for this machine's pushes while the test runs (its CA is not trusted here).</summary>
    private static IDisposable Insecure(SiteRegistry site)
    {
        string? before = Environment.GetEnvironmentVariable("SEALER_INSECURE_REGISTRIES");
        Environment.SetEnvironmentVariable("SEALER_INSECURE_REGISTRIES", before is { Length: > 0 } ? before + "," + site.Address : site.Address);
        return new Restore(() => Environment.SetEnvironmentVariable("SEALER_INSECURE_REGISTRIES", before));
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    private (FixtureImage Image, SiteRegistry Site, ClusterfileDocument Doc, string PauseManifest) WithExternalRegistry(string more = "", bool tls = true)
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        var (tree, pauseManifest) = SealerTree();
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024, extraRootfs: tree);
        var site = SiteRegistry.Start(Path.Combine(Work, "site-registry"), host: Bridge, tls: tls ? SiteTls() : null);
        var doc = ClusterfileReader.Parse(Clusterfile($$"""
              hosts:
                - ips: [10.200.0.14]
                  roles: [master]
              registry:
                externalRegistry: {domain: 10.200.0.1, port: {{site.Address.Split(':')[1]}}, username: {{site.User}}, password: {{site.Password}}{{more}}}
            """));
        return (image, site, doc, pauseManifest);
    }

    [Fact]
    public async Task External_registry_with_a_prefix_gets_every_image_under_it_by_domain_and_containerd_pointed_there()
    {
        // a site's Harbor without TLS, listed as insecure: this machine's pushes find plain HTTP after HTTPS, as Docker's do
        var (image, site, doc, pauseManifest) = WithExternalRegistry(", prefix: sealer/site", tls: false);
        using var _ = site;
        using var __ = Insecure(site);
        string port = site.Address.Split(':')[1];

        var result = await new ClusterInstaller(doc, Options(image.Dir)).RunAsync();

        Assert.Contains("mirror-images", result.StepsRun);
        Assert.Equal(image.AppManifestDigest, site.Inspect("sealer/site/docker.io/library/demo:1.0")?.Digest); // by its domain
        Assert.Equal(pauseManifest, site.Inspect("sealer/site/pause:3.9")?.Digest); // without a domain: under the prefix itself
        Assert.Null(site.Inspect("library/demo:1.0"));
        var toml = File.ReadAllText(Lab.Hosts[3].OnHost("/etc/containerd/certs.d/docker.io/hosts.toml"));
        Assert.Contains($"[host.\"https://10.200.0.1:{port}/v2/sealer/site/docker.io\"]\n  capabilities = [\"pull\", \"resolve\"]\n  override_path = true\n", toml, StringComparison.Ordinal);
        Assert.Contains($"[host.\"https://10.200.0.1:{port}/v2/sealer/site\"]", toml, StringComparison.Ordinal);
        Assert.Contains($"[host.\"https://10.200.0.1:{port}/v2/sealer/site/docker.io\".header]", toml, StringComparison.Ordinal);
        var fallback = File.ReadAllText(Lab.Hosts[3].OnHost("/etc/containerd/certs.d/_default/hosts.toml"));
        Assert.Contains($"[host.\"https://10.200.0.1:{port}/v2/sealer/site\"]", fallback, StringComparison.Ordinal);
        Assert.DoesNotContain("/docker.io\"", fallback, StringComparison.Ordinal);

        var check = await new ClusterInstaller(doc, Options(image.Dir)).CheckAsync();
        Assert.Contains($"external registry 10.200.0.1:{port}/sealer/site: serves the 2 app image(s)", check.Ok);
        Assert.Contains("10.200.0.14:registry-config", (await new ClusterInstaller(doc, Options(image.Dir)).RunAsync()).StepsSkipped);

        // the prefix dropped from the Clusterfile: a re-run pushes to the root paths and rewrites hosts.toml to match
        var rootPaths = ClusterfileReader.Parse(Clusterfile($$"""
              hosts:
                - ips: [10.200.0.14]
                  roles: [master]
              registry:
                externalRegistry: {domain: 10.200.0.1, port: {{port}}, username: {{site.User}}, password: {{site.Password}}}
            """));
        var again = await new ClusterInstaller(rootPaths, Options(image.Dir)).RunAsync();
        Assert.Contains("mirror-images", again.StepsRun);
        Assert.Contains("10.200.0.14:registry-config", again.StepsRun);
        Assert.Equal(image.AppManifestDigest, site.Inspect("library/demo:1.0")?.Digest);
        toml = File.ReadAllText(Lab.Hosts[3].OnHost("/etc/containerd/certs.d/docker.io/hosts.toml"));
        Assert.Contains($"[host.\"https://10.200.0.1:{port}\"]", toml, StringComparison.Ordinal);
        Assert.DoesNotContain("override_path", toml, StringComparison.Ordinal);
        await new ClusterInstaller(rootPaths, Options(image.Dir)).DeleteAsync();
    }

    [Fact]
    public async Task External_registry_means_no_local_registry_gets_the_app_images_and_mirrors_to_it()
    {
        // a Sealer base's docker/distribution tree in the rootfs too (kubeadm's pause, domainless): pushed under its path;
        // a tag whose manifest the tree lacks cannot be, and is named
        const string Tree = "registry/docker/registry/v2/";
        var (image, site, doc, pauseManifest) = WithExternalRegistry();
        using var _ = site;
        using var __ = Insecure(site);
        string port = site.Address.Split(':')[1];
        var lines = new List<string>();
        var result = await new ClusterInstaller(doc, Options(image.Dir) with { Status = l => { lock (lines) lines.Add(l); } }).RunAsync();
        Assert.DoesNotContain("10.200.0.14:registry", result.StepsRun);
        Assert.Contains("mirror-images", result.StepsRun);
        AssertStore(3, [image.RootfsDigest], image.RegistryContentDigests); // no local registry: no host needs the app images
        // the app image is in the external registry under its own path, before Kubernetes starts
        Assert.Equal(image.AppManifestDigest, site.Inspect("library/demo:1.0")?.Digest);
        Assert.Equal(pauseManifest, site.Inspect("pause:3.9")?.Digest); // the path as the tree has it (containerd asks /v2/pause for sea.hub:5000/pause)
        Assert.Contains(lines, l => l.StartsWith("mirror-images", StringComparison.Ordinal) && l.Contains($"2 app image(s) to 10.200.0.1:{port} (1 of them from the rootfs's Sealer-format {Tree}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("mirror-images", StringComparison.Ordinal) && l.Contains($"2 app image(s) in 10.200.0.1:{port}: 4 blob(s) uploaded", StringComparison.Ordinal));
        int mirrored = lines.FindIndex(l => l.StartsWith("mirror-images", StringComparison.Ordinal)), kube = lines.FindIndex(l => l.StartsWith("init-kube", StringComparison.Ordinal));
        Assert.True(mirrored >= 0 && kube > mirrored, string.Join('\n', lines));
        Assert.DoesNotContain(lines, l => l.Contains(site.Password, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("mirror-images", StringComparison.Ordinal) && l.Contains($"SEA4026: 1 image(s) in Sealer's registry format are not pushed into 10.200.0.1:{port}: broken:1: its manifest sha256:{new string('0', 64)} is not in the tree", StringComparison.Ordinal));
        var toml = File.ReadAllText(Lab.Hosts[3].OnHost("/etc/containerd/certs.d/docker.io/hosts.toml"));
        Assert.Contains($"[host.\"https://10.200.0.1:{port}\"]", toml, StringComparison.Ordinal);
        // containerd logs in with the Clusterfile's credentials: an Authorization header, in files only root reads
        Assert.Contains($"Authorization = [\"Basic {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{site.User}:{site.Password}"))}\"]", toml, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Lab.Hosts[3].OnHost("/etc/containerd/certs.d/docker.io/hosts.toml")));
        Assert.Contains($"registry=10.200.0.1:{port}", Evidence(3), StringComparison.Ordinal); // RegistryURL names the external registry
        Assert.DoesNotContain("sea.hub", File.ReadAllText(Lab.Hosts[3].OnHost("/etc/hosts")), StringComparison.Ordinal);

        // a re-run with the same image pushes nothing again
        var again = await new ClusterInstaller(doc, Options(image.Dir)).RunAsync();
        Assert.Contains("mirror-images", again.StepsSkipped);

        // sealer check asks the external registry for every app image; a registry that lost them is a problem
        var check = await new ClusterInstaller(doc, Options(image.Dir)).CheckAsync();
        Assert.Contains($"external registry 10.200.0.1:{port}: serves the 2 app image(s)", check.Ok);
        // an upgrade to an image with another app image pushes that one before anything else changes
        var next = FixtureImage.Build(Path.Combine(Work, "image-next"), appLayerBytes: 2048, appImage: "docker.io/library/demo:2.0");
        var upgraded = await new ClusterInstaller(doc, Options(next.Dir)).RunAsync();
        Assert.Contains("mirror-images", upgraded.StepsRun);
        Assert.Equal(next.AppManifestDigest, site.Inspect("library/demo:2.0")?.Digest);
        Assert.Equal(image.AppManifestDigest, site.Inspect("library/demo:1.0")?.Digest); // the old one stays for a rollback

        using (var emptied = SiteRegistry.Start(Path.Combine(Work, "emptied-registry"), host: Bridge, tls: SiteTls()))
        using (Insecure(emptied))
        {
            var lost = ClusterfileReader.Parse(Clusterfile($$"""
                  hosts:
                    - ips: [10.200.0.14]
                      roles: [master]
                  registry:
                    externalRegistry: {domain: 10.200.0.1, port: {{emptied.Address.Split(':')[1]}}, username: {{emptied.User}}, password: {{emptied.Password}}}
                """));
            var problem = Assert.Single((await new ClusterInstaller(lost, Options(image.Dir)).CheckAsync()).Problems, p => p.Check == "mirror-images");
            Assert.Contains($"2 of the 2 app image(s) are not served as pushed ({emptied.Address}/library/demo:1.0:", problem.Message, StringComparison.Ordinal);
            Assert.Contains($"Run 'sealer mirror {image.Dir} {emptied.Address}'", problem.Message, StringComparison.Ordinal);
        }
        await new ClusterInstaller(doc, Options(image.Dir)).DeleteAsync();
        Assert.False(Directory.Exists(Lab.Hosts[3].OnHost("/etc/containerd/certs.d/docker.io")));
    }

    [Fact]
    public async Task An_external_registry_the_hosts_or_this_machine_cannot_reach_stops_the_run_before_kubernetes()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024);

        // 1. nothing answers where the hosts are to pull from: their connect check stops the run before anything is written there
        int closed;
        using (var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse(Bridge), 0)) { l.Start(); closed = ((System.Net.IPEndPoint)l.LocalEndpoint).Port; }
        var nobody = ClusterfileReader.Parse(Clusterfile($$"""
              hosts:
                - ips: [10.200.0.14]
                  roles: [master]
              registry:
                externalRegistry: {domain: {{Bridge}}, port: {{closed}}}
            """));
        var ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(nobody, Options(image.Dir)).RunAsync());
        Assert.Equal(ErrorCodes.RunStepFailed, ex.Code);
        Assert.Contains($"Step 'registry-config' on 10.200.0.14 failed ({ErrorCodes.RegistryUnreachableFromHost}): 10.200.0.14 cannot connect to the externalRegistry {Bridge}:{closed} at {Bridge}:{closed}: " +
            $"nothing answered within 5 s, so no image could be pulled there. Check that a firewall lets 10.200.0.14 through to {closed}/tcp there, and run again.", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Lab.Hosts[3].OnHost("/etc/containerd/certs.d/_default")));
        Assert.DoesNotContain("init-kube", Evidence(3), StringComparison.Ordinal);
        await new ClusterInstaller(nobody, Options(image.Dir)).DeleteAsync();

        // 2. the hosts reach it by a name only they resolve (spec.hostAliases), this machine cannot: the mirror step stops
        // the run before Kubernetes, naming 'sealer mirror' from a machine that can; with --no-mirror the run completes
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        using var site = SiteRegistry.Start(Path.Combine(Work, "site-registry"), auth: false, host: Bridge);
        string port = site.Address.Split(':')[1];
        var doc = ClusterfileReader.Parse(Clusterfile($$"""
              hosts:
                - ips: [10.200.0.14]
                  roles: [master]
              hostAliases:
                - ip: {{Bridge}}
                  hostnames: [harbor.site.test]
              registry:
                externalRegistry: {domain: harbor.site.test, port: {{port}}}
            """));
        ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(image.Dir)).RunAsync());
        Assert.Equal(ErrorCodes.RunStepFailed, ex.Code);
        Assert.Contains("mirror-images", ex.Message, StringComparison.Ordinal);
        Assert.Contains("harbor.site.test", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"run 'sealer mirror {image.Dir} harbor.site.test:{port}' on a machine that can, then run again with --no-mirror", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("init-kube", Evidence(3), StringComparison.Ordinal); // stopped before Kubernetes

        var lines = new List<string>();
        var result = await new ClusterInstaller(doc, Options(image.Dir) with { NoMirror = true, Status = l => { lock (lines) lines.Add(l); } }).RunAsync();
        Assert.DoesNotContain("mirror-images", result.StepsRun);
        Assert.Contains(lines, l => l.StartsWith("mirror-images", StringComparison.Ordinal) && l.Contains("skipped (--no-mirror)", StringComparison.Ordinal));
        Assert.Contains("init-kube", Evidence(3), StringComparison.Ordinal);
        await new ClusterInstaller(doc, Options(image.Dir)).DeleteAsync();
    }

    [Fact]
    public async Task Joined_master_of_an_HA_registry_gets_the_app_images_a_joined_node_does_not()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 64 * 1024);
        var file = Path.Combine(Work, "Clusterfile");
        File.WriteAllText(file, Clusterfile("""
              hosts:
                - ips: [10.200.0.11]
                  roles: [master]
                - ips: [10.200.0.12]
                  roles: [node]
            """));
        await new ClusterInstaller(ClusterfileReader.Load(file), Options(image.Dir)).RunAsync();
        AssertStore(0, image.RegistryContentDigests.Append(image.RootfsDigest), []);
        AssertStore(1, [image.RootfsDigest], image.RegistryContentDigests);

        // join a master (the registry is ha by default: every master runs one) and a node
        File.WriteAllText(file, ClusterfileEditor.AddHosts(File.ReadAllText(file), ["10.200.0.13"], ["10.200.0.14"], file));
        var progress = new List<TransferProgress>();
        var joined = await new ClusterInstaller(ClusterfileReader.Load(file), Options(image.Dir, progress)).RunAsync();
        Assert.Contains("10.200.0.13:registry", joined.StepsRun);
        Assert.Contains("10.200.0.13:distribute", joined.StepsRun);
        Assert.Contains("10.200.0.11:distribute", joined.StepsSkipped);
        AssertStore(2, image.RegistryContentDigests.Append(image.RootfsDigest), []);
        AssertStore(3, [image.RootfsDigest], image.RegistryContentDigests);
        Assert.Equal(image.TotalBytes + image.RootfsBytes, progress[^1].BytesTotal);
        Assert.True(File.Exists(Lab.Hosts[2].OnHost("/var/lib/sealer/data/fixture/rootfs/registry/index.json")));
        Assert.False(Directory.Exists(Lab.Hosts[3].OnHost("/var/lib/sealer/data/fixture/rootfs/registry")));
        await new ClusterInstaller(ClusterfileReader.Load(file), Options(image.Dir)).DeleteAsync();
    }

    [Fact]
    public async Task Hosts_of_another_architecture_fail_preflight()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024, architecture: "arm64");
        var doc = ClusterfileReader.Parse(Clusterfile("""
              hosts:
                - ips: [10.200.0.11]
                  roles: [master]
            """));
        var ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(image.Dir)).RunAsync());
        Assert.Equal(ErrorCodes.PreflightFailed, ex.Code);
        Assert.Contains("10.200.0.11: [platform] the host is linux/amd64 but the cluster image has only linux/arm64", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Lab.Hosts[0].OnHost("/var/lib/sealer/data")));

        // the same through Sealer's short form: the Clusterfile is written from the flags, the error is printed with its code
        var state = Path.Combine(Work, "cli-state");
        var (code, output) = Cli($"run {image.Dir} -m 10.200.0.11 --pk {Lab.PrivateKey} --known-hosts {Lab.KnownHostsFile} --state-dir {state} -e A=1");
        Assert.Equal(1, code);
        Assert.Contains($"error {ErrorCodes.PreflightFailed}: Preflight found 1 problem(s)", output, StringComparison.Ordinal);
        var written = Path.Combine(state, "my-cluster", "Clusterfile");
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(written));
        var parsed = ClusterfileReader.Load(written).Cluster;
        Assert.Equal(["10.200.0.11"], parsed.Hosts.Select(h => h.Ip));
        Assert.Equal(Lab.PrivateKey, parsed.Ssh.PrivateKeyPath);
    }

    private static HttpClientHandler TrustingOnly(string caFile)
    {
        var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(caFile));
        return new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, chain, _) =>
            {
                if (cert is null || chain is null) return false;
                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return chain.Build(cert);
            },
        };
    }

    private static (int Code, string Output) Cli(string args)
    {
        var r = SealerCli.Run(args.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return (r.ExitCode, r.Output);
    }

    /// <summary>The Clusterfile of the last ConfigMap the fixture kubectl on master0 was given (kube-system/sealer-clusterfile).</summary>
    private string LastConfigMap()
    {
        var last = Directory.GetFiles(Lab.Hosts[0].OnHost("/var/lib/sealer/fake-kube/applied")).Order(StringComparer.Ordinal).Last();
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(last));
        return json.RootElement.GetProperty("data").GetProperty("Clusterfile").GetString()!;
    }

    private static int CountLines(string text, string needle) => text.Split('\n').Count(l => l.Contains(needle, StringComparison.Ordinal));
}
