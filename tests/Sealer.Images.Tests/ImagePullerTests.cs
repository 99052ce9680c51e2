using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Images;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Images.Tests;

[Collection(RegistryCollection.Name)]
public class ImagePullerTests(RegistryFixture fixture)
{
    private TestEnvironment Env => fixture.Env;

    private readonly string _agent = TestRegistries.NewAgent();

    private IReadOnlyList<string> Requests(string registry, long mark) => Env.RequestsSince(registry, mark, _agent);

    private static readonly Platform Amd64 = Platform.Parse("linux/amd64");
    private static readonly Platform Arm64 = Platform.Parse("linux/arm64");

    private async Task<PullResult> Pull(OciLayout cache, IReadOnlyList<ImageRequest> requests, Action<PullOptions>? configure = null, RegistryClient? client = null)
    {
        var options = new PullOptions { Platforms = [Amd64], Registry = TestRegistries.Options(Env, userAgent: _agent) };
        configure?.Invoke(options);
        var puller = new ImagePuller(cache, client);
        return await puller.PullAsync(requests, options);
    }

    private static void AssertComplete(OciLayout cache, FixtureImage img, params string[] platforms)
    {
        var entry = cache.FindRef(img.Reference);
        Assert.NotNull(entry);
        Assert.Equal(img.Digest, entry!.Digest);
        Assert.Equal(img.MediaType, entry.MediaType);
        Assert.True(cache.HasBlob(entry.ParsedDigest, entry.Size));
        foreach (var p in platforms)
        {
            var md = Digest.Parse(img.Platforms[p]);
            var manifest = OciJsonContext.FromBytes(cache.ReadBlobBytes(md), OciJsonContext.Default.ImageManifest, "m");
            Assert.True(cache.HasBlob(manifest.Config));
            foreach (var l in manifest.Layers) Assert.True(cache.HasBlob(l), $"{img.Reference} {p}: layer {l.Digest} missing");
        }
    }

    [RegistryFact]
    public async Task Pulls_an_OCI_multi_platform_index_for_two_platforms()
    {
        using var cache = TestRegistries.NewCache();
        var nginx = Env.Image("nginx");
        var result = await Pull(cache.Layout, TestRegistries.Requests("nginx:1.27"), o => o.Platforms = [Amd64, Arm64]);
        AssertComplete(cache.Layout, nginx, "linux/amd64", "linux/arm64");
        var locked = Assert.Single(result.Lock.Images);
        Assert.Equal("docker.io/library/nginx:1.27", locked.Reference);
        Assert.Equal(nginx.Digest, locked.Digest);
        Assert.Equal(MediaTypes.OciIndex, locked.MediaType);
        Assert.Equal(nginx.Platforms["linux/amd64"], locked.Platforms["linux/amd64"]);
        Assert.Equal(nginx.Platforms["linux/arm64"], locked.Platforms["linux/arm64"]);
        Assert.Equal(new ImageSource("app.kubeproj", 10), Assert.Single(locked.Sources));
        Assert.True(result.BytesDownloaded >= nginx.TotalSize - 10_000);
    }

    [RegistryFact]
    public async Task Pulls_only_the_wanted_platform_of_a_Docker_manifest_list()
    {
        using var cache = TestRegistries.NewCache();
        var redis = Env.Image("redis");
        var result = await Pull(cache.Layout, TestRegistries.Requests(redis.Reference));
        AssertComplete(cache.Layout, redis, "linux/amd64");
        Assert.Equal(MediaTypes.DockerManifestList, result.Lock.Images[0].MediaType);
        Assert.Equal(["linux/amd64"], result.Lock.Images[0].Platforms.Keys);
        Assert.False(cache.Layout.HasBlob(Digest.Parse(redis.Platforms["linux/arm64"])));
    }

