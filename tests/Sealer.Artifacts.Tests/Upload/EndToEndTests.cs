using System.Text;
using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;
using Sealer.Core.Images;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Artifacts.Tests.Upload;

/// <summary>Real cluster images from the assembly engine, through the store, registries and FROM layering.</summary>
[Collection(RegistryCollection.Name)]
public class EndToEndTests(RegistryFixture fixture)
{
    private TestEnvironment Env => fixture.Env;

    private static readonly Platform[] Both = [Platform.Parse("linux/amd64"), Platform.Parse("linux/arm64")];

    [RegistryFact]
    public async Task Assembled_multi_arch_image_inspects_pushes_and_child_push_mounts_base_blobs()
    {
        using var tmp = new TempDir();
        var cache = OciLayout.OpenOrCreate(tmp.Sub("cache"));
        var nginx = Env.Image("nginx");
        var pulled = await new ImagePuller(cache).PullAsync([new ImageRequest(nginx.LocalReference)], new PullOptions { Platforms = Both });
        string nginxRef = ImageReference.Parse(nginx.LocalReference).ToString();
        var nginxDesc = pulled.Images[nginxRef];

        var baseSpec = new ClusterImageSpec
        {
            RefName = "example.com/base/k8s:v1.30",
            Platforms = Both,
            ImageCache = cache,
            Images = [new ClusterImageContent(nginxRef, nginxDesc.ParsedDigest, nginxDesc.MediaType)],
            Labels = new Dictionary<string, string> { [ClusterImageLabels.ClusterRuntimeType] = "kubernetes", [ClusterImageLabels.KubeVersion] = "v1.30.0" },
            Apps = [new ClusterApp { Name = "calico", Type = "kube", LaunchFiles = ["calico.yaml"] }],
            Launch = ["calico"],
            RootfsFiles = [new RootfsEntry("application/apps/calico/calico.yaml", Content: Encoding.UTF8.GetBytes($"image: {nginxRef}\n"))],
        };
        var built = await new ClusterImageBuilder().BuildAsync(baseSpec, new ClusterImageOutput(tmp.Sub("out/base"), tmp.Sub("out/base.tar")));

        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var loaded = Assert.Single(await OciArchive.LoadAsync(store, tmp.Sub("out/base.tar")));
        Assert.Equal(built.Descriptor.Digest, loaded.Digest);
        var info = ClusterImageInspector.Inspect(store, loaded.Name);
        Assert.Equal(["linux/amd64", "linux/arm64"], info.Platforms.Select(p => p.Platform));
        foreach (var p in info.Platforms)
        {
            Assert.Equal("kubernetes", p.Labels[ClusterImageLabels.ClusterRuntimeType]);
            Assert.Equal("calico", Assert.Single(p.Extension!.Applications).Name);
            var contained = Assert.Single(p.Images);
            Assert.Equal(nginxRef, contained.Reference);
            Assert.Equal(nginxDesc.Digest, contained.Digest);
        }

        string registry = Env.Registry("docker.io").Address;
        string baseRemote = $"{registry}/artifacts/e2e-base-{Guid.NewGuid().ToString("N")[..6]}:v1.30";
        var basePush = await new RegistryPusher().PushAsync(store.Layout, loaded.Descriptor, ImageReference.Parse(baseRemote));
        Assert.Equal(loaded.Digest, basePush.Digest);

        // A child FROM the pushed base (resolved from the registry into a fresh store), pushed to another repository:
        // the base's layers are mounted from the base repository (org.opencontainers.image.base.name), not uploaded.
        var childStore = ClusterImageStore.Open(tmp.Sub("child-store"));
        var baseImage = await BaseImageResolver.ResolveAsync(baseRemote, new BaseImageResolveOptions { Store = childStore });
        var childSpec = new ClusterImageSpec
        {
            RefName = "example.com/apps/web:1.0",
            Platforms = Both,
            BaseImage = baseImage,
            Apps = [new ClusterApp { Name = "web", Type = "kube", LaunchFiles = ["web.yaml"] }],
            Launch = ["web"],
            RootfsFiles = [new RootfsEntry("application/apps/web/web.yaml", Content: "kind: ConfigMap\n"u8.ToArray())],
        };
        var child = await new ClusterImageBuilder().BuildAsync(childSpec, new ClusterImageOutput(tmp.Sub("out/child")));
        var childLayout = OciLayout.Open(tmp.Sub("out/child"));
        var baseBlobs = ImageGraph.Load(store.Layout, loaded.Descriptor).Blobs.Where(b => b.MediaType != MediaTypes.OciConfig).Select(b => b.Digest).ToHashSet();
        var childBlobs = ImageGraph.Load(childLayout, child.Descriptor).Blobs.Select(b => b.Digest).ToHashSet();
        int shared = childBlobs.Count(baseBlobs.Contains);
        Assert.True(shared > 0, "the child keeps the base's layers");

        string childRemote = $"{registry}/artifacts/e2e-child-{Guid.NewGuid().ToString("N")[..6]}:1.0";
        var childPush = await new RegistryPusher().PushAsync(tmp.Sub("out/child"), childRemote); // the PushClusterImage entry point
        Assert.Equal(child.Descriptor.Digest, childPush.Digest);
        Assert.True(childPush.BlobsMounted >= shared, $"mounted {childPush.BlobsMounted} of {shared} shared blobs");
        Assert.Equal(["linux/amd64", "linux/arm64"], childPush.Platforms.Keys.Order());
        Assert.Equal(["1.0"], childPush.Tags);
        var (rc, output) = Processes.Run("skopeo", "copy", "--all", "--quiet", "--preserve-digests", "--src-tls-verify=false", $"docker://{childRemote}", $"oci:{tmp.Sub("verify")}:x");
        Assert.True(rc == 0, output);
    }
}
