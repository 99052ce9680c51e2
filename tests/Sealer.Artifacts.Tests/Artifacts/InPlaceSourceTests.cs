using Sealer.Core.Artifacts;
using Sealer.Core.Bundle;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Artifacts.Tests.Artifacts;

/// <summary>
/// A plain archive and a site bundle (one file, or split into parts) as the source of <c>sealer push</c> and
/// <c>sealer load</c>, read where their blobs lie: a push needs no room for an unpacked copy (a site's /tmp is often a
/// small tmpfs), a load no extract first. Corrupt bytes are still caught: by the registry's digest check on a push, by the
/// store's on a load; nothing is tagged or named then.
/// </summary>
[Collection(RegistryCollection.Name)]
public class InPlaceSourceTests(RegistryFixture fixture)
{
    private const string Name = "example.com/c/cluster:v1";
    private const int AppLayerBytes = 3 << 20;

    private static ProcessResult Sealer(string store, IEnumerable<KeyValuePair<string, string?>>? extraEnv, params string[] args)
    {
        var env = new Dictionary<string, string?> { ["SEALER_IMAGES_DIR"] = store, ["SEALER_CACHE_DIR"] = store + "-cache" };
        foreach (var (k, v) in extraEnv ?? []) env[k] = v;
        return Processes.Run("dotnet", [SealerCli.Dll, .. args], workDir: null, env);
    }

    private string NewDestination() => $"{fixture.Env.Registry("docker.io").Address}/artifacts/inplace-{Guid.NewGuid().ToString("N")[..6]}:v1";

    /// <summary>A store with a two-platform image (two 3 MiB app layers) carrying an attached artifact, saved as a plain tar.</summary>
    private static (string Store, StoredImage Image, string Archive) SavedWithReferrer(TempDir tmp)
    {
        string store = tmp.Sub("store");
        var image = TestImages.AddToStore(ClusterImageStore.Open(store), Name, multiArch: true, seed: 7, blobBytes: AppLayerBytes);
        File.WriteAllText(tmp.Sub("sig.json"), "{\"signature\":\"x\"}");
        var (code, output) = Sealer(store, null, "attach", Name, "--artifact-type", "application/vnd.example.sig+json", "--file", tmp.Sub("sig.json"));
        Assert.True(code == 0, output);
        string archive = tmp.Sub("shop.tar");
        (code, output) = Sealer(store, null, "save", "-o", archive, Name);
        Assert.True(code == 0, output);
        return (store, image, archive);
    }

    private static async Task<SiteBundle> Bundle(string archive, string output, long? splitSize)
    {
        var bundle = await SiteBundle.WriteAsync(output, "/usr/bin/true", async (s, ct) =>
        {
            await using var input = File.OpenRead(archive);
            await input.CopyToAsync(s, ct);
        }, new BundleWriteOptions { Image = Name, SealerPlatform = "linux/amd64", SplitSize = splitSize });
        return bundle;
    }

    /// <summary>Changes one byte halfway through <paramref name="file"/>, its length unchanged (a bad copy).</summary>
    private static void FlipByteInTheMiddle(string file)
    {
        using var fs = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        long at = fs.Length / 2;
        fs.Position = at;
        int b = fs.ReadByte();
        fs.Position = at;
        fs.WriteByte((byte)(b ^ 0xFF));
    }

    [TmpfsFact]
    public async Task Push_of_an_archive_or_a_split_bundle_reads_it_in_place_with_a_small_tmp()
    {
        using var tmp = new TempDir();
        var (_, image, archive) = SavedWithReferrer(tmp);
        var bundle = await Bundle(archive, tmp.Sub("media/shop.run"), splitSize: 4 << 20);
        Assert.True(bundle.IsSplit && bundle.Manifest.ArchiveParts!.Count >= 2, "the bundle is split");
        // The /tmp of a site: 1 MiB, against an archive of 6+ MiB. Unpacking to push (as before) could not fit.
        using var smallTmp = new Tmpfs("1m");
        Assert.True(new FileInfo(archive).Length > 6 << 20);
        var env = new Dictionary<string, string?> { ["TMPDIR"] = smallTmp.Root, ["DOTNET_EnableDiagnostics"] = "0" };

        foreach (string source in new[] { archive, bundle.Path })
        {
            string dest = NewDestination();
            var (code, output) = Sealer(tmp.Sub("none"), env, "push", source, dest, "--format", "json");
            Assert.True(code == 0, output);
            Assert.Contains(image.Digest, output);
            Assert.Contains("\"referrers\": 1", output);
            Assert.Empty(Directory.GetFileSystemEntries(smallTmp.Root));

            // pulled back: the same image, and its referrer came along
            string other = tmp.Sub("pulled-" + Guid.NewGuid().ToString("N")[..6]);
            (code, output) = Sealer(other, null, "pull", dest);
            Assert.True(code == 0, output);
            Assert.Contains(image.Digest, output);
            (code, output) = Sealer(other, null, "inspect", dest);
            Assert.True(code == 0, output);
            Assert.Contains("Referrer ", output);
        }
    }