    [RegistryFact]
    public async Task Pulls_Docker_schema2_and_OCI_single_manifests_from_several_registries_and_skopeo_and_umoci_accept_the_cache()
    {
        using var cache = TestRegistries.NewCache();
        var ids = new[] { "bitnami-redis", "busybox", "pause", "node-exporter", "kube-apiserver", "coredns", "etcd" };
        var imgs = ids.Select(Env.Image).ToList();
        var result = await Pull(cache.Layout, TestRegistries.Requests(imgs.Select(i => i.Reference).ToArray()));
        foreach (var img in imgs) AssertComplete(cache.Layout, img, "linux/amd64");
        Assert.Equal(MediaTypes.DockerManifest, result.Lock.Find("docker.io/bitnami/redis:7.2")!.MediaType);
        Assert.Equal(MediaTypes.OciManifest, result.Lock.Find("docker.io/library/busybox:1.36")!.MediaType);

        // Every blob file is a config or layer downloaded once, or one of the 7 roots and 5 per-platform manifests.
        Assert.Equal(result.BlobsDownloaded + 12, Directory.GetFiles(Path.Combine(cache.Root, "blobs", "sha256")).Length);
        Assert.Equal(0, result.BlobsCached);

        // skopeo's oci: transport only looks at index.json entries with OCI media types; the cache keeps what the registry
        // served (Docker types included, so digests stay the same), so skopeo checks the OCI ones and umoci all of them.
        foreach (var img in imgs.Where(i => i.MediaType.Contains(".oci.", StringComparison.Ordinal)))
        {
            var (code, output) = Processes.Run("skopeo", "inspect", $"oci:{cache.Root}:{img.Reference}");
            Assert.True(code == 0, $"skopeo inspect {img.Reference}: {output}");
            Assert.Contains("\"Architecture\": \"amd64\"", output);
        }
        var (ucode, uout) = Processes.Run("umoci", "ls", "--layout", cache.Root);
        Assert.True(ucode == 0, uout);
        foreach (var img in imgs) Assert.Contains(img.Reference, uout);
        string bundle = Path.Combine(cache.Root, "..", Guid.NewGuid().ToString("N"));
        var (bcode, bout) = Processes.Run("umoci", "unpack", "--rootless", "--image", $"{cache.Root}:docker.io/library/busybox:1.36", bundle);
        try
        {
            Assert.True(bcode == 0, bout);
            Assert.True(File.Exists(Path.Combine(bundle, "rootfs", "usr", "bin", "busybox")));
        }
        finally
        {
            try { Directory.Delete(bundle, true); } catch (IOException) { }
        }
    }

    [RegistryFact]
    public async Task A_blob_shared_by_images_on_different_registries_is_downloaded_once()
    {
        using var cache = TestRegistries.NewCache();
        var a = Env.Image("node-exporter");
        var b = Env.Image("kube-apiserver");
        var c = Env.Image("redis");
        var shared = a.Blobs.Select(x => x.Digest).Intersect(b.Blobs.Select(x => x.Digest)).Intersect(c.Blobs.Select(x => x.Digest)).ToList();
        Assert.NotEmpty(shared);
        var marks = new[] { "quay.io", "registry.k8s.io", "docker.io" }.ToDictionary(k => k, Env.LogMark);
        await Pull(cache.Layout, TestRegistries.Requests(a.Reference, b.Reference, c.Reference), o => o.Platforms = [Amd64, Arm64]);
        var blobGets = marks.SelectMany(m => Requests(m.Key, m.Value)).Where(l => l.Contains("\"GET /v2/", StringComparison.Ordinal) && l.Contains("/blobs/", StringComparison.Ordinal)).ToList();
        foreach (var d in shared) Assert.Single(blobGets, l => l.Contains(d, StringComparison.Ordinal));
        Assert.Equal(blobGets.Count, blobGets.Distinct().Count());
    }

