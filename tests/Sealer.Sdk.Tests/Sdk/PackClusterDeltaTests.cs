using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>`dotnet publish -t:PackClusterDelta`: a real .kubeproj built at 1.4.0, then 1.5.0 with one more image; the delta
/// of 1.5.0 over the store's 1.4.0 carries that image's blobs and loads into a store holding 1.4.0.</summary>
[Collection(SdkCollection.Name)]
public sealed class PackClusterDeltaTests(SdkFeed feed)
{
    [Fact]
    public void Publish_PackClusterDelta_writes_only_what_the_base_lacks_and_the_delta_loads_where_the_base_is()
    {
        string dir = feed.NewProjectDir("shop"), cache = feed.NewProjectDir("cache"), store = feed.NewProjectDir("store"), site = feed.NewProjectDir("site");
        Directory.CreateDirectory(Path.Combine(dir, "apps", "web"));
        File.WriteAllText(Path.Combine(dir, "apps", "web", "deploy.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: docker.io/library/nginx:1.27\n");
        var p = new KubeProject().Property("ClusterImageTag", "1.4.0").Item("KubeManifest", "apps/web/deploy.yaml").Item("ContainerImage", "quay.io/coreos/etcd:v3.5.15").Mirrors(feed.Env);
        p.Write(dir, "shop.kubeproj");
        var r = feed.Dotnet(dir, "build -c Release", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        string bin = Path.Combine(dir, "bin", "Release");
        File.Copy(Path.Combine(bin, "shop.tar"), Path.Combine(site, "..", "shop-1.4.0.tar"));
        var v14 = Assert.Single(OciArchive.LoadAsync(ClusterImageStore.Open(store), Path.Combine(bin, "shop.tar")).GetAwaiter().GetResult());

        // No base given: a coded error saying what to set.
        p.Property("ClusterImageTag", "1.5.0").Item("ContainerImage", "docker.io/library/redis:7.4").Write(dir, "shop.kubeproj");
        r = feed.Dotnet(dir, $"publish -c Release -t:PackClusterDelta -p:SealerImagesDir={store}", cache);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("SEA1709", r.Output);

        r = feed.Dotnet(dir, $"publish -c Release -t:PackClusterDelta -p:SealerDeltaFrom=shop:1.4.0 -p:SealerImagesDir={store}", cache);

        Assert.True(r.ExitCode == 0, r.Output);
        string delta = Path.Combine(bin, "shop-1.4.0-to-1.5.0.tar");
        Assert.True(File.Exists(delta), r.Output);
        var info = DeltaArchive.ReadDeltaInfoAsync(delta).GetAwaiter().GetResult()!;
        Assert.Equal("docker.io/library/shop:1.4.0", info.BaseName);
        Assert.Equal(v14.Digest, info.BaseDigest);
        // The new image's blobs (redis, and the rebuilt rootfs/registry layers) travel; nginx and etcd stay with the base.
        var newLayers = ClusterImageReader.OpenLayout(Path.Combine(bin, "shop")).Platforms[0].Manifest.Layers;
        Assert.True(info.BaseBlobs.Count >= 2, $"{info.BaseBlobs.Count} blobs left to the base");
        Assert.True(new FileInfo(delta).Length < new FileInfo(Path.Combine(bin, "shop.tar")).Length - info.BaseBytes + 64 * 1024, "the delta is the full archive minus the base's layers");
        Assert.All(info.BaseBlobs, b => Assert.Contains(newLayers, l => l.Digest == b.Digest));

        var siteStore = ClusterImageStore.Open(site);
        siteStore.LoadAsync(Path.Combine(site, "..", "shop-1.4.0.tar")).GetAwaiter().GetResult();
        var loaded = siteStore.LoadAsync(delta).GetAwaiter().GetResult();
        Assert.Equal(ClusterImageReader.OpenLayout(Path.Combine(bin, "shop")).Descriptor.Digest, Assert.Single(loaded.Images).Digest);
        Assert.Equal("docker.io/library/shop:1.5.0", loaded.Images[0].Name);
    }
}
