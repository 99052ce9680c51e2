using Sealer.Distribution.Tests.TestEnv;
using Sealer.Core.Artifacts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Artifacts.Tests.Upload;

[Collection(RegistryCollection.Name)]
public class PullTests(RegistryFixture fixture)
{
    private TestEnvironment Env => fixture.Env;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    [RegistryFact]
    public async Task Multi_arch_cluster_image_push_pull_save_load_round_trip_as_a_whole()
    {
        using var tmp = new TempDir();
        var a = ClusterImageStore.Open(tmp["a"]);
        var img = TestImages.AddToStore(a, "local/cluster:v1", multiArch: true, seed: 11);
        string dest = $"{Env.Registry("docker.io").Address}/{Unique("artifacts/multi")}:v1";
        await new RegistryPusher().PushAsync(a.Layout, img.Descriptor, ImageReference.Parse(dest));

        var b = ClusterImageStore.Open(tmp["b"]);
        var pulled = await ClusterImagePuller.PullAsync(b, dest);
        Assert.Equal(img.Digest, pulled.Digest);
        Assert.Equal(dest, pulled.Name);
        Assert.Equal(["linux/amd64", "linux/arm64"], pulled.Platforms);
        var info = ClusterImageInspector.Inspect(b, dest);
        Assert.Equal(2, info.Platforms.Count);
        Assert.All(info.Platforms, p => Assert.Single(p.Images));

        await OciArchive.SaveAsync(b, [dest], tmp["all.tar.zst"], new ArchiveSaveOptions { Compression = ArchiveCompression.Zstd });
        var c = ClusterImageStore.Open(tmp["c"]);
        Assert.Equal(img.Digest, Assert.Single(await OciArchive.LoadAsync(c, tmp["all.tar.zst"])).Digest);

        // One platform only: the store names that platform's manifest.
        var d = ClusterImageStore.Open(tmp["d"]);
        var arm = await ClusterImagePuller.PullAsync(d, dest, new ClusterImagePullOptions { Platform = Platform.Parse("linux/arm64") });
        Assert.Equal(info.Platforms[1].ManifestDigest, arm.Digest);
        var ex = await Assert.ThrowsAsync<SealerException>(() => ClusterImagePuller.PullAsync(d, dest, new ClusterImagePullOptions { Platform = Platform.Parse("linux/s390x") }));
        Assert.Equal(ErrorCodes.PlatformNotInImage, ex.Code);
    }

    [RegistryFact]
    public async Task Prune_of_the_image_cache_keeps_platform_filtered_images_and_frees_strays()
    {
        using var tmp = new TempDir();
        var cache = Sealer.Core.Layout.OciLayout.OpenOrCreate(tmp["cache"]);
        var nginx = Env.Image("nginx");
        var pulled = await new Sealer.Core.Images.ImagePuller(cache).PullAsync([new Sealer.Core.Images.ImageRequest(nginx.LocalReference)],
            new Sealer.Core.Images.PullOptions { Platforms = [Platform.Parse("linux/amd64")] });
        var entry = Assert.Single(pulled.Images).Value;
        var stray = cache.WriteBlob("stray content no image references"u8, "application/octet-stream");

        var report = GarbageCollector.Collect(cache, TimeSpan.Zero);
        Assert.Equal(1, report.BlobsRemoved);
        Assert.False(cache.HasBlob(stray.ParsedDigest));
        // The amd64 image (its index names an arm64 manifest the cache never fetched) is untouched and whole.
        var graph = ImageGraph.Load(cache, entry, requireBlobs: false);
        Assert.NotEmpty(graph.Blobs);
        foreach (var d in graph.AllDigests) Assert.True(await cache.VerifyBlobAsync(d), d.ToString());
    }

    [RegistryFact]
    public async Task Base_image_resolves_from_store_layout_archive_and_registry()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp["store"]);
        var img = TestImages.AddToStore(store, "example.com/base/k8s:v1.30", multiArch: true, seed: 12);
        var options = new BaseImageResolveOptions { Store = store, Offline = true, BaseDirectory = tmp.Path };

        Assert.Null(await BaseImageResolver.ResolveAsync("scratch", options));
        var fromStore = await BaseImageResolver.ResolveAsync("example.com/base/k8s:v1.30", options);
        Assert.Equal(img.Digest, fromStore!.Descriptor.Digest);

        await OciArchive.SaveAsync(store, [img.Name], tmp["base.tar"]);
        var fromArchive = await BaseImageResolver.ResolveAsync("base.tar", new BaseImageResolveOptions { Store = ClusterImageStore.Open(tmp["s2"]), BaseDirectory = tmp.Path, Offline = true });
        Assert.Equal(img.Digest, fromArchive!.Descriptor.Digest);
        Assert.Equal(img.Name, fromArchive.Reference);

        var layout = Sealer.Core.Layout.OciLayout.OpenOrCreate(tmp["layout"]);
        await store.ImportAsync(store.Layout, img.Descriptor, img.Name); // no-op copy, still whole
        foreach (var dg in ImageGraph.Load(store.Layout, img.Descriptor).AllDigests)
        {
            await using var s = store.Layout.OpenBlob(dg);
            await layout.WriteBlobAsync(s, dg, s.Length);
        }
        layout.SetRef(img.Name, img.Descriptor);
        var fromLayout = await BaseImageResolver.ResolveAsync($"oci:{tmp["layout"]}", options);
        Assert.Equal(img.Digest, fromLayout!.Descriptor.Digest);
        Assert.Equal(tmp["layout"], fromLayout.Layout.Root);

        var offline = await Assert.ThrowsAsync<SealerException>(() => BaseImageResolver.ResolveAsync("example.com/base/other:v1", options));
        Assert.Equal(ErrorCodes.BaseImageNotFound, offline.Code);

        string remote = $"{Env.Registry("docker.io").Address}/{Unique("artifacts/base")}:v1";
        await new RegistryPusher().PushAsync(store.Layout, img.Descriptor, ImageReference.Parse(remote));
        var fresh = ClusterImageStore.Open(tmp["fresh"]);
        var fromRegistry = await BaseImageResolver.ResolveAsync(remote, new BaseImageResolveOptions { Store = fresh });
        Assert.Equal(img.Digest, fromRegistry!.Descriptor.Digest);
        Assert.Equal(img.Digest, fresh.Resolve(remote).Digest);
    }
}