    [RegistryFact]
    public async Task A_missing_platform_is_a_coded_error_naming_the_image_and_its_source()
    {
        using var cache = TestRegistries.NewCache();
        var img = Env.Image("amd64-only");
        var req = new ImageRequest(ImageReference.Parse(img.Reference), [new ImageSource("charts/app/templates/deploy.yaml", 42, "app chart")]);
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache.Layout, [req], o => o.Platforms = [Amd64, Arm64]));
        Assert.Equal(ErrorCodes.PlatformNotAvailable, ex.Code);
        Assert.Equal("charts/app/templates/deploy.yaml", ex.File);
        Assert.Equal(42, ex.Line);
        Assert.Contains(img.Reference, ex.Message);
        Assert.Contains("linux/arm64", ex.Message);
        Assert.Null(cache.Layout.FindRef(img.Reference));

        var single = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache.Layout, TestRegistries.Requests(Env.Image("busybox").Reference), o => o.Platforms = [Arm64]));
        Assert.Equal(ErrorCodes.PlatformNotAvailable, single.Code);
        Assert.Contains("single-platform image for linux/amd64", single.Message);
    }

    [RegistryFact]
    public async Task An_unknown_tag_is_a_coded_error_with_the_registry_message_and_every_failure_is_reported()
    {
        using var cache = TestRegistries.NewCache();
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache.Layout,
            [new ImageRequest(ImageReference.Parse("nginx:0.0-missing"), [new ImageSource("values.yaml", 7)]),
             new ImageRequest(ImageReference.Parse("quay.io/nobody/nothing:1"), [new ImageSource("images.txt", 3)]),
             new ImageRequest(ImageReference.Parse(Env.Image("pause").Reference), [new ImageSource("images.txt", 4)])]));
        Assert.Equal(2, ex.Errors.Count);
        var tag = ex.Errors.Single(e => e.File == "values.yaml");
        Assert.Equal(ErrorCodes.ImageNotFound, tag.Code);
        Assert.Equal(7, tag.Line);
        Assert.Contains("docker.io/library/nginx:0.0-missing", tag.Message);
        Assert.Contains("MANIFEST_UNKNOWN", tag.Message);
        var repo = ex.Errors.Single(e => e.File == "images.txt");
        Assert.Equal(ErrorCodes.ImageNotFound, repo.Code);
        Assert.Contains("unknown", repo.Message, StringComparison.OrdinalIgnoreCase);
        // The good image was still pulled.
        Assert.NotNull(cache.Layout.FindRef(Env.Image("pause").Reference));
    }

    [RegistryFact]
    public async Task A_warm_pull_with_the_lock_makes_no_request_at_all()
    {
        using var cache = TestRegistries.NewCache();
        var refs = new[] { "nginx", "redis", "pause", "private-app", "token-secure" }.Select(i => Env.Image(i).Reference).ToArray();
        var first = await Pull(cache.Layout, TestRegistries.Requests(refs), o => o.Platforms = [Amd64, Arm64]);
        Assert.True(first.NetworkRequests > 0);
        string lockPath = Path.Combine(cache.Root, "..", Guid.NewGuid().ToString("N") + ".lock.json");
        first.Lock.Write(lockPath);
        try
        {
            var marks = Env.File.Registries.Keys.ToDictionary(k => k, Env.LogMark);
            var tokens0 = await TokenCount();
            var again = await Pull(cache.Layout, TestRegistries.Requests(refs), o => { o.Platforms = [Amd64, Arm64]; o.Lock = ImagesLock.Read(lockPath); });
            Assert.Equal(0, again.NetworkRequests);
            Assert.Equal(0, again.BytesDownloaded);
            foreach (var m in marks) Assert.Empty(Requests(m.Key, m.Value));
            Assert.Equal(tokens0, await TokenCount());
            Assert.Equal(first.Lock.ToJson(), again.Lock.ToJson());
            Assert.Equal(File.ReadAllText(lockPath), again.Lock.ToJson());

            // Refresh re-resolves tags (and finds them unchanged), but downloads nothing.
            var refreshed = await Pull(cache.Layout, TestRegistries.Requests(refs), o => { o.Platforms = [Amd64, Arm64]; o.Lock = ImagesLock.Read(lockPath); o.Refresh = true; });
            Assert.True(refreshed.NetworkRequests >= refs.Length);
            Assert.Equal(0, refreshed.BlobsDownloaded);
            Assert.Equal(first.Lock.ToJson(), refreshed.Lock.ToJson());
        }
        finally
        {
            File.Delete(lockPath);
        }
    }

    [RegistryFact]
    public async Task A_locked_tag_is_not_resolved_again_and_a_digest_reference_never_is()
    {
        using var cache = TestRegistries.NewCache();
        var busybox = Env.Image("busybox");
        var pinned = $"{busybox.Reference.Split(':')[0]}:{busybox.Tag}@{busybox.Digest}";
        string dockerio = "docker.io";
        long mark = Env.LogMark(dockerio);
        var result = await Pull(cache.Layout, TestRegistries.Requests(pinned));
        var lines = Requests(dockerio, mark);
        Assert.DoesNotContain(lines, l => l.Contains($"/manifests/{busybox.Tag} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"/manifests/{busybox.Digest}", StringComparison.Ordinal));
        Assert.Equal(busybox.Digest, result.Lock.Images[0].Digest);
        Assert.NotNull(cache.Layout.FindRef(ImageReference.Parse(pinned).ToString()));

        // A lock that says a tag is some digest is believed (no tag lookup): the manifest is fetched by digest.
        using var cache2 = TestRegistries.NewCache();
        var locked = new ImagesLock([new LockedImage(busybox.Reference, busybox.Digest, busybox.MediaType, new Dictionary<string, string> { ["linux/amd64"] = busybox.Digest }, [])]);
        mark = Env.LogMark(dockerio);
        await Pull(cache2.Layout, TestRegistries.Requests(busybox.Reference), o => o.Lock = locked);
        lines = Requests(dockerio, mark);
        Assert.DoesNotContain(lines, l => l.Contains($"/manifests/{busybox.Tag} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"/manifests/{busybox.Digest}", StringComparison.Ordinal));
    }

    [RegistryFact]
    public async Task A_corrupt_blob_is_rejected_and_nothing_of_it_stays_in_the_cache()
    {
        using var cache = TestRegistries.NewCache();
        var img = Env.Image("corrupt");
        Assert.NotNull(img.CorruptBlob);
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache.Layout, TestRegistries.Requests(img.Reference)));
        Assert.Equal(ErrorCodes.DigestMismatch, ex.Code);
        Assert.Contains(img.Reference, ex.Message);
        Assert.Contains(img.CorruptBlob!, ex.Message);
        Assert.Equal("app.kubeproj", ex.File);
        Assert.False(cache.Layout.HasBlob(Digest.Parse(img.CorruptBlob!)));
        Assert.Null(cache.Layout.FindRef(img.Reference));
        Assert.False(cache.Layout.HasBlob(Digest.Parse(img.Digest)));
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(cache.Root, "ingest")), f => new FileInfo(f).Length > 0);
    }

    [RegistryFact]
    public async Task Two_pulls_into_the_same_cache_at_once_both_succeed()
    {
        using var cache = TestRegistries.NewCache();
        var refs = new[] { "nginx", "redis", "node-exporter", "kube-apiserver" }.Select(i => Env.Image(i).Reference).ToArray();
        var second = OciLayout.Open(cache.Root);
        var t1 = Pull(cache.Layout, TestRegistries.Requests(refs), o => o.Platforms = [Amd64, Arm64]);
        var t2 = Pull(second, TestRegistries.Requests(refs.Reverse().ToArray()), o => o.Platforms = [Amd64, Arm64]);
        var results = await Task.WhenAll(t1, t2);
        Assert.Equal(results[0].Lock.Images.Select(i => (i.Reference, i.Digest)), results[1].Lock.Images.Select(i => (i.Reference, i.Digest)));
        foreach (var id in new[] { "nginx", "redis", "node-exporter", "kube-apiserver" }) AssertComplete(cache.Layout, Env.Image(id), "linux/amd64", "linux/arm64");
        Assert.Equal(4, cache.Layout.ReadIndex().Manifests.Count);
        foreach (var f in Directory.GetFiles(Path.Combine(cache.Root, "blobs", "sha256")))
        {
            Assert.True(await cache.Layout.VerifyBlobAsync(Digest.Parse("sha256:" + Path.GetFileName(f))), f);
        }
    }

    [RegistryFact]
    public async Task Progress_reports_images_blobs_and_bytes_and_cancellation_leaves_no_partial_blob()
    {
        using var cache = TestRegistries.NewCache();
        var nginx = Env.Image("nginx");
        var reports = new List<PullProgress>();
        var progress = new SyncProgress<PullProgress>(p => { lock (reports) reports.Add(p); });
        var puller = new ImagePuller(cache.Layout);
        await puller.PullAsync(TestRegistries.Requests(nginx.Reference), new PullOptions { Platforms = [Amd64], Registry = TestRegistries.Options(Env, userAgent: _agent) }, progress);
        var last = reports[^1];
        Assert.Equal(1, last.ImagesTotal);
        Assert.Equal(1, last.ImagesDone);
        Assert.Equal(last.BlobsTotal, last.BlobsDone);
        Assert.Equal(last.BytesTotal, last.BytesDone);
        Assert.True(last.BytesTotal > 3_000_000);

        using var cache2 = TestRegistries.NewCache();
        using var cts = new CancellationTokenSource();
        var cancelling = new SyncProgress<PullProgress>(p => cts.Cancel());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ImagePuller(cache2.Layout).PullAsync(TestRegistries.Requests(nginx.Reference),
            new PullOptions { Platforms = [Amd64], Registry = TestRegistries.Options(Env, userAgent: _agent) }, cancelling, cts.Token));
        foreach (var f in Directory.GetFiles(Path.Combine(cache2.Root, "blobs", "sha256")))
        {
            Assert.True(await cache2.Layout.VerifyBlobAsync(Digest.Parse("sha256:" + Path.GetFileName(f))), f);
        }
        Assert.Null(cache2.Layout.FindRef(nginx.Reference));
    }

    [RegistryFact]
    public async Task Index_json_is_written_once_for_many_images_and_a_cancelled_pull_names_the_images_it_completed()
    {
        var ids = new[] { "bitnami-redis", "busybox", "pause", "node-exporter", "kube-apiserver", "coredns", "etcd" };
        var refs = ids.Select(i => Env.Image(i).Reference).ToArray();
        using var cache = TestRegistries.NewCache();
        int writes = 0;
        using (var watcher = new FileSystemWatcher(cache.Root, "index.json") { EnableRaisingEvents = true })
        {
            // AtomicFile: a temp file under ingest/ renamed over it (inotify's moved-to: Created here)
            watcher.Created += (_, _) => Interlocked.Increment(ref writes);
            watcher.Renamed += (_, _) => Interlocked.Increment(ref writes);
            await Pull(cache.Layout, TestRegistries.Requests(refs));
            await Task.Delay(300); // the watcher's events arrive on their own thread
        }
        foreach (var id in ids) AssertComplete(cache.Layout, Env.Image(id), "linux/amd64");
        // one update for the 7 images (a second when the pull took over the 2 s between updates), not one per image
        Assert.InRange(writes, 1, 2);

        // Cancelled once two images are complete: index.json names those (and only complete images), nothing else.
        using var cache2 = TestRegistries.NewCache();
        using var cts = new CancellationTokenSource();
        var cancelling = new SyncProgress<PullProgress>(p => { if (p.ImagesDone >= 2) cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ImagePuller(cache2.Layout).PullAsync(TestRegistries.Requests(refs),
            new PullOptions { Platforms = [Amd64], Registry = TestRegistries.Options(Env, userAgent: _agent), MaxConcurrentImages = 1 }, cancelling, cts.Token));
        var named = cache2.Layout.ReadIndex().Manifests.Select(d => d.GetAnnotation(Annotations.RefName)!).ToList();
        Assert.InRange(named.Count, 2, ids.Length - 1);
        foreach (var name in named) AssertComplete(cache2.Layout, Env.Image(ids[Array.IndexOf(refs, name)]), "linux/amd64");
    }

    [RegistryFact]
    public async Task An_offline_pull_uses_only_the_lock_and_cache_and_names_what_is_missing()
    {
        using var cache = TestRegistries.NewCache();
        var pause = Env.Image("pause");
        var first = await Pull(cache.Layout, TestRegistries.Requests(pause.Reference));
        var offline = await Pull(cache.Layout, TestRegistries.Requests(pause.Reference), o => { o.Lock = first.Lock; o.Offline = true; });
        Assert.Equal(0, offline.NetworkRequests);
        var noLock = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache.Layout, TestRegistries.Requests(pause.Reference), o => o.Offline = true));
        Assert.Equal(ErrorCodes.OfflineContentMissing, noLock.Code);
        var newPlatform = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache.Layout, TestRegistries.Requests(pause.Reference), o => { o.Lock = first.Lock; o.Offline = true; o.Platforms = [Amd64, Arm64]; }));
        Assert.Equal(ErrorCodes.OfflineContentMissing, newPlatform.Code);
        Assert.Contains(pause.Platforms["linux/arm64"], newPlatform.Message);
    }

    [TmpfsFact]
    public async Task A_full_disk_is_a_coded_error_and_leaves_no_blob_half_written()
    {
        using var disk = new Tmpfs("1m");
        var cache = OciLayout.OpenOrCreate(Path.Combine(disk.Root, "cache"));
        var nginx = Env.Image("nginx");
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache, TestRegistries.Requests(nginx.Reference)));
        Assert.Equal(ErrorCodes.DiskWriteFailed, ex.Code);
        Assert.Contains(nginx.Reference, ex.Message);
        Assert.Contains("Free some space", ex.Message);
        Assert.Equal("app.kubeproj", ex.File);
        Assert.Null(cache.FindRef(nginx.Reference));
        foreach (var f in Directory.GetFiles(Path.Combine(cache.Root, "blobs", "sha256")))
        {
            Assert.True(await cache.VerifyBlobAsync(Digest.Parse("sha256:" + Path.GetFileName(f))), f);
        }
    }

    /// <summary>A full disk stops the whole pull: the images after the one that met it are not downloaded (they would only
    /// meet it too) and are one error listing them. The disk is full from the start and one blob is written at a time, so
    /// exactly one image meets it.</summary>
    [TmpfsFact]
    public async Task A_full_disk_stops_the_pull_and_the_images_not_pulled_are_one_error()
    {
        using var disk = new Tmpfs("1m");
        var cache = OciLayout.OpenOrCreate(Path.Combine(disk.Root, "cache"));
        Directory.CreateDirectory(Path.Combine(cache.Root, "ingest"));
        disk.Fill();
        string[] refs = [.. new[] { "nginx", "pause", "node-exporter", "redis", "busybox" }.Select(n => Env.Image(n).Reference)];
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache, TestRegistries.Requests(refs), o => { o.MaxConcurrentImages = 1; o.MaxConcurrentBlobs = 1; }));
        Assert.All(ex.Errors, e => Assert.Equal(ErrorCodes.DiskWriteFailed, e.Code));
        Assert.True(ex.Errors.Count == 2, string.Join("\n", ex.Errors.Select(e => e.Message)));
        string met = Assert.Single(refs, r => ex.Errors[0].Message.Contains(r, StringComparison.Ordinal));
        var summary = ex.Errors[1];
        Assert.StartsWith("4 images were not pulled: the disk under ", summary.Message, StringComparison.Ordinal);
        foreach (var r in refs.Where(r => r != met)) Assert.Contains(r, summary.Message);
        Assert.Equal("app.kubeproj", summary.File);
        Assert.All(refs, r => Assert.Null(cache.FindRef(r)));
    }

    [Fact]
    public void The_lock_round_trips_as_stable_sorted_json()
    {
        string d1 = "sha256:" + new string('1', 64), d2 = "sha256:" + new string('2', 64);
        var a = new ImagesLock([
            new LockedImage("quay.io/b/c:1", d2, MediaTypes.OciManifest, new Dictionary<string, string> { ["linux/arm64"] = d2, ["linux/amd64"] = d1 }, [new ImageSource("z.yaml", 2), new ImageSource("a.yaml", 9, "tpl")]),
            new LockedImage("docker.io/library/a:1", d1, MediaTypes.OciIndex, new Dictionary<string, string> { ["linux/amd64"] = d1 }, []),
        ]);
        string path = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".json");
        try
        {
            a.Write(path);
            var b = ImagesLock.Read(path);
            Assert.Equal(File.ReadAllText(path), b.ToJson());
            Assert.Equal("docker.io/library/a:1", b.Images[0].Reference);
            Assert.Equal(["linux/amd64", "linux/arm64"], b.Images[1].Platforms.Keys);
            Assert.Equal("a.yaml", b.Images[1].Sources[0].File);
            Assert.Equal("tpl", b.Images[1].Sources[0].Detail);
            Assert.Empty(ImagesLock.Read(path + ".missing").Images);
            File.WriteAllText(path, "{\"version\": 1, \"images\": [ {\"reference\": \"x\"");
            var ex = Assert.Throws<SealerException>(() => ImagesLock.Read(path));
            Assert.Equal(ErrorCodes.ImagesLockInvalid, ex.Code);
            Assert.Equal(path, ex.File);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private async Task<long> TokenCount()
    {
        using var http = new HttpClient();
        var json = await http.GetStringAsync(Env.Registry("token").TokenStats + "?agent=" + Uri.EscapeDataString(_agent));
        return System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("tokens").GetInt64();
    }
}
