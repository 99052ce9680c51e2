using System.Text.Json;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>
/// The second delivery on the sshd hosts: a cluster installed from v1 gets v2 (web's chart bumped to a new app image,
/// an app added, one dropped, a Kubernetes patch): plan without changes, an interrupted upgrade resumed, kubeadm's order,
/// the registry serving both images during the switch (a real containerd pulls them), check, rollback, skew refusal.
/// </summary>
[Collection(HostsCollection.Name)]
public class UpgradeTests(TestHosts hosts) : HostsTest(hosts, "sealer-upgrade-")
{
    private const string Rootfs = "/var/lib/sealer/data/shop/rootfs";

    private string Clusterfile() => $"""
        apiVersion: sealer.io/v2
        kind: Cluster
        metadata:
          name: shop
        spec:
          image: example.com/fixture/kubernetes:v1
          env:
            - KubeBinDir=/usr/local/bin
          ssh:
            pk: {Lab.PrivateKey}
          hosts:
            - ips: [10.200.0.11, 10.200.0.12]
              roles: [master]
            - ips: [10.200.0.13]
              roles: [node]
        ---
        apiVersion: sealer.io/v2
        kind: Application
        metadata:
          name: shop
        spec:
          configs:
            - name: web
              launch:
                helm:
                  atomic: true
                  timeout: 5m
        """;

    private FixtureImage V1() => FixtureImage.Build(Path.Combine(Work, "v1"), appLayerBytes: 256 * 1024, kubeVersion: "v1.28.3", launch: ["demo", "web", "extra"],
        extraRootfs: new Dictionary<string, string> { ["bin/kubelet"] = "#!/bin/sh\necho kubelet v1.28.3\n" });

