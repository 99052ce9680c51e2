using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Auth;
using Sealer.Core.Images;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Distribution.Tests.Distribution;

[Collection(RegistryCollection.Name)]
public class MirrorAndFaultTests(RegistryFixture fixture)
{
    private TestEnvironment Env => fixture.Env;

    private readonly string _agent = TestRegistries.NewAgent();

    private static readonly Platform Amd64 = Platform.Parse("linux/amd64");

    private RegistryOptions DockerIoVia(params string[] endpoints)
    {
        var o = TestRegistries.Options(Env, userAgent: _agent);
        var fresh = new RegistryOptions { UserAgent = o.UserAgent, FallbackToSource = false, MaxAttempts = o.MaxAttempts, RetryBaseDelay = o.RetryBaseDelay, RequestTimeout = o.RequestTimeout, StallTimeout = o.StallTimeout, Credentials = o.Credentials };
        foreach (var e in endpoints) fresh.AddMirror("docker.io", e);
        return fresh;
    }

    private static Task<PullResult> Pull(TempCache cache, RegistryOptions options, params string[] refs)
        => new ImagePuller(cache.Layout).PullAsync(TestRegistries.Requests(refs), new PullOptions { Platforms = [Amd64], Registry = options });

    [RegistryFact]
    public async Task Mirrors_are_tried_first_and_the_next_endpoint_serves_what_a_mirror_lacks()
    {
        using var cache = TestRegistries.NewCache();
        var options = DockerIoVia(Env.Registry("mirror").Url, Env.Registry("docker.io").Url);
        long m0 = Env.LogMark("mirror"), d0 = Env.LogMark("docker.io");
        await Pull(cache, options, "nginx:1.27");
        var mirrorLines = Env.RequestsSince("mirror", m0, _agent);
        Assert.Contains(mirrorLines, l => l.Contains("/v2/library/nginx/manifests/1.27?ns=docker.io", StringComparison.Ordinal) && l.Contains("\" 200 ", StringComparison.Ordinal));
        Assert.Empty(Env.RequestsSince("docker.io", d0, _agent));

        m0 = Env.LogMark("mirror");
        d0 = Env.LogMark("docker.io");
        await Pull(cache, options, "busybox:1.36");
        Assert.Contains(Env.RequestsSince("mirror", m0, _agent), l => l.Contains("/v2/library/busybox/manifests/1.36", StringComparison.Ordinal) && l.Contains("\" 404 ", StringComparison.Ordinal));
        Assert.Contains(Env.RequestsSince("docker.io", d0, _agent), l => l.Contains("/v2/library/busybox/manifests/1.36", StringComparison.Ordinal) && l.Contains("\" 200 ", StringComparison.Ordinal));
        Assert.NotNull(cache.Layout.FindRef("docker.io/library/busybox:1.36"));
    }

