using Sealer.Core.Distribution;
using Sealer.Core.Images;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Distribution.Tests.Distribution;

[Collection(RegistryCollection.Name)]
public class PushTests(RegistryFixture fixture)
{
    private TestEnvironment Env => fixture.Env;

    [RegistryFact]
    public async Task Pushes_blobs_and_a_manifest_to_an_authenticated_registry_and_skips_blobs_it_has()
    {
        using var cache = TestRegistries.NewCache();
        var busybox = Env.Image("busybox");
        await new ImagePuller(cache.Layout).PullAsync(TestRegistries.Requests(busybox.Reference), new PullOptions { Registry = TestRegistries.Options(Env) });
        var manifestBytes = cache.Layout.ReadBlobBytes(Digest.Parse(busybox.Digest));
        var manifest = OciJsonContext.FromBytes(manifestBytes, OciJsonContext.Default.ImageManifest, "m");

        string repo = $"pushed/busybox-{Guid.NewGuid():N}";
        var target = ImageReference.Parse($"{Env.Registry("private").Address}/{repo}:copy");
        using var client = new RegistryClient(TestRegistries.Options(Env));
        foreach (var b in manifest.Layers.Append(manifest.Config))
        {
            Assert.True(await client.PushBlobAsync(target, b, () => cache.Layout.OpenBlob(b.ParsedDigest)));
            Assert.False(await client.PushBlobAsync(target, b, () => cache.Layout.OpenBlob(b.ParsedDigest)));
        }
        var pushed = await client.PushManifestAsync(target, "copy", manifestBytes, busybox.MediaType);
        Assert.Equal(busybox.Digest, pushed.ToString());

        var back = await client.GetManifestAsync(target);
        Assert.Equal(busybox.Digest, back.Digest.ToString());
        var (code, output) = TestRegistries.Run("skopeo", "inspect", "--tls-verify=false", "--creds", $"{Env.Registry("private").Username}:{Env.Registry("private").Password}", $"docker://{target}");
        Assert.True(code == 0, output);
        Assert.Contains(busybox.Digest, output);
    }
}