    [RegistryFact]
    public async Task Push_of_a_bundle_with_an_sbom_goes_through_a_private_store_and_carries_both_referrers()
    {
        using var tmp = new TempDir();
        var (_, image, archive) = SavedWithReferrer(tmp);
        var bundle = await Bundle(archive, tmp.Sub("media/shop.run"), splitSize: 4 << 20);
        string dest = NewDestination();
        // an SBOM is added to a layout: the bundle is loaded into a private store first (verified), then pushed
        var (code, output) = Sealer(tmp.Sub("none"), null, "push", bundle.Path, dest, "--sbom", "--format", "json");
        Assert.True(code == 0, output);
        Assert.Contains(image.Digest, output);
        Assert.Contains("\"referrers\": 2", output);
    }

    [RegistryFact]
    public async Task A_corrupt_blob_in_an_archive_is_named_and_the_tag_is_not_pushed()
    {
        using var tmp = new TempDir();
        var layout = OciLayout.OpenOrCreate(tmp.Sub("layout"));
        var root = TestImages.BuildPlatform(layout, "amd64", seed: 9, blobBytes: AppLayerBytes);
        layout.SetRef(Name, root);
        // a byte of the app layer changed after it was written (as a bad copy would): tarred under its old name
        var manifest = OciJsonContext.FromBytes(layout.ReadBlobBytes(root.ParsedDigest), OciJsonContext.Default.ImageManifest, "m");
        var big = manifest.Layers.MaxBy(l => l.Size)!;
        FlipByteInTheMiddle(layout.BlobPath(big.ParsedDigest));
        string archive = tmp.Sub("bad.tar");
        Assert.Equal(0, Processes.Run("tar", "-C", tmp.Sub("layout"), "-cf", archive, "oci-layout", "index.json", "blobs").ExitCode);

        using var client = new RegistryClient(TestRegistries.Options(fixture.Env));
        // whole (one PUT) and in chunks (PATCH, then the PUT that names the digest): the registry refuses either way
        foreach (long threshold in new long[] { long.MaxValue, 0 })
        {
            string dest = NewDestination();
            var pusher = new RegistryPusher(new PushOptions { Client = client, MonolithicThreshold = threshold, ChunkSize = 1 << 20 });
            var ex = await Assert.ThrowsAsync<SealerException>(() => pusher.PushAsync(archive, dest));
            Assert.Equal(ErrorCodes.ArchiveBlobCorrupt, ex.Code);
            Assert.Contains(archive, ex.Message);
            Assert.Contains(big.Digest, ex.Message);
            Assert.Contains("copy it again", ex.Message);
            Assert.Contains("tag was not pushed", ex.Message);
            var (code, output) = Processes.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{dest}");
            Assert.True(code != 0, output);
            Assert.Contains("manifest unknown", output);
        }
    }

