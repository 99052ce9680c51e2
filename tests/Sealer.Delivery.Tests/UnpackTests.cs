using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;

namespace Sealer.Delivery.Tests;

/// <summary>On a real sshd host: the unpack step applies a base layer's OCI whiteouts (<c>.wh.NAME</c> and opaque directories).</summary>
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
}
