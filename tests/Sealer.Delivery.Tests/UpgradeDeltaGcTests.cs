using Sealer.Core.Artifacts;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;

namespace Sealer.Delivery.Tests;

/// <summary>
/// The rest of the second delivery on the sshd hosts, on one cluster that goes v1 -> v2 (shipped as a delta) -> v3:
/// a delta run whose base is completed from the hosts, a changed lifecycle script run again (and only where it changed),
/// join and registry gc refused while the upgrade is unfinished, a delta refused without its base, and the registry's
/// garbage collection keeping the current and previous images (a real containerd pulls them) and removing the first's.
/// </summary>
[Collection(HostsCollection.Name)]
public class UpgradeDeltaGcTests(TestHosts hosts) : HostsTest(hosts, "sealer-delta-")
{
    private const string Rootfs = "/var/lib/sealer/data/shop/rootfs";

    private string Clusterfile(string image, bool withH3 = false) => $"""
        apiVersion: sealer.io/v2
        kind: Cluster
        metadata:
          name: shop
        spec:
          image: {image}
          ssh:
            pk: {Lab.PrivateKey}
          hosts:
            - ips: [10.200.0.11]
              roles: [master]
            - ips: [10.200.0.12{(withH3 ? ", 10.200.0.13" : "")}]
              roles: [node]
        """;

    /// <summary>containerd.sh of v3: another script than v1's and v2's, so the upgrade to v3 runs it again (once per host).</summary>
    private const string RuntimeV3 = """
        #!/bin/bash
        set -e
        if [ -f /tmp/fail-runtime ]; then rm -f /tmp/fail-runtime; echo "injected failure in containerd.sh" >&2; exit 3; fi
        echo "runtime-v3 $(hostname)" >> /var/lib/sealer/evidence.log

        """;

    private FixtureImage Image(string dir, string app, bool newScript) => FixtureImage.Build(Path.Combine(Work, dir), appLayerBytes: 128 * 1024, appImage: app,
        extraRootfs: newScript ? new Dictionary<string, string> { ["scripts/containerd.sh"] = RuntimeV3 } : null);

    private static LayoutImage Named(FixtureImage image, string name)
    {
        var layout = OciLayout.Open(image.Dir);
        return new LayoutImage(name, layout, layout.ReadIndex().Manifests.Single());
    }

    private RunOptions Options(string image, List<string> status, string store) => RunOptionsFor(image) with
    {
        StoreDir = store,
        Status = l => { lock (status) status.Add(l); },
    };

    private static int Count(string text, string what) => text.Split('\n').Count(l => l.Contains(what, StringComparison.Ordinal));

    private async Task<string> FetchOnNodeAsync(params string[] refs)
    {
        await using var node = await Lab.ConnectAsync("10.200.0.12");
        return await RealContainerd.FetchAsync(node, null, refs);
    }

    private string RegistryBlob(string digest) => Lab.Hosts[0].OnHost($"{Rootfs}/registry/blobs/sha256/{digest[7..]}");

    /// <summary>Where the registry host links an app image blob to the store layer holding it (not a copy of its bytes).</summary>
    private string RegistryLink(string digest) => Lab.Hosts[0].OnHost($"{Rootfs}/registry/in-store/sha256/{digest[7..]}");

    private string StoreBlob(int host, string digest) => Lab.Hosts[host].OnHost($"/var/lib/sealer/data/.store/blobs/sha256/{digest[7..]}");

    [Fact]
    public async Task Delta_run_completes_its_base_from_the_hosts_then_a_changed_script_reruns_join_waits_and_gc_keeps_two_images()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var v1 = Image("v1", "docker.io/library/demo:1.0", newScript: false);
        var v2 = Image("v2", "docker.io/library/demo:2.0", newScript: false);
        var v3 = Image("v3", "docker.io/library/demo:3.0", newScript: true);
        Assert.Equal(v1.RootfsDigest, v2.RootfsDigest); // v2 changes the app image only
        string file = Path.Combine(Work, "Clusterfile");
        File.WriteAllText(file, Clusterfile(v1.Dir));
        var doc = ClusterfileReader.Load(file);
        string store = Path.Combine(Work, "store");
        var status = new List<string>();

        // 1. install v1 from its layout
        await new ClusterInstaller(doc, Options(v1.Dir, status, store)).RunAsync();
        Assert.Equal(1, Count(Evidence(1), "runtime sealer-h2"));
        Assert.Equal(1, Count(Evidence(0), "init-kube sealer-h1"));
        // the registry host holds the app layer once: in the store, linked from the registry layout
        Assert.False(File.Exists(RegistryBlob(v1.AppLayerDigest)));
        Assert.Equal($"/var/lib/sealer/data/.store/blobs/sha256/{v1.RegistryContentDigests[0][7..]}", new FileInfo(RegistryLink(v1.AppLayerDigest)).LinkTarget);
        Assert.True(File.Exists(StoreBlob(0, v1.RegistryContentDigests[0])));

