using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Artifacts.Tests.Artifacts;

public class StoreTests
{
    [Fact]
    public void Images_lists_full_names_digests_platforms_and_sizes()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var single = TestImages.AddToStore(store, "my/cluster:v1");
        var multi = TestImages.AddToStore(store, "registry.example.com/team/cluster:v2", multiArch: true, seed: 2);

        var list = store.List();
        Assert.Equal(["docker.io/my/cluster:v1", "registry.example.com/team/cluster:v2"], list.Select(i => i.Name));
        Assert.Equal(single.Digest, list[0].Digest);
        Assert.Equal(["linux/amd64"], list[0].Platforms);
        Assert.Equal(["linux/amd64", "linux/arm64"], list[1].Platforms);
        Assert.Equal(multi.Digest, list[1].Digest);
        Assert.True(list[1].Size > 2 * 64 * 1024, $"size {list[1].Size} counts both platforms' blobs");
        // The index.json entry carries the full reference, as the image cache does.
        Assert.Contains(store.Layout.ReadIndex().Manifests, d => d.GetAnnotation(Annotations.RefName) == "registry.example.com/team/cluster:v2");
    }

    [Fact]
    public void Resolve_by_short_name_digest_and_prefix_tag_and_rmi()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var img = TestImages.AddToStore(store, "cluster:v1");
        Assert.Equal("docker.io/library/cluster:v1", store.Resolve("cluster:v1").Name);
        Assert.Equal(img.Name, store.Resolve(img.Digest).Name);
        Assert.Equal(img.Name, store.Resolve(img.Descriptor.ParsedDigest.Encoded[..10]).Name);

        var tagged = store.Tag("cluster:v1", "127.0.0.1:5000/x/cluster:prod");
        Assert.Equal(img.Digest, tagged.Digest);
        Assert.Equal(2, store.List().Count);

        store.Remove("cluster:v1");
        Assert.Single(store.List());
        Assert.True(store.Layout.HasBlob(img.Descriptor.ParsedDigest), "rmi drops the name only; prune frees blobs");
        var ex = Assert.Throws<SealerException>(() => store.Resolve("cluster:v1"));
        Assert.Equal(ErrorCodes.ImageNotInStore, ex.Code);
        Assert.Equal(ErrorCodes.InvalidStoreName, Assert.Throws<SealerException>(() => store.Tag(tagged.Name, "Bad Name")).Code);
    }

    [Fact]
    public void Add_refuses_an_incomplete_image()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var root = TestImages.BuildPlatform(store.Layout, "amd64");
        var manifest = OciJsonContext.FromBytes(store.Layout.ReadBlobBytes(root.ParsedDigest), OciJsonContext.Default.ImageManifest, "m");
        File.Delete(store.Layout.BlobPath(manifest.Layers[1].ParsedDigest));
        var ex = Assert.Throws<SealerException>(() => store.Add("cluster:v1", root));
        Assert.Equal(ErrorCodes.StoreImageIncomplete, ex.Code);
        Assert.Empty(store.List());
    }

    [Fact]
    public void Default_directory_honours_SEALER_IMAGES_DIR()
    {
        string? old = Environment.GetEnvironmentVariable(ClusterImageStore.DirectoryVariable);
        try
        {
            Environment.SetEnvironmentVariable(ClusterImageStore.DirectoryVariable, "/tmp/some-store");
            Assert.Equal("/tmp/some-store", ClusterImageStore.DefaultDirectory);
            Environment.SetEnvironmentVariable(ClusterImageStore.DirectoryVariable, null);
            Assert.EndsWith(Path.Combine(".sealer", "images"), ClusterImageStore.DefaultDirectory);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ClusterImageStore.DirectoryVariable, old);
        }
    }

    [Fact]
    public void Inspect_shows_platforms_labels_extension_and_contained_images()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        TestImages.AddToStore(store, "cluster:v1", multiArch: true);
        var info = ClusterImageInspector.Inspect(store, "cluster:v1");

        Assert.Equal(MediaTypes.OciIndex, info.MediaType);
        Assert.Equal(["linux/amd64", "linux/arm64"], info.Platforms.Select(p => p.Platform));
        var amd = info.Platforms[0];
        Assert.Equal("kubernetes", amd.Labels["cluster.alpha.sealer.io/cluster-runtime-type"]);
        Assert.Equal("app-installer", amd.Extension!.Type);
        Assert.Equal("nginx", Assert.Single(amd.Extension.Applications).Name);
        Assert.Equal(["nginx"], amd.Extension.Applications[0].Files);
        Assert.Equal(["nginx"], amd.Extension.LaunchApps);
        var image = Assert.Single(amd.Images);
        Assert.Equal("docker.io/library/nginx:1.27-s1", image.Reference);
        Assert.StartsWith("sha256:", image.Digest);
        var p = Assert.Single(image.Platforms);
        Assert.Equal("linux/amd64", p.Platform);
        Assert.Single(p.Layers);
        Assert.NotEqual(amd.Images[0].Digest, info.Platforms[1].Images[0].Digest);

        string json = System.Text.Json.JsonSerializer.Serialize(info, ArtifactsJsonContext.Default.ClusterImageInfo);
        Assert.Contains("\"launchApps\"", json);
        Assert.Contains("docker.io/library/nginx:1.27-s1", json);
    }

    [Fact]
    public void Extension_decoding_reads_launchfiles_and_files_and_cmds()
    {
        var ext = ImageExtensionInfo.From(ClusterImageFormat.ParseExtension("""{"type":"kube-installer","applications":[{"name":"calico","type":"shell","files":["a.sh"]},{"name":"old","launchFiles":["b.yaml"]}],"launch":{"cmds":["kubectl apply -f x"]},"env":{"k":"v"}}""", "m"));
        Assert.Equal("kube-installer", ext.Type);
        Assert.Equal(["a.sh"], ext.Applications[0].Files);
        Assert.Equal(["b.yaml"], ext.Applications[1].Files); // Sealer v0.9.0's launchfiles, any case (Go matches names case-insensitively)
        Assert.Equal(["kubectl apply -f x"], ext.LaunchCmds);
        Assert.Equal("v", ext.Env!["k"]);
        // Members we do not know are ignored, as Sealer's Go decoder does: images from a newer Sealer still deliver.
        var newer = ClusterImageFormat.ParseExtension("""{"type":"app-installer","futureMember":{"x":[1]},"applications":[{"name":"a","type":"helm","newAppField":true}]}""", "m");
        Assert.Equal("app-installer", newer.Type);
        Assert.Equal("a", Assert.Single(newer.Applications!).Name);
        // One code for a bad extension, whatever reads it: not JSON, a member of the wrong shape, an app without a name.
        foreach (var bad in new[] { "{nope", """{"launch":{"cmds":"echo"}}""", """{"applications":[{"type":"helm"}]}""", "null" })
        {
            Assert.Equal(ErrorCodes.BadImageExtension, Assert.Throws<SealerException>(() => ClusterImageFormat.ParseExtension(bad, "m")).Code);
        }
    }

    [Fact]
    public void Image_list_document_matches_registry_layout()
    {
        using var tmp = new TempDir();
        var registry = OciLayout.OpenOrCreate(tmp.Sub("registry"));
        var layer = OciImages.Desc(MediaTypes.OciLayerGzip, [1, 2, 3]);
        registry.WriteBlob(new byte[] { 1, 2, 3 }, layer.MediaType);
        var config = registry.WriteBlob("""{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"""u8, MediaTypes.OciConfig);
        var m = registry.WriteBlob(OciJsonContext.ToBytes(new ImageManifest { MediaType = MediaTypes.OciManifest, Config = config, Layers = [layer] }, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest);
        registry.SetRef("quay.io/x/y:1", m with { Platform = new Platform { Os = "linux", Architecture = "arm64" } });
        var doc = OciJsonContext.FromBytes(ClusterImageFormat.CreateImageList(registry), ArtifactsJsonContext.Default.ContainedImageList, "images.json");
        var img = Assert.Single(doc.Images);
        Assert.Equal("quay.io/x/y:1", img.Reference);
        Assert.Equal(m.Digest, img.Digest);
        Assert.Equal([layer.Digest], img.Platforms[0].Layers);
        Assert.Equal(config.Digest, img.Platforms[0].Config);
    }
}
