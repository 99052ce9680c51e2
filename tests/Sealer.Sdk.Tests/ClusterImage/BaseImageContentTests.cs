using Sealer.Core.ClusterImage;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Sdk.Tests.ClusterImage;

/// <summary>What a FROM base carries, through a FROM chain, and assembly of a child that takes images from it.</summary>
public sealed class BaseImageContentTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly OciLayout _cache;
    private readonly List<ClusterImageContent> _images;

    public BaseImageContentTests() => (_cache, _images) = CacheFixture.Create(_tmp.Sub("cache"));

    public void Dispose() => _tmp.Dispose();

    private async Task<BaseImage> Build(string name, BaseImage? from, params ClusterImageContent[] images)
    {
        var spec = new ClusterImageSpec
        {
            RefName = $"{name}:1",
            ImageCache = _cache,
            BaseImage = from,
            Images = images,
            RootfsFiles = [new RootfsEntry($"etc/{name}.conf", Content: "x=1\n"u8.ToArray())],
        };
        var r = await new ClusterImageBuilder().BuildAsync(spec, new ClusterImageOutput(_tmp.Sub($"out/{name}")));
        return new BaseImage($"registry.example/{name}:1", OciLayout.Open(r.LayoutPath), r.Descriptor);
    }

    [Fact]
    public async Task A_grandchild_sees_what_every_level_carries_with_each_platform_manifest()
    {
        var amd64 = Platform.Parse("linux/amd64");
        var parent = await Build("parent", null, _images[1]);
        var child = await Build("child", parent, _images[0]);
        var carried = BaseImageContent.CarriedImages(child, [amd64]);
        Assert.Equal(["docker.io/library/nginx:1.27", "quay.io/demo/app:2"], carried.Keys.Order(StringComparer.Ordinal));
        var nginx = carried["docker.io/library/nginx:1.27"];
        Assert.Equal(_images[0].Digest.ToString(), nginx.Top.Digest);
        // The index's amd64 child, stored in the child's registry layer.
        var index = OciJsonContext.FromBytes(_cache.ReadBlobBytes(_images[0].Digest), OciJsonContext.Default.ImageIndex, "index");
        Assert.Equal(index.Manifests.First(m => amd64.Matches(m.Platform)).Digest, nginx.Platforms["linux/amd64"]);
        // app:2 comes from the grandparent level: its manifest is in the parent's registry layer.
        Assert.Equal(_images[1].Digest.ToString(), carried["quay.io/demo/app:2"].Platforms["linux/amd64"]);
        // arm64: the base was built for amd64 only, so it carries nothing for it (a coded error, as assembly gives).
        var ex = Assert.Throws<Sealer.Core.Diagnostics.SealerException>(() => BaseImageContent.CarriedImages(child, [Platform.Parse("linux/arm64")]));
        Assert.Equal(Sealer.Core.Diagnostics.ErrorCodes.BaseImagePlatformMissing, ex.Code);

        // A grandchild that takes both from the base reads nothing from the cache and adds only its rootfs and registry layers.
        var emptyCache = OciLayout.OpenOrCreate(_tmp.Sub("empty-cache"));
        var spec = new ClusterImageSpec
        {
            RefName = "grandchild:1",
            ImageCache = emptyCache,
            BaseImage = child,
            Images = _images.Select(i => i with { FromBase = true }).ToList(),
        };
        var r = await new ClusterImageBuilder().BuildAsync(spec, new ClusterImageOutput(_tmp.Sub("out/grandchild")));
        var reader = ClusterImageReader.OpenLayout(r.LayoutPath);
        var baseLayers = ClusterImageReader.Open(child.Layout, child.Descriptor).Platforms[0].Manifest.Layers.Count;
        Assert.Equal(baseLayers + 2, reader.Platforms[0].Manifest.Layers.Count);
        Assert.Equal(["docker.io/library/nginx:1.27", "quay.io/demo/app:2"], reader.ImageReferences());

        // An image the base does not carry with that digest is a coded error, not a silent gap.
        var wrong = spec with { Images = [_images[1] with { FromBase = true, Digest = _images[0].Digest }] };
        var bad = await Assert.ThrowsAsync<Sealer.Core.Diagnostics.SealerException>(() => new ClusterImageBuilder().BuildAsync(wrong, new ClusterImageOutput(_tmp.Sub("out/bad"))));
        Assert.Equal(Sealer.Core.Diagnostics.ErrorCodes.ImageNotInCache, bad.Code);
    }
}