    private FixtureImage V2(string dir = "v2", string kube = "v1.28.5") => FixtureImage.Build(Path.Combine(Work, dir), appLayerBytes: 256 * 1024, appImage: "docker.io/library/demo:2.0",
        kubeVersion: kube, launch: ["demo", "web", "newapp"], drop: ["application/apps/extra/"],
        extraRootfs: new Dictionary<string, string>
        {
            ["bin/kubelet"] = $"#!/bin/sh\necho kubelet {kube}\n",
            ["application/apps/web/web/Chart.yaml"] = "apiVersion: v2\nname: web\nversion: 0.2.0\n",
            ["application/apps/web/web/values.yaml"] = "replicaCount: 2\nimage:\n  repository: docker.io/library/demo\n  tag: \"2.0\"\n",
            ["application/apps/newapp/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: newapp\n",
        });

    private RunOptions Options(string image, List<string> status, bool prune = false, bool planOnly = false) => RunOptionsFor(image) with
    {
        Status = l => { lock (status) status.Add(l); },
        PruneApps = prune,
        PlanOnly = planOnly,
    };

    private static int Count(string text, string what) => text.Split('\n').Count(l => l.Contains(what, StringComparison.Ordinal));

    private async Task<string> FetchOnNodeAsync(params string[] refs)
    {
        await using var node = await Lab.ConnectAsync("10.200.0.13");
        return await RealContainerd.FetchAsync(node, null, refs);
    }

    private string Snapshot() => string.Join("\n", Enumerable.Range(0, 3).Select(i => Evidence(i)
        + string.Join(",", Directory.EnumerateFiles(Lab.Hosts[i].OnHost("/var/lib/sealer/data/.store/blobs/sha256")).Order(StringComparer.Ordinal))
        + File.ReadAllText(Lab.Hosts[i].OnHost(Rootfs + "/.sealer-image"))))
        + File.ReadAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/data/shop/state.json"));

    [Fact]
    public async Task Upgrade_is_planned_resumed_after_a_failing_app_rolled_back_and_skew_is_refused()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var v1 = V1();
        var v2 = V2();
        var file = Path.Combine(Work, "Clusterfile");
        File.WriteAllText(file, Clusterfile());
        var doc = ClusterfileReader.Load(file);

        // 1. install v1: web (chart 0.1.0, demo:1.0), extra, demo
        var status = new List<string>();
        var installed = await new ClusterInstaller(doc, Options(v1.Dir, status)).RunAsync();
        Assert.Null(installed.Plan);
        Assert.Contains("helm upgrade --install web application/apps/web/web --namespace web --create-namespace --wait --atomic --timeout 5m", Evidence(0), StringComparison.Ordinal);
        Assert.Contains(v1.AppManifestDigest, await FetchOnNodeAsync("docker.io/library/demo:1.0"), StringComparison.Ordinal);

        // 2. the plan of v2: computed from the hosts, nothing changed on them
        var before = Snapshot();
        var planned = await new ClusterInstaller(doc, Options(v2.Dir, status, planOnly: true)).RunAsync();
        var plan = planned.Plan!;
        Assert.Equal(before, Snapshot());
        Assert.Empty(planned.StepsRun);
        Assert.False(plan.Rollback);
        Assert.Equal(["unchanged demo", "upgrade web", "add newapp", "keep extra"], plan.Apps.Select(a => $"{a.Change} {a.Name}"));
        Assert.Contains("chart 0.1.0 -> 0.2.0", plan.Apps[1].Details);
        Assert.Contains("values changed", plan.Apps[1].Details);
        Assert.Contains("images +docker.io/library/demo:2.0 -docker.io/library/demo:1.0", plan.Apps[1].Details);
        Assert.Equal(["docker.io/library/demo:2.0"], plan.ImagesAdded);
        Assert.Equal(["docker.io/library/demo:1.0"], plan.ImagesRemoved);
        Assert.Equal(KubeChangeKind.Patch, plan.Kubernetes.Kind);
        // registry hosts lack the new rootfs, app blob and registry layers; the node only the new rootfs layer
        Assert.Equal(3, plan.Hosts.Single(h => h.Host == "10.200.0.11").Blobs);
        Assert.Equal(1, plan.Hosts.Single(h => h.Host == "10.200.0.13").Blobs);
        Assert.Equal(v2.RootfsBytes, plan.Hosts.Single(h => h.Host == "10.200.0.13").Bytes);
        Assert.Contains(status, l => l.Contains("upgrade plan: " + v1.Dir + " -> " + v2.Dir, StringComparison.Ordinal));
        using (var json = JsonDocument.Parse(JsonSerializer.Serialize(plan, UpgradePlanJsonContext.Default.UpgradePlan)))
        {
            Assert.Equal("Patch", json.RootElement.GetProperty("kubernetes").GetProperty("change").GetString());
        }

        // the same through the CLI: --json on stdout (status on stderr), --plan as text; still nothing changed
        string common = $"-f {file} --image {v2.Dir} --state-dir {Path.Combine(Work, "state")} --known-hosts {Lab.KnownHostsFile}";
        var cli = SealerCli.Run([.. $"run {common} --json".Split(' ')]);
        Assert.True(cli.ExitCode == 0, cli.Output);
        using (var json = JsonDocument.Parse(cli.StdOut))
        {
            Assert.Equal(["unchanged", "upgrade", "add", "keep"], json.RootElement.GetProperty("apps").EnumerateArray().Select(a => a.GetProperty("change").GetString()));
            Assert.Equal("v1.28.5", json.RootElement.GetProperty("kubernetes").GetProperty("to").GetString());
        }
        cli = SealerCli.Run([.. $"run {common} --plan --prune-apps".Split(' ')]);
        Assert.True(cli.ExitCode == 0, cli.Output);
        Assert.Contains("    prune     extra (kube): kubectl delete -f of its manifests from the previous image", cli.StdOut, StringComparison.Ordinal);
        Assert.Contains("nothing was changed (--plan)", cli.StdOut, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());

        // 3. the upgrade fails at the first helm app (injected): Kubernetes is done, the registry serves both images
        File.WriteAllText(Lab.Hosts[0].OnHost("/tmp/fail-helm"), "");
        status.Clear();
        var ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(v2.Dir, status)).RunAsync());
        Assert.Equal(ErrorCodes.RunStepFailed, ex.Code);
        Assert.Contains("'apps'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("injected helm failure", ex.Message, StringComparison.Ordinal);
        Assert.Equal(v2.ManifestDigest, File.ReadAllText(Lab.Hosts[2].OnHost(Rootfs + "/.sealer-image")).Trim());
        var during = await FetchOnNodeAsync("docker.io/library/demo:1.0", "docker.io/library/demo:2.0");
        Assert.Contains(v1.AppManifestDigest, during, StringComparison.Ordinal);
        Assert.Contains(v2.AppManifestDigest, during, StringComparison.Ordinal);
        using (var state = JsonDocument.Parse(File.ReadAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/data/shop/state.json"))))
        {
            Assert.Equal("v1.28.5", state.RootElement.GetProperty("upgrade").GetProperty("kubeTo").GetString());
        }

        // Sealer's order: kubeadm upgrade plan + apply on master0, upgrade node on the other master, then the node drained, upgraded, uncordoned
        var e0 = Evidence(0);
        TextAssert.InOrder(e0, "kubeadm upgrade plan v1.28.5 on sealer-h1", "kubeadm upgrade apply v1.28.5 -y on sealer-h1",
            "kubectl drain sealer-h3 --ignore-daemonsets --delete-emptydir-data --timeout=10m on sealer-h1", "kubectl uncordon sealer-h3 on sealer-h1");
        Assert.Contains("kubeadm upgrade node on sealer-h2", Evidence(1), StringComparison.Ordinal);
        Assert.Contains("kubeadm upgrade node on sealer-h3", Evidence(2), StringComparison.Ordinal);
        Assert.DoesNotContain("kubeadm upgrade", Evidence(2).Replace("kubeadm upgrade node on sealer-h3", "", StringComparison.Ordinal), StringComparison.Ordinal);
        TextAssert.InOrder(string.Join("\n", status), $"{"kube-upgrade",-16} on 10.200.0.11", "kube-upgrade-node 1 host(s): 10.200.0.12", "kube-upgrade-node 1 host(s): 10.200.0.13", $"{"apps",-16} on 10.200.0.11");
        foreach (var i in new[] { 0, 1, 2 })
        {
            Assert.Equal("#!/bin/sh\necho kubelet v1.28.5\n", File.ReadAllText(Lab.Hosts[i].OnHost("/usr/local/bin/kubelet")));
        }

        // 4. the next run resumes at the apps: nothing distributed, unpacked or upgraded again
        status.Clear();
        var resumed = await new ClusterInstaller(doc, Options(v2.Dir, status)).RunAsync();
        Assert.Contains("10.200.0.13:unpack", resumed.StepsSkipped);
        Assert.Contains("kube-upgrade", resumed.StepsSkipped);
        Assert.Contains("10.200.0.13:kube-upgrade-node", resumed.StepsSkipped);
        Assert.Contains("apps", resumed.StepsRun);
        Assert.Equal(1, Count(Evidence(0), "kubeadm upgrade apply"));
        var e = Evidence(0);
        Assert.Equal(1, Count(e, "app demo launched")); // unchanged: not launched again
        Assert.Equal(3, Count(e, "helm upgrade --install web application/apps/web/web --namespace web")); // install, the failed try, the resumed run
        Assert.Contains("tag: \"2.0\"", File.ReadAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/helm-values.log")), StringComparison.Ordinal);
        Assert.Contains("kubectl apply -f application/apps/newapp", e, StringComparison.Ordinal);
        Assert.DoesNotContain("kubectl delete", e, StringComparison.Ordinal); // extra is left running
        // the registry serves the new image and the previous one (--keep-images 2, for a rollback): a real containerd pulls both by name
        Assert.Contains(v2.AppManifestDigest, await FetchOnNodeAsync("docker.io/library/demo:2.0"), StringComparison.Ordinal);
        Assert.Contains(v1.AppManifestDigest, await FetchOnNodeAsync("docker.io/library/demo:1.0"), StringComparison.Ordinal);

        // 5. check says which image each app runs from
        var check = await new ClusterInstaller(doc, Options(v2.Dir, status)).CheckAsync();
        Assert.Contains(check.Ok, l => l == $"10.200.0.11: app web (helm chart 0.2.0) from {v2.Dir}");
        Assert.Contains(check.Ok, l => l == $"10.200.0.11: app demo (shell) from {v1.Dir}");
        Assert.Contains(check.Ok, l => l == $"10.200.0.11: app extra (kube) from {v1.Dir}, dropped by {v2.Dir} and left running");
        Assert.DoesNotContain(check.Problems, p => p.Check == "upgrade");

        // 6. skew: v1.30 from v1.28.5 is refused before anything changes
        var v3 = V2("v3", "v1.30.0");
        before = Snapshot();
        var skew = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(v3.Dir, status)).RunAsync());
        Assert.Equal(ErrorCodes.KubernetesSkew, skew.Code);
        Assert.Contains("one minor version at a time", skew.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());

        // 7. rollback with --prune-apps: web back to chart 0.1.0 and demo:1.0, newapp deleted, Kubernetes kept
        status.Clear();
        var rolled = await new ClusterInstaller(doc, Options(v2.Dir, status, prune: true)).RollbackAsync();
        Assert.True(rolled.Plan!.Rollback);
        Assert.Equal(KubeChangeKind.Kept, rolled.Plan.Kubernetes.Kind);
        Assert.Contains(rolled.Plan.CannotUndo, c => c.Contains("never downgrades Kubernetes", StringComparison.Ordinal));
        Assert.Equal(["unchanged demo", "upgrade web", "add extra", "prune newapp"], rolled.Plan.Apps.Select(a => $"{a.Change} {a.Name}"));
        Assert.Equal(v1.ManifestDigest, File.ReadAllText(Lab.Hosts[0].OnHost(Rootfs + "/.sealer-image")).Trim());
        e = Evidence(0);
        Assert.Equal(1, Count(e, "kubeadm upgrade apply"));
        Assert.Contains("kubectl delete --ignore-not-found -R -f /var/lib/sealer/data/shop/apps.dropped/newapp on sealer-h1", e, StringComparison.Ordinal);
        Assert.Equal(2, Count(e, "kubectl apply -f application/apps/extra"));
        var values = File.ReadAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/helm-values.log"));
        Assert.EndsWith("tag: \"1.0\"\n", values.TrimEnd('\n') + "\n", StringComparison.Ordinal);
        Assert.Contains(v1.AppManifestDigest, await FetchOnNodeAsync("docker.io/library/demo:1.0"), StringComparison.Ordinal);
        check = await new ClusterInstaller(doc, Options(v1.Dir, status)).CheckAsync();
        Assert.Contains(check.Ok, l => l == $"10.200.0.11: app web (helm chart 0.1.0) from {v1.Dir}");
        Assert.Contains(check.Ok, l => l.StartsWith($"10.200.0.11: cluster image {v1.Dir}, Kubernetes v1.28.5 (3 image(s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Upgrade_stopped_by_a_full_disk_and_a_host_going_down_resumes_where_it_stopped()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var v1 = V1();
        var v2 = V2();
        var file = Path.Combine(Work, "Clusterfile");
        File.WriteAllText(file, Clusterfile().Replace("[10.200.0.11, 10.200.0.12]", "[10.200.0.11]", StringComparison.Ordinal).Replace("[10.200.0.13]", "[10.200.0.12]", StringComparison.Ordinal));
        var doc = ClusterfileReader.Load(file);
        var status = new List<string>();
        RunOptions Fast(string image) => Options(image, status) with
        {
            Ssh = new SshOptions { KnownHostsPath = Lab.KnownHostsFile, ConnectTimeout = TimeSpan.FromSeconds(3), AliveInterval = TimeSpan.FromSeconds(1), AliveCountMax = 3 },
        };
        await new ClusterInstaller(doc, Fast(v1.Dir)).RunAsync();
        await using var root = await Lab.ConnectAsync("10.200.0.11");
        try
        {
            // 1. master0's blob store is full: the upgrade stops in distribute, no rootfs is swapped
            await root.RunAsync("mount -t tmpfs -o size=64k sealer-full /var/lib/sealer/data/.store");
            var full = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Fast(v2.Dir)).RunAsync());
            Assert.Equal(ErrorCodes.RunStepFailed, full.Code);
            Assert.Contains("'distribute'", full.Message, StringComparison.Ordinal);
            Assert.Contains("No space left on device", full.Message, StringComparison.Ordinal);
            await root.RunAsync("umount /var/lib/sealer/data/.store");
            foreach (var i in new[] { 0, 1 }) Assert.Equal(v1.ManifestDigest, File.ReadAllText(Lab.Hosts[i].OnHost(Rootfs + "/.sealer-image")).Trim());

            // 2. the node drops off the network during its kubeadm upgrade node (after the drain)
            File.WriteAllText(Lab.Hosts[1].OnHost("/tmp/down-upgrade"), "");
            var down = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Fast(v2.Dir)).RunAsync());
            Assert.Equal(ErrorCodes.RunStepFailed, down.Code);
            Assert.Contains("10.200.0.12", down.Message, StringComparison.Ordinal);
            Assert.Contains("'kube-upgrade-node'", down.Message, StringComparison.Ordinal);
            Assert.Contains("kubectl drain sealer-h2", Evidence(0), StringComparison.Ordinal);
            Assert.DoesNotContain("kubectl uncordon", Evidence(0), StringComparison.Ordinal);
            TestHosts.Run("-c", "ip -n sealer-h2 link set eth0 up");

            // 3. the next run resumes at the node: drained again, upgraded, uncordoned; then the apps
            var resumed = await new ClusterInstaller(doc, Fast(v2.Dir)).RunAsync();
            Assert.Contains("10.200.0.11:distribute", resumed.StepsSkipped);
            Assert.Contains("kube-upgrade", resumed.StepsSkipped);
            Assert.Contains("10.200.0.12:kube-upgrade-node", resumed.StepsRun);
            Assert.Contains("apps", resumed.StepsRun);
            var e0 = Evidence(0);
            Assert.Equal(1, Count(e0, "kubeadm upgrade apply v1.28.5 -y"));
            Assert.Equal(2, Count(e0, "kubectl drain sealer-h2"));
            Assert.Equal(1, Count(e0, "kubectl uncordon sealer-h2"));
            Assert.Equal(2, Count(Evidence(1), "kubeadm upgrade node on sealer-h2"));
            Assert.Contains("kubectl apply -f application/apps/newapp", e0, StringComparison.Ordinal);
            using var state = JsonDocument.Parse(File.ReadAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/data/shop/state.json")));
            Assert.False(state.RootElement.TryGetProperty("upgrade", out _));
            Assert.Equal(2, state.RootElement.GetProperty("history").GetArrayLength());
        }
        finally
        {
            TestHosts.Run("-c", "ip -n sealer-h2 link set eth0 up; true");
            TestHosts.Run("-c", $"nsenter -t $(cat '{Lab.StateDir}/h1/sshd.pid') -m umount /var/lib/sealer/data/.store 2>/dev/null; true");
        }
    }
}
