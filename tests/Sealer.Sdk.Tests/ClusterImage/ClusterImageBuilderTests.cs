using System.Text.Json;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Sdk.Tests.ClusterImage;

public sealed class ClusterImageBuilderTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly OciLayout _cache;
    private readonly List<ClusterImageContent> _images;

    public ClusterImageBuilderTests()
    {
        (_cache, _images) = CacheFixture.Create(_tmp.Sub("cache"));
        Directory.CreateDirectory(_tmp.Sub("proj/charts/web/templates"));
        File.WriteAllText(_tmp.Sub("proj/charts/web/Chart.yaml"), "apiVersion: v2\nname: web\nversion: 0.1.0\n");
        File.WriteAllText(_tmp.Sub("proj/charts/web/templates/deploy.yaml"), "kind: Deployment\n");
        File.WriteAllText(_tmp.Sub("proj/install.sh"), "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(_tmp.Sub("proj/install.sh"), (UnixFileMode)0b111_101_101);
    }

    public void Dispose() => _tmp.Dispose();

    private ClusterImageSpec Spec(params string[] platforms) => new()
    {
        RefName = "demo:1.0.0",
        ImageCache = _cache,
        Images = _images.Where(i => platforms.Length < 2 || i.Reference.Contains("nginx")).ToList(),
        Platforms = (platforms.Length == 0 ? ["linux/amd64"] : platforms).Select(Platform.Parse).ToList(),
        RootfsFiles =
        [
            new("charts/web/Chart.yaml", _tmp.Sub("proj/charts/web/Chart.yaml")),
            new("charts/web/templates/deploy.yaml", _tmp.Sub("proj/charts/web/templates/deploy.yaml")),
            new("scripts/install.sh", _tmp.Sub("proj/install.sh")),
            new("images.lock.json", Content: "{\"images\":[]}"u8.ToArray()),
        ],
        Labels = new Dictionary<string, string> { ["owner"] = "team-a", [ClusterImageLabels.KubeVersion] = "v1.30.0" },
        Env = [new("REGION", "eu")],
        Apps = [new ClusterApp { Name = "web", Type = "helm", LaunchFiles = ["web"], Cmds = [], Version = "0.1.0" }],
        Launch = ["web"],
    };

    private Task<ClusterImageResult> Build(ClusterImageSpec spec, string name, bool archive = true, ListLogger? log = null)
        => new ClusterImageBuilder(log).BuildAsync(spec, new ClusterImageOutput(_tmp.Sub($"out/{name}"), archive ? _tmp.Sub($"out/{name}.tar") : null, _tmp.Sub($"obj/{name}.layers.json")));

    /// <summary>The rootfs layers of a one-platform image, in manifest order.</summary>
    private static List<Descriptor> RootfsLayers(ClusterImageResult r) => ClusterImageReader.OpenLayout(r.LayoutPath).Platforms[0].Manifest.Layers
        .Where(l => l.GetAnnotation(ClusterImageFormat.LayerKindAnnotation) == ClusterImageFormat.LayerKindRootfs).ToList();

    /// <summary>umoci unpacks the image, and every file of <paramref name="rootfs"/> is there with its bytes.</summary>
    private void UnpacksTo(ClusterImageResult r, string bundle, IEnumerable<RootfsEntry> rootfs)
    {
        var (code, output) = Processes.RunCommandLine("umoci", $"unpack --rootless --image {r.LayoutPath}:demo:1.0.0 {_tmp.Sub(bundle)}");
        Assert.True(code == 0, output);
        foreach (var e in rootfs.Where(e => e.SourcePath is not null))
            Assert.Equal(File.ReadAllBytes(e.SourcePath!), File.ReadAllBytes(Path.Combine(_tmp.Sub(bundle), "rootfs", e.Destination)));
    }

    /// <summary>skopeo copies the image out of the layout, which reads every blob and checks every digest and diff ID.</summary>
    private void SkopeoCopies(ClusterImageResult r, string dir)
    {
        var (code, output) = Processes.RunCommandLine("skopeo", $"copy --quiet oci:{r.LayoutPath}:demo:1.0.0 dir:{_tmp.Sub(dir)}");
        Assert.True(code == 0, output);
    }

    /// <summary>The one debug line about a rootfs layer that contains <paramref name="has"/>.</summary>
    private static string RootfsLine(ListLogger log, string has) => Assert.Single(log.Lines, l => l.StartsWith("Rootfs layer ", StringComparison.Ordinal) && l.Contains(has, StringComparison.Ordinal));

    [Fact]
    public async Task Same_inputs_give_the_same_manifest_digest()
    {
        var a = await Build(Spec(), "a");
        var b = await Build(Spec(), "b");
        Assert.Equal(a.Descriptor.Digest, b.Descriptor.Digest);
        Assert.Equal(File.ReadAllBytes(a.ArchivePath!), File.ReadAllBytes(b.ArchivePath!));
        var c = await Build(Spec() with { Labels = new Dictionary<string, string> { ["owner"] = "team-b" } }, "c");
        Assert.NotEqual(a.Descriptor.Digest, c.Descriptor.Digest);
    }

    /// <summary>
    /// A rootfs file no longer than what the CRLF check reads (<see cref="ScriptLineEndings.CheckedBytes"/>) is read once and
    /// the tar takes those bytes; a longer one the tar reads again from the start. Either way the layer holds each file whole,
    /// a second build gives the same digest, and a CRLF script is reported whatever its size.
    /// </summary>
    [Fact]
    public async Task Rootfs_files_around_the_checked_size_come_whole_and_crlf_scripts_of_any_size_are_reported()
    {
        const int c = ScriptLineEndings.CheckedBytes;
        var sizes = new[] { 0, 1, c - 1, c, c + 1, 3 * c + 17 };
        var rootfs = new List<RootfsEntry>();
        foreach (int n in sizes)
        {
            string path = _tmp.Sub($"proj/sized/f{n}.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, System.Security.Cryptography.RandomNumberGenerator.GetBytes(n));
            rootfs.Add(new($"files/sized/f{n}.bin", path));
        }
        // CRLF in the first lines of a small script and of one longer than the check reads
        File.WriteAllText(_tmp.Sub("proj/sized/small.sh"), "#!/bin/sh\r\necho a\r\n");
        File.WriteAllText(_tmp.Sub("proj/sized/big.sh"), "#!/bin/sh\necho a\r\n" + new string('#', c + 100) + "\n");
        rootfs.Add(new("scripts/small.sh", _tmp.Sub("proj/sized/small.sh")));
        rootfs.Add(new("scripts/big.sh", _tmp.Sub("proj/sized/big.sh")));
        var spec = Spec() with { RootfsFiles = rootfs };

        var log = new ListLogger();
        var first = await Build(spec, "sized", log: log);
        UnpacksTo(first, "sized-unpacked", rootfs);
        Assert.Contains(log.Lines, l => l.Contains(ErrorCodes.ScriptHasCrlf, StringComparison.Ordinal) && l.Contains("small.sh(1)", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Contains(ErrorCodes.ScriptHasCrlf, StringComparison.Ordinal) && l.Contains("big.sh(2)", StringComparison.Ordinal));
        var again = await Build(spec, "sized-again");
        Assert.Equal(first.Descriptor.Digest, again.Descriptor.Digest);
    }

    [Fact]
    public async Task Layers_follow_the_format_one_per_blob_then_registry()
    {
        var r = await Build(Spec(), "fmt");
        var reader = ClusterImageReader.OpenLayout(r.LayoutPath);
        var p = Assert.Single(reader.Platforms);
        Assert.Equal("linux/amd64", p.Platform.ToString());
        var layers = p.Manifest.Layers;
        Assert.Equal(MediaTypes.OciLayerGzip, layers[0].MediaType);
        Assert.Equal(ClusterImageFormat.LayerKindRootfs, layers[0].GetAnnotation(ClusterImageFormat.LayerKindAnnotation));
        Assert.Equal(ClusterImageFormat.LayerKindRegistry, layers[^1].GetAnnotation(ClusterImageFormat.LayerKindAnnotation));
        var blobLayers = layers.Skip(1).SkipLast(1).ToList();
        // nginx amd64: 2 layers, app: shared + 1 → 3 distinct blobs.
        Assert.Equal(3, blobLayers.Count);
        Assert.All(blobLayers, l => Assert.Equal(MediaTypes.OciLayer, l.MediaType));
        // in blob-digest order, whichever of the layers written at once finished first
        var blobOrder = blobLayers.Select(l => l.GetAnnotation(ClusterImageFormat.LayerBlobAnnotation)!).ToList();
        Assert.Equal(blobOrder.Order(StringComparer.Ordinal), blobOrder);
        Assert.Equal(p.Config.RootFs.DiffIds.Count, layers.Count);
        Assert.Equal("team-a", p.Labels["owner"]);
        Assert.Contains(new KeyValuePair<string, string>("REGION", "eu"), p.Env);
        Assert.Null(p.Config.Created);
        var ext = p.Extension!;
        Assert.Equal(SealerImageExtension.AppInstaller, ext.Type);
        Assert.Equal(["web"], ext.Launch.AppNames!);
        Assert.Equal("helm", Assert.Single(ext.Apps).Type);
        Assert.Equal(["docker.io/library/nginx:1.27", "quay.io/demo/app:2"], reader.ImageReferences());
        // Each blob layer holds exactly registry/blobs/sha256/<hex> of the blob it names.
        var layout = OciLayout.Open(r.LayoutPath);
        foreach (var l in blobLayers)
        {
            using var tar = new System.Formats.Tar.TarReader(layout.OpenBlob(l.ParsedDigest));
            var e = tar.GetNextEntry()!;
            var blob = Digest.Parse(l.GetAnnotation(ClusterImageFormat.LayerBlobAnnotation)!);
            Assert.Equal($"registry/blobs/sha256/{blob.Encoded}", e.Name);
            Assert.Equal(0, e.Uid);
            Assert.Equal(DateTimeOffset.UnixEpoch, e.ModificationTime);
            Assert.Null(tar.GetNextEntry());
        }
        // The archive reads the same.
        var fromArchive = ClusterImageReader.OpenArchive(r.ArchivePath!);
        Assert.Equal(r.Descriptor.Digest, fromArchive.Descriptor.Digest);
        Assert.Equal(reader.ImageReferences(), fromArchive.ImageReferences());
        Assert.Equal("demo:1.0.0", fromArchive.RefName);
    }

    [Fact]
    public async Task Skopeo_and_umoci_accept_the_output_and_the_unpacked_registry_serves_every_ref()
    {
        var r = await Build(Spec(), "tools");
        var (code, output) = Processes.RunCommandLine("skopeo", $"inspect --raw oci:{r.LayoutPath}:demo:1.0.0");
        Assert.True(code == 0, output);
        (code, output) = Processes.RunCommandLine("skopeo", $"inspect oci-archive:{r.ArchivePath}");
        Assert.True(code == 0, output);
        Assert.Contains("\"Architecture\": \"amd64\"", output);
        string bundle = _tmp.Sub("bundle");
        (code, output) = Processes.RunCommandLine("umoci", $"unpack --rootless --image {r.LayoutPath}:demo:1.0.0 {bundle}");
        Assert.True(code == 0, output);
        string rootfs = Path.Combine(bundle, "rootfs");
        Assert.True(File.Exists(Path.Combine(rootfs, "charts/web/Chart.yaml")));
        Assert.True(File.Exists(Path.Combine(rootfs, "images.lock.json")));
        Assert.NotEqual(0, (int)(File.GetUnixFileMode(Path.Combine(rootfs, "scripts/install.sh")) & UnixFileMode.UserExecute));
        foreach (var refName in new[] { "docker.io/library/nginx:1.27", "quay.io/demo/app:2" })
        {
            (code, output) = Processes.RunCommandLine("skopeo", $"inspect --override-arch amd64 --override-os linux oci:{rootfs}/registry:{refName}");
            Assert.True(code == 0, $"{refName}: {output}");
            string copy = _tmp.Sub("copy-" + refName.Replace('/', '_').Replace(':', '_'));
            (code, output) = Processes.RunCommandLine("skopeo", $"copy --override-arch amd64 oci:{rootfs}/registry:{refName} oci:{copy}:x");
            Assert.True(code == 0, $"copy {refName}: {output}");
        }
    }

    [Fact]
    public async Task Several_platforms_give_an_index_and_each_carries_its_own_blobs()
    {
        var r = await Build(Spec("linux/amd64", "linux/arm64"), "multi");
        Assert.Equal(MediaTypes.OciIndex, r.Descriptor.MediaType);
        var reader = ClusterImageReader.Open(r.ArchivePath!);
        Assert.Equal(["linux/amd64", "linux/arm64"], reader.Platforms.Select(p => p.Platform.ToString()));
        var amdBlobs = reader.Platforms[0].Manifest.Layers.Select(l => l.GetAnnotation(ClusterImageFormat.LayerBlobAnnotation)).OfType<string>().ToList();
        var armBlobs = reader.Platforms[1].Manifest.Layers.Select(l => l.GetAnnotation(ClusterImageFormat.LayerBlobAnnotation)).OfType<string>().ToList();
        Assert.Equal(2, amdBlobs.Count);
        Assert.Equal(2, armBlobs.Count);
        Assert.Empty(amdBlobs.Intersect(armBlobs));
        Assert.Equal(reader.Platforms[0].Manifest.Layers[0].Digest, reader.Platforms[1].Manifest.Layers[0].Digest); // rootfs shared
        var (code, output) = Processes.RunCommandLine("skopeo", $"inspect --raw oci:{r.LayoutPath}");
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task A_single_platform_image_for_another_platform_fails_with_a_code()
    {
        var ex = await Assert.ThrowsAsync<SealerException>(() => Build(Spec() with { Images = _images, Platforms = [Platform.Parse("linux/arm64")] }, "arm"));
        Assert.Equal(ErrorCodes.ImagePlatformMissing, ex.Code);
        Assert.Contains("quay.io/demo/app:2", ex.Message);
    }

    [Fact]
    public async Task Rebuild_reuses_the_previous_output_and_a_failed_build_leaves_it_intact()
    {
        var first = await Build(Spec(), "inc");
        var second = await Build(Spec() with { Labels = new Dictionary<string, string> { ["owner"] = "x" } }, "inc");
        Assert.Equal(5, second.BlobsReused); // the three image-blob layers, the registry layer and the rootfs layer (its files' stamp unchanged) came from the previous output
        Assert.Equal(0, second.BlobsWritten); // (the config and manifest are not counted)
        var before = File.ReadAllBytes(Path.Combine(second.LayoutPath, "index.json"));
        var archiveBefore = File.ReadAllBytes(second.ArchivePath!);

        var broken = Spec() with { RootfsFiles = [.. Spec().RootfsFiles, new RootfsEntry("etc/missing.conf", _tmp.Sub("proj/missing.conf")) { OriginFile = "app.kubeproj", OriginLine = 12 }] };
        var ex = await Assert.ThrowsAsync<SealerException>(() => Build(broken, "inc"));
        Assert.Equal(ErrorCodes.InputFileMissing, ex.Code);
        Assert.Equal("app.kubeproj", ex.File);
        Assert.Equal(12, ex.Line);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(second.LayoutPath, "index.json")));
        Assert.Equal(archiveBefore, File.ReadAllBytes(second.ArchivePath!));
        Assert.Empty(Directory.GetFileSystemEntries(_tmp.Sub("out"), ".*")); // no temp dirs or files left
        var (code, output) = Processes.RunCommandLine("skopeo", $"inspect --raw oci:{second.LayoutPath}");
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task A_rebuild_with_the_same_images_reads_none_of_them_and_gives_the_image_a_full_build_gives()
    {
        var first = await Build(Spec(), "memo");
        // A chart edit with the same images: no image manifest is read again (the cache is gone, and the build still works).
        File.WriteAllText(_tmp.Sub("proj/charts/web/templates/deploy.yaml"), "kind: Deployment\nmetadata: {name: changed}\n");
        Directory.Move(_tmp.Sub("cache"), _tmp.Sub("cache-away"));
        var second = await Build(Spec(), "memo");
        Directory.Move(_tmp.Sub("cache-away"), _tmp.Sub("cache"));
        Assert.NotEqual(first.Descriptor.Digest, second.Descriptor.Digest);
        Assert.Equal(1, second.BlobsWritten); // the rootfs layer only
        var firstLayers = ClusterImageReader.OpenLayout(first.LayoutPath).Platforms[0].Manifest.Layers;
        var secondLayers = ClusterImageReader.OpenLayout(second.LayoutPath).Platforms[0].Manifest.Layers;
        Assert.Equal(firstLayers.Count, secondLayers.Count);
        Assert.Equal(firstLayers.Where(l => l.MediaType == MediaTypes.OciLayer).Select(l => (l.Digest, l.Annotations![ClusterImageFormat.LayerKindAnnotation])),
            secondLayers.Where(l => l.MediaType == MediaTypes.OciLayer).Select(l => (l.Digest, l.Annotations![ClusterImageFormat.LayerKindAnnotation])));
        // What it took from the layer map is what a build from nothing makes.
        var fresh = await Build(Spec(), "memo-fresh");
        Assert.Equal(fresh.Descriptor.Digest, second.Descriptor.Digest);
        Assert.Equal(File.ReadAllBytes(fresh.ArchivePath!), File.ReadAllBytes(second.ArchivePath!));
        // Other images: the images are walked again and the registry layer is new (and the layer map follows).
        var fewer = await Build(Spec() with { Images = [_images[0]] }, "memo");
        var fewerLayers = ClusterImageReader.OpenLayout(fewer.LayoutPath).Platforms[0].Manifest.Layers;
        Assert.NotEqual(secondLayers[^1].Digest, fewerLayers[^1].Digest);
        Assert.Equal(fresh.Descriptor.Digest, (await Build(Spec(), "memo")).Descriptor.Digest);
        Assert.Equal((await Build(Spec() with { Images = [_images[0]] }, "memo-fewer")).Descriptor.Digest, fewer.Descriptor.Digest);
    }

    [Fact]
    public async Task A_rebuild_after_one_chart_changed_copies_the_other_charts_gzip_members_and_gives_the_bytes_a_full_build_gives()
    {
        // Five charts and a script: one gzip member per group (a chart, scripts/), back to back in the shared rootfs layer;
        // a file over the kept-member limit (so its folder is a layer of its own) beside them.
        var files = new List<RootfsEntry>();
        for (int i = 1; i <= 5; i++)
        {
            Directory.CreateDirectory(_tmp.Sub($"many/c{i}/templates"));
            File.WriteAllText(_tmp.Sub($"many/c{i}/Chart.yaml"), $"apiVersion: v2\nname: c{i}\nversion: 0.1.{i}\n");
            File.WriteAllText(_tmp.Sub($"many/c{i}/templates/cm.yaml"), string.Concat(Enumerable.Repeat($"# chart {i}: padding that compresses\n", 2000)));
            files.Add(new($"charts/c{i}/Chart.yaml", _tmp.Sub($"many/c{i}/Chart.yaml")));
            files.Add(new($"charts/c{i}/templates/cm.yaml", _tmp.Sub($"many/c{i}/templates/cm.yaml")));
        }
        File.WriteAllBytes(_tmp.Sub("many/big.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(GzipMembers.MaxKeptMember + 4096));
        files.Add(new("files/big.bin", _tmp.Sub("many/big.bin")));
        files.Add(new("scripts/install.sh", _tmp.Sub("proj/install.sh")));
        var spec = Spec() with { RootfsFiles = files };
        static string RootfsBlob(ClusterImageResult r, int which = -1)
        {
            var rootfs = RootfsLayers(r);
            return Path.Combine(r.LayoutPath, "blobs", "sha256", rootfs[which < 0 ? rootfs.Count + which : which].ParsedDigest.Encoded);
        }

        var log1 = new ListLogger();
        var first = await Build(spec, "g", log: log1);
        // charts/c1..c5, scripts/install.sh (with the tar's end); files/ is a layer of its own, the big file its one member
        Assert.EndsWith(" (files/): 1 gzip members, 0 copied from the last build, 1 compressed", RootfsLine(log1, "(files/)"));
        Assert.EndsWith(": 6 gzip members, 0 copied from the last build, 6 compressed", RootfsLine(log1, "(the rest): "));
        // GNU tar (gzip) reads the members as one stream: every file is in one of the two layers.
        var (code, listing) = Processes.Run("tar", "-tzf", RootfsBlob(first));
        Assert.True(code == 0, listing);
        var (code0, listing0) = Processes.Run("tar", "-tzf", RootfsBlob(first, 0));
        Assert.True(code0 == 0, listing0);
        Assert.All(files, f => Assert.Contains(f.Destination, f.Destination == "files/big.bin" ? listing0 : listing));

        // One chart changed: its member is compressed again, the rest are copied; the big file's layer is taken as it is.
        File.AppendAllText(_tmp.Sub("many/c3/templates/cm.yaml"), "# changed\n");
        var log2 = new ListLogger();
        var second = await Build(spec, "g", log: log2);
        Assert.EndsWith(": 6 gzip members, 5 copied from the last build, 1 compressed", RootfsLine(log2, "(the rest): "));
        Assert.Contains("(files/, 1 files,", RootfsLine(log2, "taken as it is"));
        var fresh = await Build(spec, "g-fresh");
        Assert.Equal(fresh.Descriptor.Digest, second.Descriptor.Digest);
        Assert.Equal(File.ReadAllBytes(fresh.ArchivePath!), File.ReadAllBytes(second.ArchivePath!));

        // A layer map that names the wrong member for some bytes (two members' hashes swapped): those two are not copied
        // (each copied member must decompress to the bytes it stands for), the rest are; the bytes are a full build's.
        string map = _tmp.Sub("obj/g.layers.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(map))!;
        string sharedDigest = "sha256:" + Path.GetFileName(RootfsBlob(second));
        var list = json["rootfsMembers"]![sharedDigest]!.AsArray();
        (list[0]!["tar"], list[1]!["tar"]) = (list[1]!["tar"]!.DeepClone(), list[0]!["tar"]!.DeepClone());
        File.WriteAllText(map, json.ToJsonString());
        File.AppendAllText(_tmp.Sub("many/c5/templates/cm.yaml"), "# changed as well\n");
        var logSwap = new ListLogger();
        var swapped = await Build(spec, "g", log: logSwap);
        Assert.EndsWith(": 6 gzip members, 3 copied from the last build, 3 compressed", RootfsLine(logSwap, "(the rest): ")); // c1, c2, c5
        Assert.Equal((await Build(spec, "g-fresh-swap")).Descriptor.Digest, swapped.Descriptor.Digest);
        second = swapped;

        // A damaged layer in the layout is never copied from: its hash is checked first, so the rebuild compresses everything.
        byte[] old = File.ReadAllBytes(RootfsBlob(second));
        old[old.Length / 3] ^= 0x55;
        File.WriteAllBytes(RootfsBlob(second), old);
        File.AppendAllText(_tmp.Sub("many/c1/templates/cm.yaml"), "# changed too\n");
        var log3 = new ListLogger();
        var third = await Build(spec, "g", log: log3);
        Assert.EndsWith(": 6 gzip members, 0 copied from the last build, 6 compressed", RootfsLine(log3, "(the rest): "));
        Assert.Equal((await Build(spec, "g-fresh2")).Descriptor.Digest, third.Descriptor.Digest);
        var (rc, output) = Processes.RunCommandLine("umoci", $"unpack --rootless --image {third.LayoutPath}:demo:1.0.0 {_tmp.Sub("g-bundle")}");
        Assert.True(rc == 0, output);
        Assert.EndsWith("# changed too\n", File.ReadAllText(Path.Combine(_tmp.Sub("g-bundle"), "rootfs/charts/c1/templates/cm.yaml")));
        Assert.Equal(File.ReadAllBytes(_tmp.Sub("many/big.bin")), File.ReadAllBytes(Path.Combine(_tmp.Sub("g-bundle"), "rootfs/files/big.bin")));
    }

    [Fact]
    public async Task A_folder_of_1_MiB_or_more_is_a_layer_of_its_own_taken_unread_while_its_files_sizes_and_times_stay()
    {
        // files/pkgs: two packages (12 and 6 MiB), two scripts and a note; 18 MiB in all, so a layer of its own (the web chart, a few bytes, stays in the shared one).
        Directory.CreateDirectory(_tmp.Sub("pkgs"));
        File.WriteAllBytes(_tmp.Sub("pkgs/a.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(12 << 20));
        File.WriteAllBytes(_tmp.Sub("pkgs/b.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(6 << 20));
        File.WriteAllText(_tmp.Sub("pkgs/run.sh"), "#!/bin/sh\necho install\n");
        File.WriteAllText(_tmp.Sub("pkgs/note.txt"), "packages for the site\n");
        File.WriteAllText(_tmp.Sub("pkgs/crlf.sh"), "echo a\r\n");
        var pkgs = new[] { "a.bin", "b.bin", "crlf.sh", "note.txt", "run.sh" }.Select(f => new RootfsEntry($"files/pkgs/{f}", _tmp.Sub($"pkgs/{f}"))).ToList();
        var spec = Spec() with { RootfsFiles = [.. Spec().RootfsFiles, .. pkgs] };
        void Unpacks(ClusterImageResult r, string bundle) => UnpacksTo(r, bundle, spec.RootfsFiles);

        var log1 = new ListLogger();
        var first = await Build(spec, "own", log: log1);
        var layers = RootfsLayers(first);
        Assert.Equal(2, layers.Count); // files/pkgs, then the shared layer
        Assert.Equal("files/pkgs", layers[0].GetAnnotation(ClusterImageFormat.RootfsGroupAnnotation));
        Assert.Null(layers[1].GetAnnotation(ClusterImageFormat.RootfsGroupAnnotation));
        // a.bin, b.bin: a member each; crlf.sh, note.txt and run.sh (and the tar's end) one more
        Assert.EndsWith(" (files/pkgs/): 3 gzip members, 0 copied from the last build, 3 compressed", RootfsLine(log1, "(files/pkgs/)"));
        var config = ClusterImageReader.OpenLayout(first.LayoutPath).Platforms[0].Config;
        Assert.Contains(config.History!, h => h.CreatedBy == "sealer-sdk: rootfs files/pkgs/ (a layer of its own: 1 MiB or more)");
        Unpacks(first, "own-1");
        SkopeoCopies(first, "own-skopeo");

        // A chart edit: the packages' layer is taken as it is (not read: see below), the shared one made again; the image is
        // a full build's, and the archive keeps its place for the packages' layer (only the shared layer and what follows
        // it are written again).
        File.WriteAllText(_tmp.Sub("proj/charts/web/templates/deploy.yaml"), "kind: Deployment\nmetadata: {name: v2}\n");
        var log2 = new ListLogger();
        var second = await Build(spec, "own", log: log2);
        Assert.Contains("(files/pkgs/, 5 files, 18874421 bytes)", RootfsLine(log2, "taken as it is"));
        // its scripts are still checked for CRLF line endings (by name: a .sh), as when it was written
        Assert.Contains(log1.Lines, l => l.Contains(ErrorCodes.ScriptHasCrlf, StringComparison.Ordinal) && l.Contains("files/pkgs/crlf.sh", StringComparison.Ordinal));
        Assert.Contains(log2.Lines, l => l.Contains(ErrorCodes.ScriptHasCrlf, StringComparison.Ordinal) && l.Contains("files/pkgs/crlf.sh", StringComparison.Ordinal));
        Assert.Equal(layers[0].Digest, RootfsLayers(second)[0].Digest);
        Assert.NotEqual(layers[1].Digest, RootfsLayers(second)[1].Digest);
        var fresh = await Build(spec, "own-fresh");
        Assert.Equal(fresh.Descriptor.Digest, second.Descriptor.Digest);
        Assert.Equal(File.ReadAllBytes(fresh.ArchivePath!), File.ReadAllBytes(second.ArchivePath!));
        Assert.True(second.Archive!.BytesKept > layers[0].Size, $"kept {second.Archive.BytesKept} bytes of the archive");

        // Not read: a package rewritten with the same size and its old time put back is not seen (as MSBuild's own up-to-date
        // check would not see it); without the layer map (dotnet build --no-incremental cleans it) it is read.
        var time = File.GetLastWriteTimeUtc(_tmp.Sub("pkgs/b.bin"));
        byte[] b2 = System.Security.Cryptography.RandomNumberGenerator.GetBytes(6 << 20);
        File.WriteAllBytes(_tmp.Sub("pkgs/b.bin"), b2);
        File.SetLastWriteTimeUtc(_tmp.Sub("pkgs/b.bin"), time);
        var log3 = new ListLogger();
        Assert.Equal(second.Descriptor.Digest, (await Build(spec, "own", log: log3)).Descriptor.Digest);
        RootfsLine(log3, "(files/pkgs/, 5 files, 18874421 bytes): its files' sizes and times are the last build's, taken as it is");
        File.Delete(_tmp.Sub("obj/own.layers.json"));
        var log4 = new ListLogger();
        var fourth = await Build(spec, "own", log: log4);
        Assert.NotEqual(second.Descriptor.Digest, fourth.Descriptor.Digest);
        Assert.DoesNotContain(log4.Lines, l => l.Contains("taken as it is", StringComparison.Ordinal));
        Unpacks(fourth, "own-4");

        // Touched, same bytes: read again (its time moved), every member copied, the same layer.
        File.SetLastWriteTimeUtc(_tmp.Sub("pkgs/a.bin"), DateTime.UtcNow.AddMinutes(1));
        var log5 = new ListLogger();
        var fifth = await Build(spec, "own", log: log5);
        Assert.EndsWith(": 3 gzip members, 3 copied from the last build, 0 compressed", RootfsLine(log5, "(files/pkgs/)"));
        Assert.Equal(fourth.Descriptor.Digest, fifth.Descriptor.Digest);

        // One package changed: only its member is compressed again; the image is a full build's.
        File.WriteAllBytes(_tmp.Sub("pkgs/a.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(12 << 20));
        var log6 = new ListLogger();
        var sixth = await Build(spec, "own", log: log6);
        Assert.EndsWith(": 3 gzip members, 2 copied from the last build, 1 compressed", RootfsLine(log6, "(files/pkgs/)"));
        Assert.Equal((await Build(spec, "own-fresh6")).Descriptor.Digest, sixth.Descriptor.Digest);
        Unpacks(sixth, "own-6");

        // Made executable (a file git does not track: its own mode), size and time as they were: the mode is in the stamp
        // (from the same stat as its size and time), so the layer is written again, with the bit; a full build's image.
        string note = _tmp.Sub("pkgs/note.txt");
        var noteTime = File.GetLastWriteTimeUtc(note);
        File.SetUnixFileMode(note, File.GetUnixFileMode(note) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        Assert.Equal(noteTime, File.GetLastWriteTimeUtc(note));
        var log7 = new ListLogger();
        var seventh = await Build(spec, "own", log: log7);
        Assert.EndsWith(": 3 gzip members, 2 copied from the last build, 1 compressed", RootfsLine(log7, "(files/pkgs/)"));
        Assert.NotEqual(sixth.Descriptor.Digest, seventh.Descriptor.Digest);
        Assert.Equal((await Build(spec, "own-fresh7")).Descriptor.Digest, seventh.Descriptor.Digest);
        Unpacks(seventh, "own-7");
        Assert.True((File.GetUnixFileMode(Path.Combine(_tmp.Sub("own-7"), "rootfs/files/pkgs/note.txt")) & UnixFileMode.UserExecute) != 0);
        Assert.True((File.GetUnixFileMode(Path.Combine(_tmp.Sub("own-7"), "rootfs/files/pkgs/run.sh")) & UnixFileMode.UserExecute) == 0); // 0644 here
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(31, 1)]
    [InlineData(32, 2)]
    [InlineData(63, 2)]
    [InlineData(64, 4)]
    [InlineData(300, 16)]
    [InlineData(1023, 32)]
    [InlineData(5000, 64)]
    public void Small_folders_are_spread_over_a_power_of_two_of_shared_layers_by_their_count(int smallGroups, int layers)
        => Assert.Equal(layers, Sealer.Core.ClusterImage.RootfsLayers.SharedSlots(smallGroups));

    [Fact]
    public async Task Many_small_charts_share_several_layers_and_a_chart_edit_reads_and_changes_only_its_own()
    {
        // 40 small charts, the web chart, scripts/ and the top level (images.lock.json): 43 small groups, so two shared layers.
        var files = new List<RootfsEntry>(Spec().RootfsFiles);
        for (int i = 1; i <= 40; i++)
        {
            Directory.CreateDirectory(_tmp.Sub($"small/c{i}/templates"));
            File.WriteAllText(_tmp.Sub($"small/c{i}/Chart.yaml"), $"apiVersion: v2\nname: c{i}\nversion: 0.1.{i}\n");
            File.WriteAllText(_tmp.Sub($"small/c{i}/templates/cm.yaml"), $"kind: ConfigMap\nmetadata: {{name: c{i}}}\n");
            files.Add(new($"charts/c{i}/Chart.yaml", _tmp.Sub($"small/c{i}/Chart.yaml")));
            files.Add(new($"charts/c{i}/templates/cm.yaml", _tmp.Sub($"small/c{i}/templates/cm.yaml")));
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Destination, b.Destination));
        var spec = Spec() with { RootfsFiles = files };
        // Which shared layer each chart is in: the hash of its name picks it, whatever else the project holds.
        int slot3 = Sealer.Core.ClusterImage.RootfsLayers.SlotOf("charts/c3", 2);
        var parts = Sealer.Core.ClusterImage.RootfsLayers.Split(files);
        Assert.Equal([null, null], parts.Select(p => p.Group));
        Assert.Equal([0, 1], parts.Select(p => p.Slot));
        Assert.All(parts, p => Assert.NotEmpty(p.Entries));
        Assert.Contains(parts[slot3].Entries, e => e.Destination == "charts/c3/Chart.yaml");
        var withMore = Sealer.Core.ClusterImage.RootfsLayers.Split([.. files, new RootfsEntry("charts/zz/Chart.yaml", _tmp.Sub("small/c1/Chart.yaml"))]);
        for (int s = 0; s < 2; s++) // a chart added moves no other (the count stays under the next power of two)
            Assert.Equal(parts[s].Entries.Select(e => e.Destination), withMore[s].Entries.Select(e => e.Destination).Where(d => !d.StartsWith("charts/zz/", StringComparison.Ordinal)));

        var log1 = new ListLogger();
        var first = await Build(spec, "slots", log: log1);
        var layers = RootfsLayers(first);
        Assert.Equal(["1/2", "2/2"], layers.Select(l => l.GetAnnotation(ClusterImageFormat.RootfsPartAnnotation)));
        Assert.All(layers, l => Assert.Null(l.GetAnnotation(ClusterImageFormat.RootfsGroupAnnotation)));
        var history = ClusterImageReader.OpenLayout(first.LayoutPath).Platforms[0].Config.History!;
        Assert.Contains(history, h => h.CreatedBy == "sealer-sdk: rootfs (charts, manifests, apps, files, images.lock.json: part 2 of 2, by name)");
        RootfsLine(log1, "(the rest, part 1 of 2)");
        RootfsLine(log1, "(the rest, part 2 of 2)");
        SkopeoCopies(first, "slots-skopeo");

        // A chart edit: its layer is written again (one gzip member compressed, the others copied), the other one taken
        // unread; the image and the archive are a full build's, and umoci unpacks every file.
        File.AppendAllText(_tmp.Sub("small/c3/templates/cm.yaml"), "data: {edited: \"yes\"}\n");
        var log2 = new ListLogger();
        var second = await Build(spec, "slots", log: log2);
        var after = RootfsLayers(second);
        Assert.NotEqual(layers[slot3].Digest, after[slot3].Digest);
        Assert.Equal(layers[1 - slot3].Digest, after[1 - slot3].Digest);
        Assert.Contains($"(the rest, part {2 - slot3} of 2, ", RootfsLine(log2, "taken as it is"));
        Assert.Matches(@": (\d+) gzip members, \d+ copied from the last build, 1 compressed$", RootfsLine(log2, $"(the rest, part {slot3 + 1} of 2)"));
        var fresh = await Build(spec, "slots-fresh");
        Assert.Equal(fresh.Descriptor.Digest, second.Descriptor.Digest);
        Assert.Equal(File.ReadAllBytes(fresh.ArchivePath!), File.ReadAllBytes(second.ArchivePath!));
        UnpacksTo(second, "slots-bundle", files);
    }

    [Fact]
    public async Task A_rebuild_over_the_layout_keeps_it_whole_when_cancelled_and_then_holds_only_what_its_image_names()
    {
        var first = await Build(Spec(), "inplace", archive: false);
        string layout = first.LayoutPath, blobsDir = Path.Combine(layout, "blobs", "sha256");
        byte[] firstIndex = File.ReadAllBytes(Path.Combine(layout, "index.json"));
        string[] Blobs() => Directory.GetFiles(blobsDir).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        string[] Named()
        {
            var p = ClusterImageReader.OpenLayout(layout).Platforms[0];
            return p.Manifest.Layers.Select(l => l.Digest).Append(p.Manifest.Config.Digest).Append(p.ManifestDescriptor.Digest)
                .Select(d => d["sha256:".Length..]).Distinct().Order(StringComparer.Ordinal).ToArray();
        }
        void Valid()
        {
            string copy = _tmp.Sub($"copy-{Guid.NewGuid():N}");
            var (code, output) = Processes.RunCommandLine("skopeo", $"copy --quiet oci:{layout}:demo:1.0.0 dir:{copy}"); // reads and checks every blob
            Assert.True(code == 0, output);
        }
        Assert.Equal(Named(), Blobs());

        // Cancelled once the new rootfs layer is written: the old index.json and every blob it names are as they were.
        File.WriteAllText(_tmp.Sub("proj/charts/web/templates/deploy.yaml"), "kind: Deployment\nmetadata: {name: v2}\n");
        using var cts = new CancellationTokenSource();
        var cancelAtImages = new SyncProgress<AssemblyProgress>(p => { if (p.Stage == "images") cts.Cancel(); });
        var output = new ClusterImageOutput(layout, null, _tmp.Sub("obj/inplace.layers.json"));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ClusterImageBuilder().BuildAsync(Spec() with { Images = [_images[0]] }, output, cancelAtImages, cts.Token));
        Assert.Equal(firstIndex, File.ReadAllBytes(Path.Combine(layout, "index.json")));
        Assert.True(Blobs().Length > Named().Length, "the cancelled build's new rootfs layer is in the layout, not yet named");
        Assert.False(Directory.Exists(Path.Combine(layout, "ingest")));
        Valid();

        // The next build switches to its image and removes what nothing names: the old rootfs and registry layers, the
        // dropped image's blobs, the cancelled build's leftovers.
        var next = await new ClusterImageBuilder().BuildAsync(Spec() with { Images = [_images[0]] }, output);
        Assert.Equal(layout, next.LayoutPath);
        Assert.NotEqual(firstIndex, File.ReadAllBytes(Path.Combine(layout, "index.json")));
        Assert.Equal(Named(), Blobs());
        Assert.True(next.BlobsReused > 0, "image-blob layers the first build wrote are reused where they are");
        Valid();
        Assert.Equal((await Build(Spec() with { Images = [_images[0]] }, "inplace-fresh", archive: false)).Descriptor.Digest, next.Descriptor.Digest);
        Assert.Empty(Directory.GetFileSystemEntries(_tmp.Sub("out"), ".*")); // no temp directories beside it
    }

    [Fact]
    public void A_layer_map_written_before_image_parts_existed_is_read_with_none()
    {
        File.WriteAllText(_tmp.Sub("old.layers.json"), "{\"layers\":{\"sha256:aa\":{\"digest\":\"sha256:bb\",\"size\":3}}}");
        var map = JsonSerializer.Deserialize(File.ReadAllBytes(_tmp.Sub("old.layers.json")), ClusterImageJsonContext.Default.LayerMapFile)!;
        Assert.Single(map.Layers);
        Assert.NotNull(map.ImageParts);
        Assert.Empty(map.ImageParts);
    }

    [Fact]
    public async Task Bad_rootfs_paths_and_launch_conflicts_are_coded_input_errors()
    {
        var ex = await Assert.ThrowsAsync<SealerException>(() => Build(Spec() with { RootfsFiles = [new RootfsEntry("../etc/passwd", Content: [1])] }, "bad"));
        Assert.Equal(ErrorCodes.InvalidRootfsPath, ex.Code);
        ex = await Assert.ThrowsAsync<SealerException>(() => Build(Spec() with { Cmds = ["kubectl get nodes"] }, "bad"));
        Assert.Equal(ErrorCodes.LaunchAndCmdsBothSet, ex.Code);
        ex = await Assert.ThrowsAsync<SealerException>(() => Build(Spec() with { Launch = ["nope"] }, "bad"));
        Assert.Equal(ErrorCodes.UnknownApp, ex.Code);
        Assert.False(Directory.Exists(_tmp.Sub("out/bad")));
    }

    [Fact]
    public async Task A_child_of_a_base_image_keeps_its_layers_and_merges_its_images()
    {
        var parent = await Build(Spec() with { Images = [_images[1]] }, "parent", archive: false);
        var parentLayout = OciLayout.Open(parent.LayoutPath);
        var parentManifest = ClusterImageReader.OpenLayout(parent.LayoutPath).Platforms[0].Manifest;
        var child = await Build(Spec() with
        {
            BaseImage = new BaseImage("registry.example/parent:1", parentLayout, parent.Descriptor),
            Images = [_images[0]],
            RootfsFiles = [new RootfsEntry("etc/child.conf", Content: "x=1\n"u8.ToArray())],
            Apps = [],
            Launch = ["web"], // defined by the parent
        }, "child");
        var reader = ClusterImageReader.OpenLayout(child.LayoutPath);
        var p = reader.Platforms[0];
        Assert.Equal(parentManifest.Layers.Select(l => l.Digest), p.Manifest.Layers.Take(parentManifest.Layers.Count).Select(l => l.Digest));
        Assert.Equal(["docker.io/library/nginx:1.27", "quay.io/demo/app:2"], reader.ImageReferences());
        // The shared base layer blob is in the parent already: the child does not add it again.
        Assert.Equal(p.Manifest.Layers.Count, p.Manifest.Layers.Select(l => l.Digest).Distinct().Count());
        Assert.Equal("registry.example/parent:1", p.Manifest.Annotations![Sealer.Core.Oci.Annotations.BaseName]);
        Assert.Equal("web", Assert.Single(p.Apps).Name);
        string bundle = _tmp.Sub("child-bundle");
        var (code, output) = Processes.RunCommandLine("umoci", $"unpack --rootless --image {child.LayoutPath}:demo:1.0.0 {bundle}");
        Assert.True(code == 0, output);
        (code, output) = Processes.RunCommandLine("skopeo", $"inspect --override-arch amd64 oci:{bundle}/rootfs/registry:quay.io/demo/app:2");
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task A_child_keeps_the_base_type_and_builds_from_the_platforms_of_a_multi_platform_base_that_were_pulled()
    {
        var labels = new Dictionary<string, string> { [ClusterImageLabels.ClusterRuntimeType] = "kubernetes" };
        var parent = await Build(Spec("linux/amd64", "linux/arm64") with { Labels = labels }, "kparent", archive: false);
        var parentReader = ClusterImageReader.OpenLayout(parent.LayoutPath);
        Assert.Equal(SealerImageExtension.KubeInstaller, parentReader.Platforms[0].Extension!.Type);
        // the image cache holds only the platforms a build pulled: drop the arm64 manifest, as a pull for linux/amd64 leaves it
        var parentLayout = OciLayout.Open(parent.LayoutPath);
        File.Delete(parentLayout.BlobPath(parentReader.Platforms[1].ManifestDescriptor.ParsedDigest));

        var childSpec = Spec() with
        {
            BaseImage = new BaseImage("registry.example/kparent:1", parentLayout, parent.Descriptor),
            Images = [],
            Labels = new Dictionary<string, string>(),
            Apps = [],
            Launch = [],
        };
        var child = await Build(childSpec, "kchild");
        var p = Assert.Single(ClusterImageReader.OpenLayout(child.LayoutPath).Platforms);
        Assert.Equal(SealerImageExtension.KubeInstaller, p.Extension!.Type); // the base's lifecycle (kubeadm) is kept
        Assert.Equal(["web"], p.Extension.Launch.AppNames!);
        var app = await Build(childSpec with { ImageType = SealerImageExtension.AppInstaller }, "kchild-app");
        Assert.Equal(SealerImageExtension.AppInstaller, ClusterImageReader.OpenLayout(app.LayoutPath).Platforms[0].Extension!.Type);

        var ex = await Assert.ThrowsAsync<SealerException>(() => Build(childSpec with { Platforms = [Platform.Parse("linux/arm64")] }, "kchild-arm"));
        Assert.Equal(ErrorCodes.BaseImagePlatformMissing, ex.Code);
    }
}
