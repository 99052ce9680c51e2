using Sealer.Core.Artifacts;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Images;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Distribution.Tests.Distribution;

/// <summary>
/// The push path (Artifacts' <see cref="RegistryPusher"/> over <see cref="BlobUploader"/>) on a pulling <see cref="RegistryClient"/>'s
/// auth: a pulled image goes to the Basic-auth registry, chunked; a second push skips every blob; a push to another
/// repository mounts them. The monolithic PUT, resumes and token auth are in Sealer.Artifacts.Tests' PushTests.
/// </summary>
[Collection(RegistryCollection.Name)]
public class PushTests(RegistryFixture fixture)
{
    private TestEnvironment Env => fixture.Env;

    [RegistryFact]
    public async Task Pushes_a_pulled_image_to_an_authenticated_registry_then_skips_and_mounts_its_blobs()
    {
        using var cache = TestRegistries.NewCache();
        var busybox = Env.Image("busybox");
        await new ImagePuller(cache.Layout).PullAsync(TestRegistries.Requests(busybox.Reference), new PullOptions { Registry = TestRegistries.Options(Env) });
        var manifestBytes = cache.Layout.ReadBlobBytes(Digest.Parse(busybox.Digest));
        var manifest = OciJsonContext.FromBytes(manifestBytes, OciJsonContext.Default.ImageManifest, "m");
        var root = new Descriptor { MediaType = busybox.MediaType, Digest = busybox.Digest, Size = manifestBytes.Length };
        var distinct = manifest.Layers.Append(manifest.Config).DistinctBy(b => b.Digest).ToList();
        int blobs = distinct.Count;

        string registry = Env.Registry("private").Address;
        var target = ImageReference.Parse($"{registry}/pushed/busybox-{Guid.NewGuid():N}:copy");
        using var client = new RegistryClient(TestRegistries.Options(Env));

        // Every blob in PATCH chunks (threshold 0), on the client's credentials for the Basic-auth registry.
        var chunked = new RegistryPusher(new PushOptions { Client = client, MonolithicThreshold = 0, ChunkSize = 1024 * 1024 });
        var first = await chunked.PushAsync(cache.Layout, root, target);
        Assert.Equal(busybox.Digest, first.Digest);
        Assert.Equal(blobs, first.BlobsUploaded);
        Assert.Equal(distinct.Sum(b => b.Size), first.BytesUploaded);
        Assert.True(chunked.RequestCounts.GetValueOrDefault("PATCH") >= blobs, string.Join(", ", chunked.RequestCounts));

        // Again: the registry has every blob (HEAD), nothing is uploaded.
        var again = new RegistryPusher(new PushOptions { Client = client });
        var second = await again.PushAsync(cache.Layout, root, target);
        Assert.Equal(blobs, second.BlobsSkipped);
        Assert.Equal(0, second.BlobsUploaded);
        Assert.False(again.RequestCounts.ContainsKey("POST"));

        // Another repository of the same registry: every blob is mounted from the first.
        var options = new PushOptions { Client = client };
        options.MountFrom.Add(target.Repository);
        var other = ImageReference.Parse($"{registry}/pushed/busybox-{Guid.NewGuid():N}:copy");
        var third = await new RegistryPusher(options).PushAsync(cache.Layout, root, other);
        Assert.Equal(blobs, third.BlobsMounted);
        Assert.Equal(0, third.BytesUploaded);

        var back = await client.GetManifestAsync(target);
        Assert.Equal(busybox.Digest, back.Digest.ToString());
        var creds = $"{Env.Registry("private").Username}:{Env.Registry("private").Password}";
        foreach (var pushed in new[] { target, other })
        {
            var (code, output) = Processes.Run("skopeo", "inspect", "--tls-verify=false", "--creds", creds, $"docker://{pushed}");
            Assert.True(code == 0, output);
            Assert.Contains(busybox.Digest, output);
        }
    }
}
