using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>
/// On real sshd hosts: the run stops before the apps step when the apps name an image the cluster image lacks (nothing
/// launched), --allow-missing-images launches; then <c>sealer check --airgap</c> with a real containerd on a node with no
/// default route pulling through the registry (passes) and a pod image whose domain has no hosts.toml (reported).
/// </summary>
[Collection(HostsCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class ImageChecksDeliveryTests(TestHosts hosts) : HostsTest(hosts, "sealer-checks-")
{
    private const string Ctrd = "/var/lib/sealer/ctrd";

    private string Clusterfile() => FixtureClusterfile($"""
          hosts:
            - ips: [10.200.0.11]
              roles: [master]
            - ips: [10.200.0.12]
              roles: [node]
              env: [CONTAINERD_ADDRESS={Ctrd}/containerd.sock]
        """, """
        ---
        apiVersion: sealer.io/v2
        kind: Application
        spec:
          launchApps: [web]
          configs:
            - name: web
              files:
                - path: values.yaml
                  strategy: merge
                  data: |
                    image:
                      tag: "2.0"
        """);

    [Fact]
    public async Task Missing_images_stop_the_run_before_launch_and_the_airgap_check_reports_leaks()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024, launch: ["web"], extraRootfs: new Dictionary<string, string>
        {
            ["application/apps/web/web/templates/deploy.yaml"] = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n",
        });
        var doc = ClusterfileReader.Parse(Clusterfile(), "Clusterfile");

        // 1. the site's tag is not in the cluster image: everything up to the apps is done, no app is launched
        var ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, RunOptionsFor(image.Dir)).RunAsync());
        Assert.Equal(ErrorCodes.RunStepFailed, ex.Code);
        var inner = Assert.IsType<SealerException>(ex.InnerException, exactMatch: false);
        Assert.Equal(ErrorCodes.ImagesMissingFromClusterImage, inner.Code);
        Assert.Equal(("Clusterfile", 27), (inner.File, inner.Line));
        Assert.Contains("docker.io/library/demo:2.0  app web  application/apps/web/web/templates/deploy.yaml:10", inner.Message, StringComparison.Ordinal);
        Assert.Contains("kubeadm init", Evidence(0), StringComparison.Ordinal);
        Assert.DoesNotContain("helm upgrade", Evidence(0), StringComparison.Ordinal);

        // 2. knowingly: the run resumes and launches
        var run = await new ClusterInstaller(doc, RunOptionsFor(image.Dir) with { AllowMissingImages = true }).RunAsync();
        Assert.Contains("images", run.StepsRun);
        Assert.Contains("helm upgrade --install web application/apps/web/web", Evidence(0), StringComparison.Ordinal);

        // 3. a real containerd on the node (no default route) pulls the app image through the delivered hosts.toml (content
        //    and image record, not unpacked: the fixture's layer is no real filesystem diff);
        //    an image of a domain with no hosts.toml cannot be pulled (the registry is asked through _default, has not got it)
        await using (var node = await Lab.ConnectAsync("10.200.0.12"))
        {
            await node.RunAsync($$"""
                mkdir -p {{Ctrd}}
                printf 'version = 2\nroot = "{{Ctrd}}/root"\nstate = "{{Ctrd}}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "{{Ctrd}}/containerd.sock"\n' > {{Ctrd}}/config.toml
                nohup setsid containerd --config {{Ctrd}}/config.toml > {{Ctrd}}/log 2>&1 < /dev/null &
                for i in $(seq 1 100); do [ -S {{Ctrd}}/containerd.sock ] && break; sleep 0.1; done
                ctr --address {{Ctrd}}/containerd.sock -n k8s.io content fetch --hosts-dir /etc/containerd/certs.d docker.io/library/demo:1.0 > /dev/null
                """, new CommandOptions { Timeout = TimeSpan.FromSeconds(60) });
            var leak = await node.RunAsync($"timeout 30 ctr --address {Ctrd}/containerd.sock -n k8s.io content fetch --hosts-dir /etc/containerd/certs.d quay.io/acme/agent:2",
                new CommandOptions { Check = false, Timeout = TimeSpan.FromSeconds(40) });
            Assert.NotEqual(0, leak.ExitCode);
        }
        // the pods kubectl lists (the fixture's kubectl answers from this file): one from the registry, one from quay.io
        Directory.CreateDirectory(Lab.Hosts[0].OnHost("/var/lib/sealer/fake-kube"));
        File.WriteAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/fake-kube/pods.json"), $$$"""
            {"items":[
              {"metadata":{"namespace":"web","name":"web-1"},"spec":{"nodeName":"sealer-h2","containers":[{"name":"web","image":"docker.io/library/demo:1.0"}]},
               "status":{"phase":"Running","containerStatuses":[{"name":"web","ready":true,"image":"docker.io/library/demo:1.0","imageID":"docker.io/library/demo@{{{image.AppManifestDigest}}}"}]}},
              {"metadata":{"namespace":"ops","name":"agent"},"spec":{"nodeName":"sealer-h2","containers":[{"name":"agent","image":"quay.io/acme/agent:2"}]},
               "status":{"phase":"Pending","containerStatuses":[{"name":"agent","ready":false,"image":"quay.io/acme/agent:2","imageID":""}]}}
            ]}
            """);

        var check = await new ClusterInstaller(doc, RunOptionsFor(image.Dir)).CheckAirgapAsync();
        var problems = check.Problems.Select(p => p.ToString()).ToList();
        string all = string.Join("\n", problems) + "\n--\n" + string.Join("\n", check.Ok);
        void Has(Func<string, bool> test, IEnumerable<string> lines) => Assert.True(lines.Any(test), all);
        Has(o => o.StartsWith($"10.200.0.12: containerd on 10.200.0.12 holds docker.io/library/demo:1.0 {image.AppManifestDigest[..19]} is served", StringComparison.Ordinal), check.Ok);
        Has(o => o == $"10.200.0.12: pod web/web-1 container web docker.io/library/demo:1.0 {image.AppManifestDigest[..19]} is served by the built-in registry", check.Ok);
        Has(o => o == "10.200.0.12: certs.d/_default mirrors to 10.200.0.11:5000", check.Ok);
        Has(o => o.StartsWith("10.200.0.11: the registry served", StringComparison.Ordinal) && o.Contains("docker.io/library/demo:1.0", StringComparison.Ordinal), check.Ok);
        Has(p => p.StartsWith($"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: no /etc/containerd/certs.d/quay.io/hosts.toml, but quay.io/acme/agent:2 uses quay.io", StringComparison.Ordinal), problems);
        Has(p => p.StartsWith($"10.200.0.12: [airgap] {ErrorCodes.AirgapImageNotServed}: pod ops/agent container agent quay.io/acme/agent:2 is not", StringComparison.Ordinal), problems);
        Has(p => p.StartsWith($"10.200.0.11: [airgap] {ErrorCodes.AirgapImageNotServed}: the registry was asked for quay.io/acme/agent:2", StringComparison.Ordinal), problems);
        Assert.False(problems.Any(p => p.Contains("[airgap]", StringComparison.Ordinal) && p.Contains("demo", StringComparison.Ordinal)), all);
        // containerd's own reading of its config (config dump): the CRI reads certs.d on every host ...
        foreach (var ip in new[] { "10.200.0.11", "10.200.0.12" }) Has(o => o == $"{ip}: containerd's CRI reads /etc/containerd/certs.d (config_path)", check.Ok);
        Assert.DoesNotContain(problems, p => p.Contains("containerd's CRI", StringComparison.Ordinal));

        // ... and when a base image's script puts containerd's default file back, the check says the mirrors are ignored
        var config = Lab.Hosts[1].OnHost("/etc/containerd/config.toml");
        File.WriteAllText(config, File.ReadAllText(config).Replace("config_path = \"/etc/containerd/certs.d\"", "config_path = \"\"", StringComparison.Ordinal));
        check = await new ClusterInstaller(doc, RunOptionsFor(image.Dir)).CheckAirgapAsync();
        problems = check.Problems.Select(p => p.ToString()).ToList();
        all = string.Join("\n", problems) + "\n--\n" + string.Join("\n", check.Ok);
        Has(p => p == $"10.200.0.12: [airgap] {ErrorCodes.AirgapMirrorMissing}: containerd's CRI does not read /etc/containerd/certs.d (its config_path is \"\" in /etc/containerd/config.toml): " +
            "every mirror there is ignored and each pull goes to the image's own registry. Run 'sealer run' again (registry-config sets it).", problems);
        Has(o => o == "10.200.0.11: containerd's CRI reads /etc/containerd/certs.d (config_path)", check.Ok);
    }
}
