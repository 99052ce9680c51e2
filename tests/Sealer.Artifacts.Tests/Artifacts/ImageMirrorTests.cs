using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Sealer.Core.Artifacts;
using Sealer.Core.Delivery;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Oci;

namespace Sealer.Artifacts.Tests.Artifacts;

/// <summary>
/// The app images of a cluster image (built by <c>sealer build</c> for linux/amd64 from the stand-in registries) put into
/// a site's own registry (a fresh Debian docker-registry with basic auth, as Harbor is distribution underneath) under
/// their own paths, read in place from the archive: what hosts that mirror every domain to that registry pull.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class ImageMirrorTests(RegistryFixture fixture) : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    /// <summary><c>sealer build</c> of a Kubefile whose image list is <paramref name="images"/>: the archive it writes.</summary>
    private string Build(string name, string[] images, params string[] mirrors)
        => SealerCli.BuildImageList(_tmp.Sub("build-" + name), name, images,
            mirrors.Length > 0 ? mirrors : [$"docker.io=http://{fixture.Env.Registry("docker.io").Address}", $"quay.io=http://{fixture.Env.Registry("quay.io").Address}"], _tmp.Sub("cache"));

    private static PushOptions Options(SiteRegistry site) => new() { Credentials = RegistryTransport.StaticCredentials(site.Address, site.User, site.Password) };

    [RegistryFact]
    public async Task Carried_images_land_under_their_own_paths_each_blob_sent_once_and_a_rerun_sends_nothing()
    {
        string archive = Build("shop", ["docker.io/library/nginx:1.27", "docker.io/library/redis:7.4", "docker.io/bitnami/redis:7.2", "quay.io/prometheus/node-exporter:v1.8.2", "docker.io/library/busybox:1.36"]);
        using var site = SiteRegistry.Start(_tmp.Sub("site"));
        var carried = await ClusterImageSource.Open(archive).CarriedImagesAsync();
        Assert.Equal(5, carried.Images.Count);
        var distinct = carried.Images.SelectMany(i => ImageGraph.Load(carried, i.Descriptor, sparseIndexes: true).Blobs).DistinctBy(b => b.Digest).ToList();

        Assert.Equal(5, (await ImageMirror.CheckAsync(carried, site.Address, Options(site))).Count); // an empty registry lacks them all

        var result = await ImageMirror.MirrorAsync(carried, site.Address, Options(site));

        Assert.Empty(await ImageMirror.CheckAsync(carried, site.Address, Options(site))); // each as pushed, partial indexes cut included

        var byRepo = result.Images.ToDictionary(i => i.Destination[(site.Address.Length + 1)..]);
        Assert.Equal(["bitnami/redis:7.2", "library/busybox:1.36", "library/nginx:1.27", "library/redis:7.4", "prometheus/node-exporter:v1.8.2"], byRepo.Keys.Order(StringComparer.Ordinal));
        // Single-platform images keep their digests.
        foreach (var (repo, id) in new[] { ("library/busybox:1.36", "busybox"), ("bitnami/redis:7.2", "bitnami-redis") })
        {
            Assert.Equal(fixture.Env.Image(id).Digest, byRepo[repo].Digest);
            Assert.Equal(fixture.Env.Image(id).Digest, site.Inspect(repo)!.Value.Digest);
            Assert.Equal(0, byRepo[repo].PlatformsLeftOut);
        }
        // distribution refuses an index without its arm64 child: the tag names an index of the carried platform only.
        foreach (var (repo, id) in new[] { ("library/nginx:1.27", "nginx"), ("library/redis:7.4", "redis"), ("prometheus/node-exporter:v1.8.2", "node-exporter") })
        {
            var served = site.Inspect(repo)!.Value;
            Assert.Equal(byRepo[repo].Digest, served.Digest);
            Assert.Equal(fixture.Env.Image(id).Digest, byRepo[repo].SourceDigest);
            Assert.Equal(1, byRepo[repo].PlatformsLeftOut);
            var index = JsonSerializer.Deserialize(served.Bytes, OciJsonContext.Default.ImageIndex)!;
            Assert.Equal([fixture.Env.Image(id).Platforms["linux/amd64"]], index.Manifests.Select(m => m.Digest));
            Assert.Equal(fixture.Env.Image(id).MediaType, index.MediaType);
        }
        // Every image pulls whole: skopeo fetches and checks every blob.
        foreach (var repo in byRepo.Keys)
        {
            var copy = site.Copy(repo, _tmp.Sub("pulled-" + repo.Replace('/', '_').Replace(':', '_')));
            Assert.True(copy.ExitCode == 0, $"{repo}: {copy.Output}");
        }
        // Each distinct blob crossed the wire once; repositories sharing the base layers mounted them.
        Assert.Equal(distinct.Count, result.BlobsUploaded);
        Assert.Equal(distinct.Sum(b => b.Size), result.BytesUploaded);
        Assert.True(result.BlobsMounted > 0, $"no blob was mounted: {result}");
        Assert.Equal(0, result.BlobsPresent);

        var again = await ImageMirror.MirrorAsync(await ClusterImageSource.Open(archive).CarriedImagesAsync(), site.Address, Options(site));
        Assert.Equal((0, 0L, 0), (again.BlobsUploaded, again.BytesUploaded, again.BlobsMounted));
        Assert.Equal(result.Images.Select(i => i.Digest), again.Images.Select(i => i.Digest));
        Assert.False(again.Requests.ContainsKey("PATCH"));
    }

    [RegistryFact]
    public async Task An_image_pinned_to_an_index_the_registry_refuses_as_partial_is_SEA1307_before_the_rest_is_sent()
    {
        var nginx = fixture.Env.Image("nginx");
        string archive = Build("pinned", ["docker.io/library/busybox:1.36", $"docker.io/library/nginx:1.27@{nginx.Digest}"]);
        using var site = SiteRegistry.Start(_tmp.Sub("site"));

        var ex = await Assert.ThrowsAsync<SealerException>(async () => await ImageMirror.MirrorAsync(await ClusterImageSource.Open(archive).CarriedImagesAsync(), site.Address, Options(site)));

        Assert.Equal(ErrorCodes.MirrorPartialIndexRefused, ex.Code);
        Assert.Contains($"'docker.io/library/nginx:1.27@{nginx.Digest}' is pinned to index {nginx.Digest}, of which the cluster image carries linux/amd64 only", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MANIFEST_BLOB_UNKNOWN", ex.Message, StringComparison.Ordinal);
        Assert.Contains("sealer build --platform", ex.Message, StringComparison.Ordinal);
        Assert.Null(site.Inspect("library/busybox:1.36")); // it went first: nothing else was sent
        Assert.Null(site.Inspect("library/nginx:1.27"));
    }

    /// <summary>Another source whose <c>library/busybox:1.36</c> is something else (bitnami/redis), standing for quay.io.</summary>
    private SiteRegistry OtherBusybox()
    {
        var other = SiteRegistry.Start(_tmp.Sub("other"), auth: false);
        var copy = Processes.Run("skopeo", "copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false",
            $"docker://{fixture.Env.Registry("docker.io").Address}/bitnami/redis:7.2", $"docker://{other.Address}/library/busybox:1.36");
        Assert.True(copy.ExitCode == 0, copy.Output);
        return other;
    }

    [RegistryFact]
    public async Task Two_domains_with_the_same_path_and_tag_but_other_content_are_SEA1306_before_anything_is_sent()
    {
        using var other = OtherBusybox();
        string archive = Build("clash", ["docker.io/library/busybox:1.36", "quay.io/library/busybox:1.36"],
            $"docker.io=http://{fixture.Env.Registry("docker.io").Address}", $"quay.io=http://{other.Address}");
        using var site = SiteRegistry.Start(_tmp.Sub("site"));

        var ex = await Assert.ThrowsAsync<SealerException>(async () => await ImageMirror.MirrorAsync(await ClusterImageSource.Open(archive).CarriedImagesAsync(), site.Address, Options(site)));

        Assert.Equal(ErrorCodes.MirrorNameClash, ex.Code);
        Assert.Contains("'docker.io/library/busybox:1.36'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'quay.io/library/busybox:1.36'", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"would both be {site.Address}/library/busybox:1.36", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(site.Storage) ? Directory.EnumerateFiles(site.Storage, "data", SearchOption.AllDirectories) : []);
    }

    [RegistryFact]
    public async Task Under_a_prefix_each_image_goes_under_its_domain_so_two_domains_with_one_path_both_land()
    {
        // the clash above, mirrored under a prefix (one Harbor project): docker.io's and quay.io's library/busybox:1.36 apart
        using var other = OtherBusybox();
        string archive = Build("prefixed", ["docker.io/library/busybox:1.36", "quay.io/library/busybox:1.36", "registry.k8s.io/pause:3.9"],
            $"docker.io=http://{fixture.Env.Registry("docker.io").Address}", $"quay.io=http://{other.Address}", $"registry.k8s.io=http://{fixture.Env.Registry("registry.k8s.io").Address}");
        using var site = SiteRegistry.Start(_tmp.Sub("site"));
        using var carried = await ClusterImageSource.Open(archive).CarriedImagesAsync();

        var result = await ImageMirror.MirrorAsync(carried, site.Address + "/sealer/site", Options(site));

        Assert.Equal([$"{site.Address}/sealer/site/docker.io/library/busybox:1.36", $"{site.Address}/sealer/site/quay.io/library/busybox:1.36", $"{site.Address}/sealer/site/registry.k8s.io/pause:3.9"],
            result.Images.Select(i => i.Destination).Order(StringComparer.Ordinal));
        Assert.Equal(fixture.Env.Image("busybox").Digest, site.Inspect("sealer/site/docker.io/library/busybox:1.36")!.Value.Digest);
        Assert.Equal(fixture.Env.Image("bitnami-redis").Digest, site.Inspect("sealer/site/quay.io/library/busybox:1.36")!.Value.Digest);
        Assert.Null(site.Inspect("library/busybox:1.36")); // nothing outside the prefix
        Assert.Empty(await ImageMirror.CheckAsync(carried, site.Address + "/sealer/site", Options(site)));
        Assert.Equal(3, (await ImageMirror.CheckAsync(carried, site.Address + "/elsewhere", Options(site))).Count);

        var bad = await Assert.ThrowsAsync<SealerException>(() => ImageMirror.MirrorAsync(carried, site.Address + "/Sealer", Options(site)));
        Assert.Equal(ErrorCodes.RegistryMirrorInvalid, bad.Code);
        Assert.Contains("'Sealer' is not a path prefix", bad.Message, StringComparison.Ordinal);
    }

    [RegistryFact]
    public async Task A_corrupt_blob_in_the_archive_is_SEA1703_and_its_image_is_not_tagged()
    {
        string archive = Build("corrupt", ["docker.io/library/busybox:1.36", "docker.io/bitnami/redis:7.2"]);
        var carried = await ClusterImageSource.Open(archive).CarriedImagesAsync();
        var busybox = carried.Images.Single(i => i.Reference.Contains("busybox", StringComparison.Ordinal));
        var layer = ImageGraph.Load(carried, busybox.Descriptor).Blobs.OrderByDescending(b => b.Size).First();
        var at = carried.Locate(layer.ParsedDigest);
        using (var fs = new FileStream(archive, FileMode.Open, FileAccess.ReadWrite))
        {
            fs.Position = at.Offset + at.Length / 2;
            int b = fs.ReadByte();
            fs.Position--;
            fs.WriteByte((byte)(b ^ 0xFF));
        }
        using var site = SiteRegistry.Start(_tmp.Sub("site"));

        var ex = await Assert.ThrowsAsync<SealerException>(async () => await ImageMirror.MirrorAsync(await ClusterImageSource.Open(archive).CarriedImagesAsync(), site.Address, Options(site)));

        Assert.Equal(ErrorCodes.ArchiveBlobCorrupt, ex.Code);
        Assert.Contains(layer.Digest, ex.Message, StringComparison.Ordinal);
        Assert.Contains(archive, ex.Message, StringComparison.Ordinal);
        Assert.Null(site.Inspect("library/busybox:1.36"));
    }

    private (string Layout, string Tree) SealerBase(string name, (string Source, string Target, bool All)[] images, (string Path, byte[] Data)[] upper, Func<string, byte[], byte[]>? tamper = null)
        => SealerBases.Build(_tmp.Sub(name), fixture.Env.Registry("docker.io").Address, images, upper, tamper);

    private static string TagOf(string tree, string path, string tag) => SealerBases.TagOf(tree, path, tag);

    /// <summary>The cluster image layout <see cref="SealerBase"/> wrote, and a reader of its one image.</summary>
    private static (Sealer.Core.Layout.OciLayout Layout, Sealer.Core.ClusterImage.ClusterImageReader Reader) Opened(string dir)
    {
        var layout = Sealer.Core.Layout.OciLayout.Open(dir);
        return (layout, Sealer.Core.ClusterImage.ClusterImageReader.Open(layout, layout.ReadIndex().Manifests[0]));
    }

    [RegistryFact]
    public async Task A_Sealer_base_s_registry_tree_is_pushed_too_paths_kept_whiteouts_honoured_and_what_cannot_go_is_named()
    {
        const string Tree = "registry/docker/registry/v2/repositories/";
        var (dir, tree) = SealerBase("sealer-base",
            [("library/busybox:1.36", "library/busybox:1.36", false), ("bitnami/redis:7.2", "kube-apiserver:v1.30.0", false),
             ("library/nginx:1.27", "library/nginx:1.27", true), ("library/busybox:1.36", "old/gone:1", false)],
            [(Tree + "old/.wh.gone", []), // an upper layer deleted this repository
             (Tree + "broken/_manifests/tags/1/current/link", Encoding.UTF8.GetBytes("sha256:" + new string('0', 64)))]);
        using var site = SiteRegistry.Start(_tmp.Sub("site"));

        var unpacked = new List<long>();
        using var carried = await ClusterImageSource.Open(dir).CarriedImagesAsync(new Collect<long>(unpacked));

        Assert.Equal(["docker.io/library/demo:1.0", "kube-apiserver:v1.30.0", "library/busybox:1.36", "library/nginx:1.27"], carried.Images.Select(i => i.Reference));
        // progress: the bytes unpacked so far, growing to every blob of the tree (those of the whited-out repository too)
        long treeBytes = Directory.EnumerateFiles(Path.Combine(tree, "blobs"), "data", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.Equal(unpacked.Order(), unpacked);
        Assert.Equal(treeBytes, unpacked[^1]);
        Assert.Equal(3, carried.SealerFormatCount);
        Assert.Equal([$"broken:1: its manifest sha256:{new string('0', 64)} is not in the tree"], carried.NotPushable);
        Assert.Equal(4, (await ImageMirror.CheckAsync(carried, site.Address, Options(site))).Count);

        // a check needs the manifests only: the same images, none of the tree's layers written out, each known by its size
        var (layout, reader) = Opened(dir);
        var read = new List<long>();
        using var check = await CarriedImages.WithSealerFormatAsync(layout, reader, _tmp.Sub("check-work"), new Collect<long>(read), CarriedImages.ManifestsOnly);
        Assert.Equal(carried.Images.Select(i => (i.Reference, i.Descriptor.Digest, i.Repository)), check.Images.Select(i => (i.Reference, i.Descriptor.Digest, i.Repository)));
        Assert.Equal(carried.NotPushable, check.NotPushable);
        Assert.Equal(treeBytes, read[^1]);
        var treeBlobs = Directory.EnumerateFiles(Path.Combine(tree, "blobs"), "data", SearchOption.AllDirectories)
            .Select(f => (Digest: "sha256:" + Path.GetFileName(Path.GetDirectoryName(f)), Json: File.ReadAllBytes(f)[0] == '{', Size: new FileInfo(f).Length)).ToList();
        Assert.Contains(treeBlobs, b => !b.Json);
        Assert.Equal(treeBlobs.Where(b => b.Json).Select(b => b.Digest[7..]).Order(), Directory.EnumerateFiles(_tmp.Sub("check-work"), "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order());
        foreach (var layer in treeBlobs.Where(b => !b.Json))
        {
            Assert.True(check.HasBlob(Digest.Parse(layer.Digest), layer.Size));
            var notRead = Assert.Throws<SealerException>(new Action(() => check.Locate(Digest.Parse(layer.Digest))));
            Assert.Contains("was not unpacked (a check reads the manifests only", notRead.Message, StringComparison.Ordinal);
        }
        Assert.Equal((await ImageMirror.CheckAsync(carried, site.Address, Options(site))).Order(), (await ImageMirror.CheckAsync(check, site.Address, Options(site))).Order());

        var result = await ImageMirror.MirrorAsync(carried, site.Address, Options(site));

        // each keeps its path (no docker.io/library/ for the domainless kube-apiserver) and the digest the tree tags
        Assert.Equal([$"{site.Address}/library/demo:1.0", $"{site.Address}/kube-apiserver:v1.30.0", $"{site.Address}/library/busybox:1.36", $"{site.Address}/library/nginx:1.27"],
            result.Images.Select(i => i.Destination));
        foreach (var (path, tag) in new[] { ("kube-apiserver", "v1.30.0"), ("library/busybox", "1.36"), ("library/nginx", "1.27") })
        {
            Assert.Equal(TagOf(tree, path, tag), site.Inspect($"{path}:{tag}")!.Value.Digest);
            var copy = site.Copy($"{path}:{tag}", _tmp.Sub("pulled-" + path.Replace('/', '_')));
            Assert.True(copy.ExitCode == 0, $"{path}: {copy.Output}");
        }
        Assert.Equal(fixture.Env.Image("nginx").Digest, site.Inspect("library/nginx:1.27")!.Value.Digest); // the whole index, every platform in the tree
        Assert.Equal(0, result.Images.Sum(i => i.PlatformsLeftOut));
        Assert.Null(site.Inspect("old/gone:1"));
        Assert.Null(site.Inspect("library/kube-apiserver:v1.30.0"));
        Assert.Empty(await ImageMirror.CheckAsync(carried, site.Address, Options(site)));
        Assert.Empty(await ImageMirror.CheckAsync(check, site.Address, Options(site)));
        string unpackedDir = Assert.Single(Directory.GetDirectories(Path.GetTempPath(), "sealer-format-*"), d => File.Exists(Path.Combine(d, TagOf(tree, "kube-apiserver", "v1.30.0")[7..])));

        var again = await ImageMirror.MirrorAsync(carried, site.Address, Options(site));
        Assert.Equal((0, 0L), (again.BlobsUploaded, again.BytesUploaded));
        // the CLI says the same: all four served, and the tag it cannot push named
        var cli = Processes.Run("dotnet", [SealerCli.Dll, "mirror", dir, site.Address, "--check"], workDir: null,
            env: [new("SEALER_REGISTRY_USER", site.User), new("SEALER_REGISTRY_PASSWORD", site.Password), new("DOCKER_CONFIG", _tmp.Sub("no-docker-config"))]);
        Assert.True(cli.ExitCode == 0, cli.Output);
        Assert.Contains($"{site.Address} serves all 4 app images as pushed", cli.Output, StringComparison.Ordinal);
        Assert.Contains($"warning {ErrorCodes.SealerFormatImagesNotMirrored}: not pushed, from the rootfs's Sealer-format registry/docker/registry/v2/: broken:1: its manifest", cli.Output, StringComparison.Ordinal);
        // and mirrors the tree into another registry (manifests, HEADs, the missing layers), then, run again, sends nothing
        using (var other = SiteRegistry.Start(_tmp.Sub("site-cli")))
        {
            for (int run = 0; run < 2; run++)
            {
                var mirrored = Processes.Run("dotnet", [SealerCli.Dll, "mirror", dir, other.Address], workDir: null,
                    env: [new("SEALER_REGISTRY_USER", other.User), new("SEALER_REGISTRY_PASSWORD", other.Password), new("DOCKER_CONFIG", _tmp.Sub("no-docker-config"))]);
                Assert.True(mirrored.ExitCode == 0, mirrored.Output);
                Assert.Contains($"Mirrored 4 images into {other.Address}: ", mirrored.Output, StringComparison.Ordinal);
                if (run == 1) Assert.Contains($"Mirrored 4 images into {other.Address}: 0 blobs uploaded (0 B)", mirrored.Output, StringComparison.Ordinal);
            }
            Assert.Equal(TagOf(tree, "kube-apiserver", "v1.30.0"), other.Inspect("kube-apiserver:v1.30.0")!.Value.Digest);
            var pulled = other.Copy("library/nginx:1.27", _tmp.Sub("pulled-cli-nginx"));
            Assert.True(pulled.ExitCode == 0, pulled.Output);
        }
        carried.Dispose();
        Assert.False(Directory.Exists(unpackedDir)); // the unpacked blobs go with the mirror
    }

    [RegistryFact]
    public async Task A_mirror_unpacks_only_the_Sealer_tree_blobs_the_registry_lacks_and_a_re_run_none()
    {
        var (dir, tree) = SealerBase("sealer-lacks", [("library/busybox:1.36", "library/busybox:1.36", false), ("bitnami/redis:7.2", "kube-apiserver:v1.30.0", false)], []);
        var (layout, reader) = Opened(dir);
        using var site = SiteRegistry.Start(_tmp.Sub("site"));
        // the site already has kube-apiserver (pushed there by hand, as skopeo put it into the tree)
        var copy = Processes.Run("skopeo", ["copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false", "--dest-creds", $"{site.User}:{site.Password}",
            $"docker://{fixture.Env.Registry("docker.io").Address}/bitnami/redis:7.2", $"docker://{site.Address}/kube-apiserver:v1.30.0"]);
        Assert.True(copy.ExitCode == 0, copy.Output);
        Assert.Equal(TagOf(tree, "kube-apiserver", "v1.30.0"), site.Inspect("kube-apiserver:v1.30.0")!.Value.Digest);

        var treeBlobs = Directory.EnumerateFiles(Path.Combine(tree, "blobs"), "data", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetFileName(Path.GetDirectoryName(f))!, f => File.ReadAllBytes(f));
        long treeBytes = treeBlobs.Values.Sum(b => (long)b.Length);
        HashSet<string> LayersOf(string manifest) => JsonDocument.Parse(treeBlobs[manifest[7..]]).RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()![7..]).ToHashSet();
        var apiserverLayers = LayersOf(TagOf(tree, "kube-apiserver", "v1.30.0"));
        var busyboxLayers = LayersOf(TagOf(tree, "library/busybox", "1.36"));
        Assert.NotEmpty(apiserverLayers.Except(busyboxLayers));
        string[] Unpacked(string work) => Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Where(d => treeBlobs[d!][0] != '{').Order().ToArray()!;

        // first run: the manifests, the HEADs, then only busybox's layers (the registry has kube-apiserver's)
        var read = new List<long>();
        string work = _tmp.Sub("work-1");
        MirrorResult result;
        using (var carried = await CarriedImages.ForMirrorAsync(layout, reader, site.Address, Options(site), work, new Collect<long>(read)))
        {
            Assert.Equal(busyboxLayers.Order(), Unpacked(work));
            Assert.Equal(read.Order(), read); // one progress over both reads
            Assert.Equal(2 * treeBytes, read[^1]);
            result = await ImageMirror.MirrorAsync(carried, site.Address, Options(site));
        }
        Assert.Equal(busyboxLayers.Count + 1 + 2, result.BlobsUploaded); // its layers and config, and the demo app image's layer and config
        Assert.Equal(TagOf(tree, "library/busybox", "1.36"), site.Inspect("library/busybox:1.36")!.Value.Digest);
        var pulled = site.Copy("library/busybox:1.36", _tmp.Sub("pulled"));
        Assert.True(pulled.ExitCode == 0, pulled.Output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(work)); // disposed

        // a re-run: one read, manifests only, nothing unpacked and nothing sent
        read.Clear();
        work = _tmp.Sub("work-2");
        using (var carried = await CarriedImages.ForMirrorAsync(layout, reader, site.Address, Options(site), work, new Collect<long>(read)))
        {
            Assert.Empty(Unpacked(work));
            Assert.Equal(treeBytes, read[^1]);
            result = await ImageMirror.MirrorAsync(carried, site.Address, Options(site));
        }
        Assert.Equal((0, 0L, 3), (result.BlobsUploaded, result.BytesUploaded, result.Images.Count));
    }

    [RegistryFact]
    public async Task A_corrupt_blob_in_a_Sealer_base_s_tree_is_SEA1703_before_anything_is_sent()
    {
        var (dir, _) = SealerBase("sealer-corrupt", [("library/busybox:1.36", "library/busybox:1.36", false)], [],
            (path, data) => path.EndsWith("/data", StringComparison.Ordinal) && data.Length > 4096 ? [.. data[..^1], (byte)(data[^1] ^ 0xFF)] : data);

        var ex = await Assert.ThrowsAsync<SealerException>(() => ClusterImageSource.Open(dir).CarriedImagesAsync());

        Assert.Equal(ErrorCodes.ArchiveBlobCorrupt, ex.Code);
        Assert.Contains("of Sealer's registry format is corrupt", ex.Message, StringComparison.Ordinal);
        Assert.Contains("registry/docker/registry/v2/blobs/sha256/", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tag_of_a_Sealer_tree_naming_other_manifests_in_two_platforms_rootfs_is_SEA1306()
    {
        var layout = Sealer.Core.Layout.OciLayout.OpenOrCreate(_tmp.Sub("two-platforms"));
        Descriptor Platform(string arch, char digit) => ClusterImages.Build(layout, new ClusterImageContents
        {
            Architecture = arch, Extension = TestImages.Extension, AppLayer = Encoding.UTF8.GetBytes("app " + arch), AppReference = "docker.io/library/demo:1.0", SdkLayerAnnotations = true,
            Rootfs = [("registry/docker/registry/v2/repositories/pause/_manifests/tags/3.9/current/link", Encoding.UTF8.GetBytes("sha256:" + new string(digit, 64)))],
        }).Manifest with { Platform = new Platform { Os = "linux", Architecture = arch } };
        var index = new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = [Platform("amd64", '1'), Platform("arm64", '2')] };
        var top = layout.WriteBlob(OciJsonContext.ToBytes(index, OciJsonContext.Default.ImageIndex), MediaTypes.OciIndex);
        var reader = Sealer.Core.ClusterImage.ClusterImageReader.Open(layout, top);

        var ex = await Assert.ThrowsAsync<SealerException>(() => SealerFormatImages.ReadAsync(layout, reader));

        Assert.Equal(ErrorCodes.MirrorNameClash, ex.Code);
        Assert.Contains($"pause:3.9 in Sealer's registry format (registry/docker/registry/v2/) as sha256:{new string('1', 64)} in the linux/amd64 rootfs and as sha256:{new string('2', 64)} in the linux/arm64 rootfs", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"schemaVersion\":2}", 20L, true)]
    [InlineData(" \r\n\t{", 100L, true)]
    [InlineData("    ", 100L, true)] // white space only so far: kept, to be sure
    [InlineData("\u001f\u008b\b", 100L, false)] // gzip
    [InlineData("(\u00b5/\u00fd", 100L, false)] // zstd
    [InlineData("etc/", 100L, false)] // a tar
    [InlineData("{", 4L * 1024 * 1024 + 1, false)] // larger than a manifest may be
    public void A_check_unpacks_only_the_tree_blobs_that_may_be_manifests(string head, long length, bool kept)
        => Assert.Equal(kept, SealerFormatImages.MayBeManifest(Encoding.Latin1.GetBytes(head), length));

    [TmpfsFact]
    public async Task A_full_disk_while_unpacking_a_Sealer_base_s_tree_is_SEA1506_and_leaves_nothing_behind()
    {
        var (dir, _) = SealerBase("sealer-full", [("bitnami/redis:7.2", "kube-apiserver:v1.30.0", false)], []);
        using var full = new Tmpfs("16k");
        var (layout, reader) = Opened(dir);

        var ex = await Assert.ThrowsAsync<SealerException>(() => CarriedImages.WithSealerFormatAsync(layout, reader, full.Root));

        Assert.Equal(ErrorCodes.DiskWriteFailed, ex.Code);
        Assert.Contains($"into {full.Root}. Free some space there, or point TMPDIR at a disk with room", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(full.Root));
    }

    [TmpfsFact]
    public async Task A_mirror_without_room_for_the_Sealer_tree_blobs_it_must_unpack_is_SEA1506_before_it_reads_them()
    {
        var (dir, _) = SealerBase("sealer-room", [("bitnami/redis:7.2", "kube-apiserver:v1.30.0", false)], []);
        using var room = new Tmpfs("64k"); // the manifests fit, the layers (~290 kB) do not
        using var site = SiteRegistry.Start(_tmp.Sub("site"));
        var (layout, reader) = Opened(dir);

        var ex = await Assert.ThrowsAsync<SealerException>(() => CarriedImages.ForMirrorAsync(layout, reader, site.Address, Options(site), room.Root));

        Assert.Equal(ErrorCodes.DiskWriteFailed, ex.Code);
        Assert.Matches($@"blob\(s\) of '.*' in Sealer's registry format \(registry/docker/registry/v2/\) that {Regex.Escape(site.Address)} lacks needs \d+(\.\d)? KiB under {Regex.Escape(room.Root)}, which has \d+(\.\d)? KiB free\. Free some space there, or point TMPDIR at a disk with room", ex.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(room.Root));
        Assert.Null(site.Inspect("kube-apiserver:v1.30.0"));
    }

    [RegistryFact]
    public void The_CLI_checks_and_mirrors_with_a_password_from_stdin_and_says_which_indexes_it_cut()
    {
        string archive = Build("cli", ["docker.io/library/nginx:1.27", "docker.io/library/busybox:1.36"]);
        using var site = SiteRegistry.Start(_tmp.Sub("site"));
        (int ExitCode, string StdOut, string StdErr) Mirror(params string[] extra)
        {
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet", [SealerCli.Dll, "mirror", archive, site.Address, "-u", site.User, "--password-stdin", .. extra])
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            psi.Environment["DOCKER_CONFIG"] = _tmp.Sub("no-docker-config");
            using var p = System.Diagnostics.Process.Start(psi)!;
            p.StandardInput.WriteLine(site.Password);
            p.StandardInput.Close();
            var err = p.StandardError.ReadToEndAsync();
            string o = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, o, err.Result);
        }

        var before = Mirror("--check"); // sends nothing, says what is missing
        Assert.Equal(1, before.ExitCode);
        Assert.Contains($"error {ErrorCodes.MirrorIncomplete}: {site.Address} lacks 2 of the 2 app images", before.StdErr, StringComparison.Ordinal);
        Assert.Contains($"{site.Address}/library/nginx:1.27:", before.StdErr, StringComparison.Ordinal);
        Assert.Null(site.Inspect("library/busybox:1.36"));

        var (exitCode, stdout, stderr) = Mirror();

        Assert.True(exitCode == 0, stdout + stderr);
        Assert.Contains($"docker.io/library/busybox:1.36 -> {site.Address}/library/busybox:1.36\n", stdout, StringComparison.Ordinal);
        Assert.Contains($"docker.io/library/nginx:1.27 -> {site.Address}/library/nginx:1.27 (sha256:", stdout, StringComparison.Ordinal);
        Assert.Contains("an index of the carried platforms; 1 left out", stdout, StringComparison.Ordinal);
        Assert.Contains($"Mirrored 2 images into {site.Address}", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(site.Password, stdout + stderr, StringComparison.Ordinal);
        Assert.Equal(fixture.Env.Image("busybox").Digest, site.Inspect("library/busybox:1.36")!.Value.Digest);
        var after = Mirror("--check");
        Assert.True(after.ExitCode == 0, after.StdOut + after.StdErr);
        Assert.Equal($"{site.Address} serves all 2 app images as pushed\n", after.StdOut);

        var usage = SealerCli.Run("mirror", archive, site.Address + "/Library");
        Assert.Equal(1, usage.ExitCode);
        Assert.Contains($"error {ErrorCodes.BadCommandLine}: REGISTRY is host[:port] or host[:port]/PREFIX ('{site.Address}/Library' is not: 'Library' is not a path prefix", usage.Output, StringComparison.Ordinal);
    }

    [RegistryFact]
    public void A_split_bundle_mirrors_its_app_images_at_the_site()
    {
        string archive = Build("bundled", ["docker.io/library/nginx:1.27", "docker.io/bitnami/redis:7.2"]);
        string run = _tmp.Sub("media/shop.run");
        Directory.CreateDirectory(Path.GetDirectoryName(run)!);
        long split = new FileInfo(SealerCli.Aot()).Length + (1 << 20);
        var made = SealerCli.RunExecutable(SealerCli.Aot(), ["bundle", archive, "-o", run, "--split", split.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(made.ExitCode == 0, made.Output);
        Assert.NotEmpty(Directory.GetFiles(_tmp.Sub("media"), "shop.run.part*"));
        Assert.Contains("mirror REGISTRY", SealerCli.RunExecutable(run, ["--help"]).StdOut, StringComparison.Ordinal);
        using var site = SiteRegistry.Start(_tmp.Sub("site"));

        // credentials from the environment (never a project file or the command line)
        var mirrored = Processes.Run(run, ["mirror", site.Address, "--format", "json"], workDir: null,
            env: [new("SEALER_REGISTRY_USER", site.User), new("SEALER_REGISTRY_PASSWORD", site.Password), new("DOCKER_CONFIG", _tmp.Sub("no-docker-config"))]);

        Assert.True(mirrored.ExitCode == 0, mirrored.Output);
        var result = JsonSerializer.Deserialize(mirrored.StdOut, ArtifactsJsonContext.Default.MirrorResult)!;
        Assert.Equal(["docker.io/bitnami/redis:7.2", "docker.io/library/nginx:1.27"], result.Images.Select(i => i.Source).Order(StringComparer.Ordinal));
        Assert.Equal(fixture.Env.Image("bitnami-redis").Digest, site.Inspect("bitnami/redis:7.2")!.Value.Digest);
        Assert.Equal(result.Images.Single(i => i.Source.Contains("nginx", StringComparison.Ordinal)).Digest, site.Inspect("library/nginx:1.27")!.Value.Digest);
        Assert.DoesNotContain(site.Password, mirrored.Output, StringComparison.Ordinal);
    }

    /// <summary>An <see cref="IProgress{T}"/> that records each report at once (Progress&lt;T&gt; posts them later).</summary>
    private sealed class Collect<T>(List<T> into) : IProgress<T>
    {
        public void Report(T value)
        {
            lock (into) into.Add(value);
        }
    }
}