    [Fact]
    public async Task Load_of_a_split_bundle_reads_its_parts_in_place_and_a_second_load_copies_nothing()
    {
        using var tmp = new TempDir();
        var (_, image, archive) = SavedWithReferrer(tmp);
        var bundle = await Bundle(archive, tmp.Sub("media/shop.run"), splitSize: 4 << 20);
        Assert.True(bundle.Manifest.ArchiveParts!.Count >= 2);

        var store = ClusterImageStore.Open(tmp.Sub("loaded"));
        var loaded = await store.LoadAsync(bundle.Path);
        var only = Assert.Single(loaded.Images);
        Assert.Equal(image.Digest, only.Digest);
        Assert.Equal(Name, only.Name);
        Assert.True(loaded.BytesLoaded > 2L * AppLayerBytes, $"{loaded.BytesLoaded} bytes loaded");
        foreach (var d in ImageGraph.Load(store.Layout, only.Descriptor).AllDigests)
        {
            Assert.True(await store.Layout.VerifyBlobAsync(d), $"{d} verifies");
        }
        Assert.NotNull(ClusterImageInspector.Inspect(store.Layout, Name, only.Descriptor).Referrers);
        Assert.Empty(Directory.GetFiles(tmp.Sub("media"), "*.tar")); // nothing extracted beside the bundle

        var again = await store.LoadAsync(bundle.Path);
        Assert.Equal(0, again.BlobsLoaded);
        Assert.Equal(image.Digest, Assert.Single(again.Images).Digest);

        // one file, no split: the same
        var whole = await Bundle(archive, tmp.Sub("media/one.run"), splitSize: null);
        var fromOne = await ClusterImageStore.Open(tmp.Sub("loaded-one")).LoadAsync(whole.Path);
        Assert.Equal(image.Digest, Assert.Single(fromOne.Images).Digest);
    }

    [Fact]
    public async Task Load_of_a_bundle_missing_a_part_or_with_a_corrupt_blob_names_nothing()
    {
        using var tmp = new TempDir();
        var (_, _, archive) = SavedWithReferrer(tmp);
        var bundle = await Bundle(archive, tmp.Sub("media/shop.run"), splitSize: 4 << 20);
        string lastPart = Path.Combine(tmp.Sub("media"), bundle.Manifest.ArchiveParts![^1].File!);
        string aside = tmp.Sub("aside");
        File.Move(lastPart, aside);

        var store = ClusterImageStore.Open(tmp.Sub("loaded"));
        var missing = await Assert.ThrowsAsync<SealerException>(() => store.LoadAsync(bundle.Path));
        Assert.Equal(ErrorCodes.BundlePartMissing, missing.Code);
        Assert.Contains(Path.GetFileName(lastPart), missing.Message);
        Assert.Empty(store.List());

        // the part back, with one byte of a blob in it changed (same length: only its blob's digest can tell)
        File.Move(aside, lastPart);
        FlipByteInTheMiddle(lastPart);
        var corrupt = await Assert.ThrowsAsync<SealerException>(() => store.LoadAsync(bundle.Path));
        Assert.Equal(ErrorCodes.ArchiveBlobCorrupt, corrupt.Code);
        Assert.Contains("shop.run", corrupt.Message);
        Assert.Empty(store.List());
    }

    [RegistryFact]
    public void A_bundle_pushes_and_loads_itself_at_the_site()
    {
        using var tmp = new TempDir();
        var (_, image, archive) = SavedWithReferrer(tmp);
        string run = tmp.Sub("media/shop.run");
        Directory.CreateDirectory(Path.GetDirectoryName(run)!);
        long split = new FileInfo(SealerCli.Aot()).Length + (4 << 20); // the first file: the sealer and a few MiB of the archive
        var made = SealerCli.RunExecutable(SealerCli.Aot(), ["bundle", archive, "-o", run, "--split", split.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(made.ExitCode == 0, made.Output);
        Assert.NotEmpty(Directory.GetFiles(tmp.Sub("media"), "shop.run.part*"));

        var help = SealerCli.RunExecutable(run, ["--help"]);
        Assert.Contains("push REGISTRY/NAME:TAG", help.StdOut);
        Assert.Contains("load [--store DIR]", help.StdOut);

        // the site's own registry (its Harbor): the bundle is the source, read in place
        string dest = NewDestination();
        var pushed = SealerCli.RunExecutable(run, ["push", dest]);
        Assert.True(pushed.ExitCode == 0, pushed.Output);
        Assert.Contains($"Pushed {dest}@{image.Digest}", pushed.StdOut);
        var (code, output) = Processes.Run("skopeo", "inspect", "--raw", "--tls-verify=false", $"docker://{dest}");
        Assert.True(code == 0, output);

        // a store at the site (to push elsewhere later, or build FROM it)
        string store = tmp.Sub("site-store");
        var loaded = SealerCli.RunExecutable(run, ["load", "--store", store]);
        Assert.True(loaded.ExitCode == 0, loaded.Output);
        Assert.Contains($"Loaded {Name} ({image.Digest}", loaded.StdOut);
        Assert.Equal(image.Digest, ClusterImageStore.Open(store).Resolve(Name).Digest);

        var twice = SealerCli.RunExecutable(run, ["load", "-i", archive]);
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("takes no -i", twice.StdErr);
    }
}
