using System.Text.Json;
using Json.Schema;
using Sealer.Core.Artifacts;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Artifacts.Tests.Sbom;

/// <summary>The SPDX 2.3 SBOM: valid against the official schema, listing what registry/images.json lists, attached as a referrer on push.</summary>
[Collection(RegistryCollection.Name)]
public class SbomTests(RegistryFixture fixture)
{
    private const string Name = "example.com/sbom/cluster:v1";

    private static readonly JsonSchema Schema = JsonSchema.FromText(File.ReadAllText(Repo.Path("tests", "Sealer.Artifacts.Tests", "Sbom", "spdx-2.3-schema.json")));

    private static void AssertValid(byte[] sbom)
    {
        using var doc = JsonDocument.Parse(sbom);
        var result = Schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, JsonSerializer.Serialize(result));
    }

    /// <summary>Every app image of images.json is a CONTAINER package with its digest as SHA256 checksum and a purl per platform manifest.</summary>
    private static void AssertListsTheImages(byte[] sbom, ClusterImageInfo info)
    {
        using var doc = JsonDocument.Parse(sbom);
        var packages = doc.RootElement.GetProperty("packages").EnumerateArray().ToList();
        var images = info.Platforms.SelectMany(p => p.Images).ToList();
        Assert.NotEmpty(images);
        foreach (var image in images)
        {
            string hex = Digest.Parse(image.Digest).Encoded;
            var package = Assert.Single(packages, p => p.TryGetProperty("checksums", out var c) && c[0].GetProperty("checksumValue").GetString() == hex);
            Assert.Equal("CONTAINER", package.GetProperty("primaryPackagePurpose").GetString());
            Assert.Equal(ImageReference.Parse(image.Reference).Name, package.GetProperty("name").GetString());
            var purls = package.GetProperty("externalRefs").EnumerateArray().Select(r => r.GetProperty("referenceLocator").GetString()!).ToList();
            foreach (var platform in image.Platforms)
            {
                Assert.Contains(purls, u => u.Contains(Uri.EscapeDataString(platform.Digest), StringComparison.Ordinal)
                    && (platform.Platform is null || u.Contains("arch=" + platform.Platform.Split('/')[^1], StringComparison.Ordinal)));
            }
        }
        Assert.Contains(packages, p => p.GetProperty("primaryPackagePurpose").GetString() == "APPLICATION" && p.GetProperty("name").GetString() == "nginx");
        Assert.Equal("SPDX-2.3", doc.RootElement.GetProperty("spdxVersion").GetString());
    }

    [Fact]
    public void The_SBOM_of_a_multi_platform_image_is_valid_SPDX_2_3_and_lists_every_app_image_and_app()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        TestImages.AddToStore(store, Name, multiArch: true, seed: 11);
        var info = ClusterImageInspector.Inspect(store, Name);
        var sbom = ClusterImageSbom.Create(info, DateTimeOffset.UtcNow);
        AssertValid(sbom);
        AssertListsTheImages(sbom, info);
    }

    /// <summary>The build's SBOM reads the image through the reader alone (no blob stats, one parse per manifest): it must
    /// describe exactly what the full inspection does — platforms from the index, sizes, images, apps, referrers.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_builds_inspection_describes_what_the_full_one_does(bool multiArch)
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var image = TestImages.AddToStore(store, Name, multiArch, seed: 13);
        ClusterImageSbom.EnsureAttached(store.Layout, image.Descriptor, Name); // a referrer to find
        var full = ClusterImageInspector.Inspect(store.Layout, Name, image.Descriptor);
        var built = ClusterImageInspector.InspectBuilt(store.Layout, Name, image.Descriptor);
        Assert.Equal(JsonSerializer.Serialize(full, ArtifactsJsonContext.Default.ClusterImageInfo), JsonSerializer.Serialize(built, ArtifactsJsonContext.Default.ClusterImageInfo));
        Assert.Single(built.Referrers!);
        Assert.Equal(multiArch ? ["linux/amd64", "linux/arm64"] : ["linux/amd64"], built.Platforms.Select(p => p.Platform));
        var at = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        Assert.Equal(ClusterImageSbom.Create(full, at), ClusterImageSbom.Create(built, at));
    }

    [RegistryFact]
    public async Task Push_with_sbom_attaches_it_as_a_referrer_that_pull_and_inspect_sbom_bring_back()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var image = TestImages.AddToStore(store, Name, multiArch: true, seed: 12);
        var dest = ImageReference.Parse($"{fixture.Env.Registry("docker.io").Address}/sbom/c-{Guid.NewGuid().ToString("N")[..6]}:v1");
        var pushed = await new RegistryPusher(new PushOptions { PlainHttp = true, AttachSbom = true }).PushAsync(store.Layout, image.Descriptor, dest);
        Assert.Equal(1, pushed.Referrers);

        using var client = new RegistryClient(TestRegistries.Options(fixture.Env));
        var referrers = await ImageSignatures.ListReferrersAsync(client, dest, image.Digest, CancellationToken.None);
        Assert.Contains(referrers, r => r.ArtifactType == ClusterImageSbom.MediaType);

        var pulled = ClusterImageStore.Open(tmp.Sub("pulled"));
        await ClusterImagePuller.PullAsync(pulled, dest.ToString(), new ClusterImagePullOptions { Client = client });
        var (code, output) = Processes.Run("dotnet", [SealerCli.Dll, "inspect", "--sbom", dest.ToString()], workDir: null,
            env: new Dictionary<string, string?> { ["SEALER_IMAGES_DIR"] = tmp.Sub("pulled") });
        Assert.True(code == 0, output);
        Assert.DoesNotContain("generated from the image now", output);
        byte[] printed = System.Text.Encoding.UTF8.GetBytes(output.Trim());
        AssertValid(printed);
        AssertListsTheImages(printed, ClusterImageInspector.Inspect(pulled, dest.ToString()));
    }
}
