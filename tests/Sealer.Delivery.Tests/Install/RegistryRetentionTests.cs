using System.Text;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Install.Policies;

namespace Sealer.Delivery.Tests.Install;

/// <summary><see cref="RegistryRetention"/>: which images the registry hosts keep, and what they reach.</summary>
public class RegistryRetentionTests
{
    private static ImageRecord R(string name, string digest) => new() { Image = name, ManifestDigests = new() { ["linux/amd64"] = digest } };

    [Fact]
    public void Keeps_the_newest_images_first_an_unfinished_upgrades_target_and_source_before_the_history()
    {
        var state = new ClusterState { History = [R("v1", "sha256:1"), R("v2", "sha256:2"), R("v2-again", "sha256:2")] };
        Assert.Equal(["v2-again", "v1"], RegistryRetention.Retained(state, 2).Select(r => r.Image)); // the same manifests count once
        Assert.Equal(["v2-again"], RegistryRetention.Retained(state, 1).Select(r => r.Image));
        state.Upgrade = new UpgradeRecord { From = R("v2", "sha256:2"), To = R("v3", "sha256:3") };
        Assert.Equal(["v3", "v2"], RegistryRetention.Retained(state, 2).Select(r => r.Image));
        Assert.Equal(["3"], RegistryRetention.Keys(R("v3", "sha256:3")));
    }

    [Fact]
    public void Reaches_manifests_configs_layers_and_index_children_and_reports_an_unreadable_manifest()
    {
        static byte[] J(string s) => Encoding.UTF8.GetBytes(s);
        var blobs = new Dictionary<string, byte[]>
        {
            ["idx"] = J("""{"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:man"}]}"""),
            ["man"] = J("""{"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:cfg"},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:l1"}]}"""),
        };
        var served = J("""{"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:idx"},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:big"}]}""");
        var exists = new HashSet<string> { "idx", "man", "cfg", "l1", "big", "old" };
        var keep = RegistryRetention.Reachable([served], blobs.GetValueOrDefault, exists.Contains, out var unread);
        Assert.Equal(["big", "cfg", "idx", "l1", "man"], keep.Order(StringComparer.Ordinal));
        Assert.Equal(["big"], unread); // exists but could not be read: whoever deletes must delete nothing
        Assert.DoesNotContain("old", keep);
    }
}