        // 2. the delta v1 -> v2 carries the new app and registry layers, not the rootfs both have
        string delta = Path.Combine(Work, "shop-v1-to-v2.tar");
        var saved = await DeltaArchive.SaveAsync(Named(v1, "example.com/fixture/kubernetes:v1"), Named(v2, "example.com/fixture/kubernetes:v2"), delta);
        Assert.Equal([v1.RootfsDigest], saved.Info.BaseBlobs.Select(b => b.Digest));
        Assert.True(new FileInfo(delta).Length < v2.TotalBytes - v2.RootfsBytes + 64 * 1024, $"delta {new FileInfo(delta).Length} B, image {v2.TotalBytes} B");

        // 3. planned from the delta: the store lacks the base, the cluster runs it, so the rootfs comes back from the hosts
        //    (verified) and the delta is loaded; no lifecycle script runs again (none changed)
        var planned = await new ClusterInstaller(doc, Options(delta, status, store) with { PlanOnly = true }).RunAsync();
        Assert.Contains(status, l => l.Contains("taking them from the hosts", StringComparison.Ordinal));
        Assert.Empty(planned.Plan!.Scripts);
        Assert.Contains("lifecycle scripts: none run again", planned.Plan.ToText(), StringComparison.Ordinal);
        Assert.Equal(v2.ManifestDigest, ClusterImageStore.Open(store).Resolve("example.com/fixture/kubernetes:v2").Descriptor.Digest);

        // 4. the delta run: containerd pulls demo:2.0 by its name, and demo:1.0 still (the previous image is kept)
        var upgraded = await new ClusterInstaller(doc, Options(delta, status, store)).RunAsync();
        Assert.Equal("example.com/fixture/kubernetes:v2", upgraded.Image);
        Assert.Equal(v2.ManifestDigest, File.ReadAllText(Lab.Hosts[1].OnHost(Rootfs + "/.sealer-image")).Trim());
        Assert.Equal(1, Count(Evidence(1), "runtime sealer-h2"));
        var pulled = await FetchOnNodeAsync("docker.io/library/demo:2.0", "docker.io/library/demo:1.0");
        Assert.Contains(v2.AppManifestDigest, pulled, StringComparison.Ordinal);
        Assert.Contains(v1.AppManifestDigest, pulled, StringComparison.Ordinal);
        // the new rootfs carries v1's link along with v2's own: both layers were pulled through them
        Assert.Contains(v1.AppLayerDigest, pulled, StringComparison.Ordinal);
        Assert.Contains(v2.AppLayerDigest, pulled, StringComparison.Ordinal);
        Assert.NotNull(new FileInfo(RegistryLink(v1.AppLayerDigest)).LinkTarget);
        Assert.NotNull(new FileInfo(RegistryLink(v2.AppLayerDigest)).LinkTarget);

