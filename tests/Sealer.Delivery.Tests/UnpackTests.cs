using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Ssh;

namespace Sealer.Delivery.Tests;

/// <summary>On a real sshd host: the unpack step applies a base layer's OCI whiteouts (<c>.wh.NAME</c> and opaque directories),
/// and puts the app image blobs where the registry that will serve them reads them.</summary>
[Collection(HostsCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class UnpackTests(TestHosts hosts) : HostsTest(hosts, "sealer-unpack-")
{
    private const string Rootfs = "/var/lib/sealer/data/fixture/rootfs";

    [Fact]
    public async Task An_upper_layers_whiteouts_delete_files_and_an_opaque_directory_keeps_only_its_own_entries()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024,
            extraRootfs: new Dictionary<string, string>
            {
                ["opt/data/a.txt"] = "lower\n",
                ["opt/data/sub/old.txt"] = "lower\n",
                ["opt/gone/file.txt"] = "lower\n",
                ["opt/stay.txt"] = "lower\n",
            },
            upperRootfs: new Dictionary<string, string>
            {
                ["opt/data/.wh..wh..opq"] = "",
                ["opt/data/sub/new.txt"] = "upper\n",
                ["opt/.wh.gone"] = "",
                ["opt/stay.txt"] = "upper\n",
            });
        string text = FixtureClusterfile(OneMaster);
        await new ClusterInstaller(ClusterfileReader.Parse(text, "Clusterfile"), RunOptionsFor(image.Dir)).RunAsync();

        string Root(string path) => Lab.Hosts[0].OnHost($"{Rootfs}/{path}");
        // the opaque directory: only what the upper layer wrote, its subdirectories included
        Assert.Equal(["sub"], Directory.GetFileSystemEntries(Root("opt/data")).Select(Path.GetFileName));
        Assert.Equal(["new.txt"], Directory.GetFileSystemEntries(Root("opt/data/sub")).Select(Path.GetFileName));
        Assert.Equal("upper\n", File.ReadAllText(Root("opt/data/sub/new.txt")));
        // .wh.gone deleted the directory gone/ of the lower layer; a file the upper layer overwrote has its content
        Assert.False(Directory.Exists(Root("opt/gone")));
        Assert.Equal("upper\n", File.ReadAllText(Root("opt/stay.txt")));
        // no whiteout file is left, and the rest of the lower layer is there (the lifecycle ran from it)
        Assert.Empty(Directory.GetFiles(Lab.Hosts[0].OnHost(Rootfs), ".wh.*", SearchOption.AllDirectories));
        Assert.True(File.Exists(Root("etc/kubeadm.yml")));
        Assert.Contains("app demo launched", Evidence(0), StringComparison.Ordinal);
    }

    /// <summary>
    /// A stand-in for a Sealer base's init-registry.sh, which starts a registry container on the port: something that
    /// listens there (the hosts connect to it before they are configured to pull from it), its pid kept to stop it.
    /// </summary>
    private const string InitRegistrySh = """
        #!/bin/bash
        echo "init-registry $1 $2 $3" >> /var/lib/sealer/evidence.log
        setsid python3 -m http.server --bind 0.0.0.0 --directory "$2" "$1" >/dev/null 2>&1 < /dev/null & echo $! > /tmp/init-registry.pid
        for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && exit 0; sleep 0.1; done
        echo "nothing listens on $1" >&2; exit 1

        """;

    private async Task StopInitRegistryAsync()
    {
        await using var h = await Lab.ConnectAsync("10.200.0.11");
        await h.RunAsync("if [ -f /tmp/init-registry.pid ]; then kill \"$(cat /tmp/init-registry.pid)\" 2>/dev/null || true; rm -f /tmp/init-registry.pid; fi");
    }

    [Fact]
    public async Task App_image_blobs_are_links_into_the_store_for_the_built_in_registry_and_files_for_an_init_registry_sh()
    {
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 64 * 1024,
            extraRootfs: new Dictionary<string, string> { ["scripts/init-registry.sh"] = InitRegistrySh });
        string text = FixtureClusterfile(OneMaster);
        string Root(string path) => Lab.Hosts[0].OnHost($"{Rootfs}/registry/{path}");
        string blob = image.AppLayerDigest[7..], layer = image.RegistryContentDigests[0][7..];

        // no sealer to install and none on the host: the image's init-registry.sh serves, from plain files
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        try
        {
            await new ClusterInstaller(ClusterfileReader.Parse(text, "Clusterfile"), RunOptionsFor(image.Dir) with { SealerBinary = null }).RunAsync();
            Assert.Contains($"init-registry 5000 {Rootfs}/registry", Evidence(0), StringComparison.Ordinal);
            Assert.Null(new FileInfo(Root($"blobs/sha256/{blob}")).LinkTarget);
            Assert.Equal(image.AppLayerDigest, "sha256:" + OciImages.Sha256Hex(File.ReadAllBytes(Root($"blobs/sha256/{blob}"))));
            Assert.False(Directory.Exists(Root("in-store")));
        }
        finally
        {
            await StopInitRegistryAsync();
        }

        // the built-in registry (sealer installed): a link to the store's layer file, no second copy; it serves the blob
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        await new ClusterInstaller(ClusterfileReader.Parse(text, "Clusterfile"), RunOptionsFor(image.Dir) with { StateRoot = Path.Combine(Work, "state2") }).RunAsync();
        Assert.DoesNotContain("init-registry", Evidence(0), StringComparison.Ordinal);
        Assert.False(File.Exists(Root($"blobs/sha256/{blob}")));
        Assert.Equal($"/var/lib/sealer/data/.store/blobs/sha256/{layer}", new FileInfo(Root($"in-store/sha256/{blob}")).LinkTarget);
        Assert.Equal([blob], Directory.GetFileSystemEntries(Root("in-store/sha256")).Select(Path.GetFileName));
        await using var master = await Lab.ConnectAsync("10.200.0.11");
        Assert.Contains(image.AppLayerDigest, await RealContainerd.FetchAsync(master, null, ["docker.io/library/demo:1.0"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_registry_host_needs_room_for_the_app_image_bytes_once_and_the_run_fits_a_disk_too_small_for_two_copies()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 24 << 20);
        long blobLayer = new FileInfo(Path.Combine(image.Dir, "blobs", "sha256", image.RegistryContentDigests[0][7..])).Length;
        var doc = ClusterfileReader.Parse(FixtureClusterfile(OneMaster), "Clusterfile");
        var linkedOptions = RunOptionsFor(image.Dir);
        var copiedOptions = linkedOptions with { SealerBinary = null, StateRoot = Path.Combine(Work, "state-copied") }; // the image's init-registry.sh would serve
        long linked = (await new ClusterInstaller(doc, linkedOptions).PreflightAsync()).Needs["10.200.0.11"].DiskBytes;
        long copied = (await new ClusterInstaller(doc, copiedOptions).PreflightAsync()).Needs["10.200.0.11"].DiskBytes;
        Assert.Equal(copied - blobLayer, linked);

        // the data root on a disk between the two: enough for one copy of the app image bytes, not for two
        long mib = (linked + copied) / 2 >> 20;
        await using var master = await Lab.ConnectAsync("10.200.0.11");
        await master.RunAsync($"mkdir -p /var/lib/sealer/data && mount -t tmpfs -o size={mib}m sealer-small /var/lib/sealer/data");
        try
        {
            var refused = await new ClusterInstaller(doc, copiedOptions).PreflightAsync();
            Assert.Contains(refused.Problems, p => p.Host == "10.200.0.11" && p.Check == "disk" && p.Message.Contains("needed", StringComparison.Ordinal));
            var accepted = await new ClusterInstaller(doc, linkedOptions).PreflightAsync();
            Assert.DoesNotContain(accepted.Problems, p => p.Check == "disk");
            await new ClusterInstaller(doc, linkedOptions).RunAsync();
            Assert.Contains("app demo launched", Evidence(0), StringComparison.Ordinal);
            var used = long.Parse((await master.RunAsync("df -B1 --output=used /var/lib/sealer/data | tail -n 1")).Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(used < 2 * blobLayer, $"{used} bytes used under the data root for a {blobLayer}-byte app image layer");
        }
        finally
        {
            await master.RunAsync("umount /var/lib/sealer/data || umount -l /var/lib/sealer/data");
        }
    }

    [Fact]
    public async Task A_store_layer_the_registry_links_to_lost_is_named_by_check_and_sent_back_by_the_next_run()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 256 * 1024);
        var doc = ClusterfileReader.Parse(FixtureClusterfile(OneMaster), "Clusterfile");
        var status = new List<string>();
        var options = RunOptionsFor(image.Dir) with { Status = l => { lock (status) status.Add(l); } };
        await new ClusterInstaller(doc, options).RunAsync();
        Assert.Contains("10.200.0.11: 1 app image blob(s) served from the content store", (await new ClusterInstaller(doc, options).CheckAsync()).Ok);

        // the layer holding the app image blob goes (someone took .store for a cache)
        string layer = Lab.Hosts[0].OnHost($"/var/lib/sealer/data/.store/blobs/sha256/{image.RegistryContentDigests[0][7..]}");
        File.Delete(layer);
        var check = await new ClusterInstaller(doc, options).CheckAsync();
        var problem = Assert.Single(check.Problems, p => p.Check == "registry-store");
        Assert.Equal("10.200.0.11", problem.Host);
        Assert.Contains(image.AppLayerDigest, problem.Message, StringComparison.Ordinal);
        Assert.Contains("Run 'sealer run' again", problem.Message, StringComparison.Ordinal);

        // the next run sends it back (the rest stays done) and the registry serves the blob again
        status.Clear();
        var rerun = await new ClusterInstaller(doc, options).RunAsync();
        Assert.Contains(status, l => l.Contains("10.200.0.11: its content store lost layers", StringComparison.Ordinal));
        Assert.Contains("10.200.0.11:distribute", rerun.StepsRun);
        Assert.Contains("10.200.0.11:unpack", rerun.StepsSkipped);
        Assert.True(File.Exists(layer));
        Assert.DoesNotContain((await new ClusterInstaller(doc, options).CheckAsync()).Problems, p => p.Check == "registry-store");
        await using var master = await Lab.ConnectAsync("10.200.0.11");
        Assert.Contains(image.AppLayerDigest, await RealContainerd.FetchAsync(master, null, ["docker.io/library/demo:1.0"]), StringComparison.Ordinal);

        // a run with nothing lost looks and sends nothing
        status.Clear();
        var again = await new ClusterInstaller(doc, options).RunAsync();
        Assert.Contains("10.200.0.11:distribute", again.StepsSkipped);
        Assert.DoesNotContain(status, l => l.Contains("lost layers", StringComparison.Ordinal));
    }
}