    [RegistryFact]
    public async Task An_unreachable_mirror_falls_back_and_an_unreachable_registry_is_a_coded_error()
    {
        using var cache = TestRegistries.NewCache();
        await Pull(cache, DockerIoVia("http://127.0.0.1:9", Env.Registry("docker.io").Url), "busybox:1.36");
        Assert.NotNull(cache.Layout.FindRef("docker.io/library/busybox:1.36"));

        var ex = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache, DockerIoVia("http://127.0.0.1:9"), "pause:1"));
        Assert.Equal(ErrorCodes.RegistryUnreachable, ex.Code);
        Assert.Contains("docker.io/library/pause:1", ex.Message);
        Assert.Equal("app.kubeproj", ex.File);
        Assert.Equal(10, ex.Line);
    }

    [RegistryFact]
    public async Task A_TLS_failure_is_a_coded_error()
    {
        using var cache = TestRegistries.NewCache();
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache, DockerIoVia("https://" + Env.Registry("docker.io").Address), "busybox:1.36"));
        Assert.Equal(ErrorCodes.TlsFailure, ex.Code);
        Assert.Contains("CA certificate", ex.Message);
    }

    [RegistryFact]
    public async Task A_loopback_registry_over_https_is_found_and_an_untrusted_certificate_is_refused_where_it_must_be_verified()
    {
        var img = Env.Image("tls-busybox");
        var tls = Env.Registry("tls");
        Assert.StartsWith("https://", tls.Url);
        using var cache = TestRegistries.NewCache();
        // No scheme given for a loopback host: plain HTTP meets TLS, so https (unverified, as Docker does for loopback) is used.
        var result = await Pull(cache, TestRegistries.Options(Env, userAgent: _agent), img.Reference);
        Assert.Equal(img.Digest, result.Lock.Images[0].Digest);
        Assert.Contains(Env.RequestsSince("tls", 0, _agent), l => l.Contains($"/manifests/{img.Tag}", StringComparison.Ordinal) && l.Contains("\" 200 ", StringComparison.Ordinal));

        // An explicit https endpoint is verified: the self-signed certificate is refused.
        using var cache2 = TestRegistries.NewCache();
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache2, DockerIoVia(tls.Url), "busybox:1.36"));
        Assert.Equal(ErrorCodes.TlsFailure, ex.Code);
        Assert.Contains("SEALER_INSECURE_REGISTRIES", ex.Message);
        var insecure = DockerIoVia(tls.Url);
        insecure.AddInsecureRegistry(tls.Address);
        await Pull(cache2, insecure, "busybox:1.36");
        Assert.NotNull(cache2.Layout.FindRef("docker.io/library/busybox:1.36"));
    }

    [RegistryFact]
    public async Task An_untrusted_certificate_is_one_handshake_and_the_hosts_other_images_are_one_error()
    {
        var tls = Env.Registry("tls");
        using var cache = TestRegistries.NewCache();
        string[] refs = ["busybox:1.36", "nginx:1.27", "redis:7.4", "pause:3.9"];
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => new ImagePuller(cache.Layout).PullAsync(TestRegistries.Requests(refs),
            new PullOptions { Platforms = [Amd64], Registry = DockerIoVia(tls.Url), MaxConcurrentImages = 1 }));
        Assert.All(ex.Errors, e => Assert.Equal(ErrorCodes.TlsFailure, e.Code));
        Assert.Equal(2, ex.Errors.Count);
        Assert.Contains("CA certificate", ex.Errors[0].Message);
        Assert.StartsWith($"3 images were not tried at {tls.Url}", ex.Errors[1].Message, StringComparison.Ordinal);
        // whichever of the four took the one-at-a-time gate first met the certificate
        string met = Assert.Single(refs, r => ex.Errors[0].Message.StartsWith("docker.io/library/" + r + ":", StringComparison.Ordinal));
        Assert.Contains("failed the TLS handshake for docker.io/library/" + met, ex.Errors[1].Message);
        foreach (var r in refs.Where(r => r != met)) Assert.Contains("docker.io/library/" + r, ex.Errors[1].Message);
        Assert.Contains("SEALER_INSECURE_REGISTRIES", ex.Errors[1].Message);
    }

    /// <summary>Counts the requests each host:port is sent (through a real socket handler).</summary>
    private sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler { AllowAutoRedirect = false })
    {
        public readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> Sent = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Sent.AddOrUpdate(request.RequestUri!.Authority, 1, (_, n) => n + 1);
            return base.SendAsync(request, cancellationToken);
        }
    }

    [RegistryFact]
    public async Task A_registry_that_refuses_connections_fails_its_other_images_at_once_and_a_dead_mirror_is_skipped_after_one_failure()
    {
        // 600 images of a registry that is down took 9.5 minutes to fail (each through its own 5 attempts and backoff, 8 at
        // a time). After one request has failed all its attempts to connect, the host is held unreachable for a while.
        const string Dead = "127.0.0.1:9";
        var options = DockerIoVia("http://" + Dead);
        options.MaxAttempts = 3;
        options.RetryBaseDelay = TimeSpan.FromMilliseconds(300); // one series: 0.3 + 0.6 s of backoff
        var handler = new CountingHandler();
        using (var client = new RegistryClient(options, handler: handler))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var first = await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(ImageReference.Parse("pause:1")));
            Assert.Equal(ErrorCodes.RegistryUnreachable, first.Code);
            Assert.True(clock.Elapsed > TimeSpan.FromMilliseconds(600), $"{clock.Elapsed}: the first image goes through its attempts (0.72 s of backoff at least)");
            Assert.Equal(3, handler.Sent[Dead]);
            clock.Restart();
            foreach (var r in new[] { "a:1", "b:1", "c:1", "d:1", "e:1" })
            {
                var ex = await Assert.ThrowsAsync<RegistryClient.HostHeldException>(() => client.GetManifestAsync(ImageReference.Parse(r)));
                Assert.Equal(ErrorCodes.RegistryUnreachable, ex.Code);
                Assert.True(ex.Message.StartsWith($"docker.io/library/{r}: not tried at http://{Dead}", StringComparison.Ordinal), ex.Message);
                Assert.Contains("could not be reached for docker.io/library/pause:1 after 3 attempts", ex.Message);
                Assert.Contains("ConnectionError", ex.Message);
            }
            Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(500), $"{clock.Elapsed} for five images held unreachable");
            Assert.Equal(3, handler.Sent[Dead]);
        }

        // The hold ends: the host is tried again.
        options.UnreachableHold = TimeSpan.FromMilliseconds(200);
        handler = new CountingHandler();
        using (var client = new RegistryClient(options, handler: handler))
        {
            await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(ImageReference.Parse("pause:1")));
            await Task.Delay(300);
            await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(ImageReference.Parse("a:1")));
            Assert.Equal(6, handler.Sent[Dead]);
        }

        // A dead mirror in front of a live registry: the first image finds it dead (2 attempts, a mirror's share) and is
        // served by the next endpoint; the next images go straight there.
        options = DockerIoVia("http://" + Dead, Env.Registry("docker.io").Url);
        handler = new CountingHandler();
        using (var client = new RegistryClient(options, handler: handler))
        {
            foreach (var r in new[] { "busybox:1.36", "nginx:1.27", "busybox:1.36" })
            {
                var m = await client.GetManifestAsync(ImageReference.Parse(r));
                Assert.NotEmpty(m.Content);
            }
            Assert.Equal(2, handler.Sent[Dead]);
            Assert.True(handler.Sent[Env.Registry("docker.io").Address] >= 3);
        }
    }

    [Fact]
    public async Task A_pull_reports_the_images_it_did_not_try_at_a_dead_registry_as_one_error()
    {
        // Two at a time: the first ones find the host down (each its own error, with its location); the rest are not
        // tried, and are one error listing them, located at the first of them. Eight errors before.
        using var cache = TestRegistries.NewCache();
        var options = Only("docker.io", "http://127.0.0.1:9");
        options.MaxAttempts = 2;
        options.RetryBaseDelay = TimeSpan.FromMilliseconds(100);
        string[] refs = ["i0:1", "i1:1", "i2:1", "i3:1", "i4:1", "i5:1", "i6:1", "i7:1"];
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => new ImagePuller(cache.Layout).PullAsync(TestRegistries.Requests(refs),
            new PullOptions { Platforms = [Amd64], Registry = options, MaxConcurrentImages = 2 }));
        Assert.All(ex.Errors, e => Assert.Equal(ErrorCodes.RegistryUnreachable, e.Code));
        // The second of the first two may reach its last attempt after the first marked the host: then it is not tried.
        var found = ex.Errors.Where(e => e.Message.Contains("cannot reach http://127.0.0.1:9", StringComparison.Ordinal)).ToList();
        Assert.InRange(found.Count, 1, 2);
        Assert.Equal(found.Count + 1, ex.Errors.Count);
        var summary = Assert.Single(ex.Errors, e => e.Message.StartsWith($"{refs.Length - found.Count} images were not tried at http://127.0.0.1:9", StringComparison.Ordinal));
        Assert.Contains("ConnectionError", summary.Message);
        var notTried = refs.Select(r => "docker.io/library/" + r).Where(r => summary.Message.Contains(r + ",", StringComparison.Ordinal) || summary.Message.Contains(r + ".", StringComparison.Ordinal)).ToList();
        Assert.Equal(refs.Length - found.Count, notTried.Count);
        Assert.Equal("app.kubeproj", summary.File);
        Assert.Equal(10 + Array.IndexOf(refs, notTried.Select(r => r["docker.io/library/".Length..]).Min(StringComparer.Ordinal)), summary.Line);
        Assert.All(found, f => Assert.Equal("app.kubeproj", f.File));
    }

    /// <summary>Options that send <paramref name="domain"/> to <paramref name="endpoint"/> only (no loopback test registries needed).</summary>
    private static RegistryOptions Only(string domain, string endpoint)
    {
        var o = new RegistryOptions { UserAgent = TestRegistries.NewAgent(), FallbackToSource = false, Credentials = AnonymousCredentialProvider.Instance };
        o.AddMirror(domain, endpoint);
        return o;
    }

    [Fact]
    public async Task A_registry_that_accepts_connections_but_never_answers_is_held_after_one_request_timed_out()
    {
        // A hung registry (it accepts, it never answers) cost each image its own attempts of RequestTimeout (a minute) each:
        // hours at 600 images. One request that got no response headers through all its attempts holds the host.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new System.Collections.Concurrent.ConcurrentBag<System.Net.Sockets.Socket>();
        _ = Task.Run(async () =>
        {
            try
            {
                while (true) accepted.Add(await listener.AcceptSocketAsync());
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
            {
            }
        });
        string hung = $"127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}";
        var options = Only("docker.io", "http://" + hung);
        options.MaxAttempts = 2;
        options.RetryBaseDelay = TimeSpan.FromMilliseconds(50);
        options.RequestTimeout = TimeSpan.FromMilliseconds(300);
        try
        {
            using var client = new RegistryClient(options);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var first = await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(ImageReference.Parse("pause:1")));
            Assert.Equal(ErrorCodes.RegistryTimeout, first.Code);
            Assert.True(clock.Elapsed > TimeSpan.FromMilliseconds(550), $"{clock.Elapsed}: two attempts of 300 ms");
            Assert.NotEmpty(accepted);
            clock.Restart();
            foreach (var r in new[] { "a:1", "b:1", "c:1" })
            {
                var ex = await Assert.ThrowsAsync<RegistryClient.HostHeldException>(() => client.GetManifestAsync(ImageReference.Parse(r)));
                Assert.Equal(ErrorCodes.RegistryTimeout, ex.Code);
                Assert.Contains("did not answer in time for docker.io/library/pause:1 after 2 attempts", ex.Message);
            }
            Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(300), $"{clock.Elapsed} for three images held (one attempt would take 300)");
        }
        finally
        {
            listener.Stop();
            foreach (var socket in accepted) socket.Dispose();
        }
    }

    [Fact]
    public void Images_are_started_registry_by_registry_in_turn()
    {
        // So the first images in flight reach every registry at once: a dead one is found in the first round.
        Assert.Equal([0, 2, 3, 1, 4], ImagePuller.RegistryByRegistry(["docker.io", "docker.io", "quay.io", "ghcr.io", "ghcr.io"]));
        Assert.Equal([0, 1, 2], ImagePuller.RegistryByRegistry(["a", "b", "c"]));
        Assert.Equal([0, 1, 2], ImagePuller.RegistryByRegistry(["a", "a", "a"]));
        Assert.Empty(ImagePuller.RegistryByRegistry([]));
    }

    [Fact]
    public void Plain_http_is_refused_for_registries_that_are_not_loopback_or_marked_insecure()
    {
        var o = new RegistryOptions();
        var ex = Assert.Throws<SealerException>(() => RegistryEndpoint.Parse("http://registry.example.com:5000", "docker.io", true, o));
        Assert.Equal(ErrorCodes.InsecureRegistryNotAllowed, ex.Code);
        Assert.Equal("https://registry.example.com:5000/", RegistryEndpoint.Parse("registry.example.com:5000", "docker.io", true, o).BaseUri.ToString());
        o.AddInsecureRegistry("registry.example.com:5000");
        // Insecure: https without certificate checks first, plain http when that meets the other protocol (as Docker does).
        var insecure = RegistryEndpoint.Parse("registry.example.com:5000", "docker.io", true, o);
        Assert.Equal("https://registry.example.com:5000/", insecure.BaseUri.ToString());
        Assert.True(insecure.SkipTlsVerify && insecure.SchemeGuessed);
        Assert.Equal("http://registry.example.com:5000/", insecure.WithOtherScheme().BaseUri.ToString());
        Assert.Equal("http://registry.example.com:5000/", RegistryEndpoint.Parse("http://registry.example.com:5000", "docker.io", true, o).BaseUri.ToString());
        Assert.Equal("http://127.0.0.1:5000/", RegistryEndpoint.Parse("127.0.0.1:5000", "x", false, new RegistryOptions()).BaseUri.ToString());
        Assert.Equal("https://registry-1.docker.io/", new RegistryOptions().EndpointsFor("docker.io").Single().BaseUri.ToString());
        var env = new RegistryOptions().AddFromEnvironment(k => k == "SEALER_REGISTRY_MIRRORS" ? "docker.io=http://127.0.0.1:5100,https://m.example;quay.io=127.0.0.1:5101" : null);
        Assert.Equal(["http://127.0.0.1:5100", "https://m.example"], env.Mirrors["docker.io"]);
        Assert.Equal(3, env.EndpointsFor("docker.io").Count);
        var offline = new RegistryOptions().AddFromEnvironment(k => k switch { "SEALER_REGISTRY_MIRRORS" => "*=127.0.0.1:5100", "SEALER_REGISTRY_NO_FALLBACK" => "1", _ => null });
        Assert.Equal("http://127.0.0.1:5100/", offline.EndpointsFor("ghcr.io").Single().BaseUri.ToString());
    }

    [RegistryFact]
    public async Task An_interrupted_blob_download_resumes_with_a_range_request()
    {
        var nginx = Env.Image("nginx");
        var big = nginx.Blobs.OrderByDescending(b => b.Size).First();
        using var proxy = new CuttingProxy(Env.Registry("docker.io").Address) { CutBlob = big.Digest, CutAfterBytes = 1_000_000, CutsLeft = 1 };
        using var cache = TestRegistries.NewCache();
        var result = await Pull(cache, DockerIoVia(proxy.Url), "nginx:1.27");
        Assert.True(cache.Layout.HasBlob(Digest.Parse(big.Digest), big.Size));
        var blobRequests = proxy.Requests.Where(r => r.Contains("/blobs/" + big.Digest, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, blobRequests.Count);
        Assert.DoesNotContain("Range:", blobRequests[0], StringComparison.OrdinalIgnoreCase);
        Assert.Matches("(?i)range: bytes=[1-9][0-9]*-", blobRequests[1]);
        Assert.True(result.BytesDownloaded < big.Size + 300_000, $"downloaded {result.BytesDownloaded}: the blob was fetched again from the start");
    }

    [RegistryFact]
    public async Task A_download_cut_in_one_run_resumes_in_the_next()
    {
        var nginx = Env.Image("nginx");
        var big = nginx.Blobs.OrderByDescending(b => b.Size).First();
        using var proxy = new CuttingProxy(Env.Registry("docker.io").Address) { CutBlob = big.Digest, CutAfterBytes = 1_500_000, CutsLeft = 1 };
        using var cache = TestRegistries.NewCache();
        var once = DockerIoVia(proxy.Url);
        once.MaxAttempts = 1;
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => Pull(cache, once, "nginx:1.27"));
        Assert.Equal(ErrorCodes.RegistryUnreachable, ex.Code);
        Assert.Contains("Run again to resume", ex.Message);
        Assert.False(cache.Layout.HasBlob(Digest.Parse(big.Digest)));
        Assert.Null(cache.Layout.FindRef("docker.io/library/nginx:1.27"));
        long partial = Directory.GetFiles(Path.Combine(cache.Root, "ingest")).Sum(f => new FileInfo(f).Length);
        Assert.InRange(partial, 100_000, big.Size - 1);

        var result = await Pull(cache, DockerIoVia(proxy.Url), "nginx:1.27");
        Assert.True(cache.Layout.HasBlob(Digest.Parse(big.Digest), big.Size));
        Assert.Matches("(?i)range: bytes=[1-9][0-9]*-", proxy.Requests.Last(r => r.Contains("/blobs/" + big.Digest, StringComparison.Ordinal)));
        Assert.True(result.BytesDownloaded <= big.Size - partial + 300_000);
    }

    /// <summary>Ctrl+C (the MSBuild task's Cancel, the CLI's Ctrl+C: the same token) mid-pull over a slow link: the pull
    /// stops within a second, the cache holds only whole blobs that hash to their names, and the next pull asks for no blob
    /// it already has (an interrupted blob resumes with a range request). The progress it reported says bytes and rate.</summary>
    [RegistryFact]
    public async Task Cancelling_mid_pull_stops_within_a_second_keeps_only_whole_blobs_and_the_next_pull_fetches_only_what_is_missing()
    {
        string[] images = ["nginx:1.27", "library/redis:7.4", "bitnami/redis:7.2", "library/busybox:1.36"];
        await using var proxy = new CuttingProxy(Env.Registry("docker.io").Address) { ResponseBytesPerSecond = 400_000 };
        using var cache = TestRegistries.NewCache();
        using var cts = new CancellationTokenSource();
        var lines = new List<string>();
        using var progress = new Sealer.Core.IO.PeriodicProgress<PullProgress>((p, meter) => meter.Describe(p.BytesDone, p.BytesTotal),
            line => { lock (lines) lines.Add(line); }, TimeSpan.FromMilliseconds(200));
        var pull = new ImagePuller(cache.Layout).PullAsync(TestRegistries.Requests(images), new PullOptions { Platforms = [Amd64], Registry = DockerIoVia(proxy.Url) }, progress, cts.Token);
        string blobs = Path.Combine(cache.Root, "blobs", "sha256");
        for (var until = DateTime.UtcNow.AddSeconds(60); !pull.IsCompleted && DateTime.UtcNow < until; await Task.Delay(20))
        {
            int n;
            lock (lines) n = lines.Count;
            if (n >= 3 && Directory.Exists(blobs) && Directory.GetFiles(blobs).Length >= 3) break;
        }
        Assert.False(pull.IsCompleted, "the pull ended before the cancel");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pull);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"stopped {sw.Elapsed.TotalMilliseconds:F0} ms after the cancel");
        lock (lines) Assert.Matches(@"^\d+\.\d/\d+\.\d MiB, \d+\.\d MiB/s, .+ left$", lines[^1]);

        var cached = Directory.GetFiles(blobs).Select(Path.GetFileName).ToList();
        foreach (var name in cached)
        {
            await using var f = File.OpenRead(Path.Combine(blobs, name!));
            Assert.Equal(name, Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(f)));
        }

        proxy.ResponseBytesPerSecond = 0;
        while (proxy.Requests.TryDequeue(out _)) { }
        await new ImagePuller(cache.Layout).PullAsync(TestRegistries.Requests(images), new PullOptions { Platforms = [Amd64], Registry = DockerIoVia(proxy.Url) });
        var fetched = proxy.Requests.Select(h => System.Text.RegularExpressions.Regex.Match(h, @"^GET /v2/.+/blobs/sha256:([0-9a-f]{64})[ ?]")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(fetched); // stopped mid-pull: something was left
        Assert.Empty(fetched.Intersect(cached));
        foreach (var image in images) Assert.NotNull(cache.Layout.FindRef("docker.io/" + (image.Contains('/') ? image : "library/" + image)));
    }
}