        // 5. the same delta with a store that lacks v1, on a cluster that now runs v2: refused, naming the base and its digest
        string empty = Path.Combine(Work, "empty-store");
        var refused = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(delta, status, empty)).RunAsync());
        Assert.Equal(ErrorCodes.DeltaBaseMissing, refused.Code);
        Assert.Contains($"delta over example.com/fixture/kubernetes:v1 ({v1.ManifestDigest})", refused.Message, StringComparison.Ordinal);
        Assert.Contains("runs example.com/fixture/kubernetes:v2", refused.Message, StringComparison.Ordinal);
        Assert.Empty(ClusterImageStore.Open(empty).List());

        // 6. v3 changes containerd.sh: the plan says it runs again on both hosts, init-kube.sh nowhere
        var plan3 = (await new ClusterInstaller(doc, Options(v3.Dir, status, store) with { PlanOnly = true }).RunAsync()).Plan!;
        var script = Assert.Single(plan3.Scripts);
        Assert.Equal(("runtime", "containerd.sh"), (script.Step, script.Script));
        Assert.Equal(["10.200.0.11", "10.200.0.12"], script.Hosts);
        Assert.Contains("runtime   scripts/containerd.sh on 10.200.0.11, 10.200.0.12", plan3.ToText(), StringComparison.Ordinal);

        // 7. the upgrade stops in that script on the node: an unfinished upgrade
        File.WriteAllText(Lab.Hosts[1].OnHost("/tmp/fail-runtime"), "");
        var failed = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(v3.Dir, status, store)).RunAsync());
        Assert.Equal(ErrorCodes.RunStepFailed, failed.Code);
        Assert.Contains("'runtime'", failed.Message, StringComparison.Ordinal);

        // 8. meanwhile a join is refused (nothing changed: the Clusterfile stays as it was), and so is a registry gc
        string common = $"-f {file} --state-dir {Path.Combine(Work, "state")} --known-hosts {Lab.KnownHostsFile}";
        var join = SealerCli.Run([.. $"join {common} --nodes 10.200.0.13".Split(' ')]);
        Assert.NotEqual(0, join.ExitCode);
        Assert.Contains(ErrorCodes.JoinDuringUpgrade, join.Output, StringComparison.Ordinal);
        Assert.Contains("Finish it first", join.Output, StringComparison.Ordinal);
        Assert.Equal(Clusterfile(v1.Dir), File.ReadAllText(file));
        Assert.Equal("", Evidence(2));
        var gcMidway = SealerCli.Run([.. $"registry gc {common} --dry-run".Split(' ')]);
        Assert.NotEqual(0, gcMidway.ExitCode);
        Assert.Contains(ErrorCodes.RegistryGcRefused, gcMidway.Output, StringComparison.Ordinal);

        // 9. the next run finishes it: the script ran once per host, init-kube not again. Meanwhile another cluster on the
        //    master's data root (they share the content store) links to v1's image-blob layer
        string otherLinks = Lab.Hosts[0].OnHost("/var/lib/sealer/data/other/rootfs/registry/in-store/sha256");
        Directory.CreateDirectory(otherLinks);
        File.CreateSymbolicLink(Path.Combine(otherLinks, v1.AppLayerDigest[7..]), $"/var/lib/sealer/data/.store/blobs/sha256/{v1.RegistryContentDigests[0][7..]}");
        status.Clear();
        var third = await new ClusterInstaller(doc, Options(v3.Dir, status, store)).RunAsync();
        Assert.Equal(1, Count(Evidence(0), "runtime-v3 sealer-h1"));
        Assert.Equal(1, Count(Evidence(1), "runtime-v3 sealer-h2"));
        Assert.Equal(1, Count(Evidence(0), "init-kube sealer-h1"));

        // 10. after it the registry keeps v3 and v2 and drops v1's blobs (the rootfs v1 shares with v2 stays)
        var gc = third.Collected!.Single(h => h.Host == "10.200.0.11");
        Assert.Contains(v1.AppManifestDigest, gc.RegistryBlobs);
        Assert.Contains(v1.AppLayerDigest, gc.RegistryBlobs);
        Assert.Null(new FileInfo(RegistryLink(v1.AppLayerDigest)).LinkTarget); // the link went with the blob
        Assert.True(File.Exists(RegistryLink(v2.AppLayerDigest)));
        Assert.True(File.Exists(RegistryLink(v3.AppLayerDigest)));
        Assert.Contains(v1.RegistryContentDigests[1], gc.StoreBlobs); // v1's registry layer goes; its image-blob layer, the other cluster's, stays
        Assert.DoesNotContain(v1.RegistryContentDigests[0], gc.StoreBlobs);
        Assert.False(File.Exists(RegistryBlob(v1.AppManifestDigest)));
        Assert.True(File.Exists(RegistryBlob(v2.AppManifestDigest)));
        Assert.True(File.Exists(RegistryBlob(v3.AppManifestDigest)));
        Assert.False(File.Exists(StoreBlob(0, v1.RegistryContentDigests[1])));
        Assert.True(File.Exists(StoreBlob(0, v1.RegistryContentDigests[0])));
        Assert.True(File.Exists(StoreBlob(0, v2.RegistryContentDigests[0])));
        Assert.True(File.Exists(StoreBlob(0, v1.RootfsDigest)));
        Assert.True(File.Exists(StoreBlob(1, v1.RootfsDigest)));
        Assert.True(File.Exists(StoreBlob(1, v3.RootfsDigest)));
        pulled = await FetchOnNodeAsync("docker.io/library/demo:3.0", "docker.io/library/demo:2.0");
        Assert.Contains(v3.AppManifestDigest, pulled, StringComparison.Ordinal);
        Assert.Contains(v2.AppManifestDigest, pulled, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SealerException>(() => FetchOnNodeAsync("docker.io/library/demo:1.0"));

        // 11. by hand: with one image kept, v2's blobs would go; --dry-run removes nothing
        var dry = SealerCli.Run([.. $"registry gc {common} --dry-run --keep-images 1".Split(' ')]);
        Assert.True(dry.ExitCode == 0, dry.Output);
        Assert.Contains($"  registry {v2.AppManifestDigest}", dry.StdOut, StringComparison.Ordinal);
        Assert.Contains("would free", dry.StdOut, StringComparison.Ordinal);
        Assert.True(File.Exists(RegistryBlob(v2.AppManifestDigest)));
    }
}
