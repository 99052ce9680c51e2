using System.Net;
using System.Net.Http.Headers;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Auth;
using Sealer.Core.Images;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Distribution.Tests.Distribution;

/// <summary>Faults a real registry cannot produce on demand (rate limits, 5xx, lying digests, stalls, redirects to storage), through a faked handler.</summary>
public class FakeHandlerFaultTests
{
    private static readonly ImageReference Image = ImageReference.Parse("registry.test/app/x:1");
    private static readonly byte[] Manifest = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"""u8.ToArray();

    private sealed class Fake(Func<HttpRequestMessage, int, HttpResponseMessage> respond) : HttpMessageHandler
    {
        public List<(HttpMethod Method, Uri Uri, string? Auth, string? Range)> Seen { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            int n;
            lock (Seen)
            {
                Seen.Add((request.Method, request.RequestUri!, request.Headers.Authorization?.ToString(), request.Headers.Range?.ToString()));
                n = Seen.Count;
            }
            var resp = respond(request, n);
            resp.RequestMessage = request;
            return Task.FromResult(resp);
        }
    }

    private static RegistryOptions Options(ICredentialProvider? creds = null) => new()
    {
        MaxAttempts = 3,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        StallTimeout = TimeSpan.FromMilliseconds(300),
        Credentials = creds ?? AnonymousCredentialProvider.Instance,
    };

    private static HttpResponseMessage ManifestResponse(string? announced = null)
    {
        var r = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Manifest) };
        r.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        r.Headers.Add("Docker-Content-Digest", announced ?? Digest.Sha256(Manifest).ToString());
        return r;
    }

    [Fact]
    public async Task Rate_limits_and_server_errors_are_retried_honouring_Retry_After()
    {
        var fake = new Fake((req, n) =>
        {
            if (n == 1) return new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Headers = { RetryAfter = new RetryConditionHeaderValue(TimeSpan.Zero) } };
            if (n == 2) return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
            return ManifestResponse();
        });
        using var client = new RegistryClient(Options(), handler: fake);
        var m = await client.GetManifestAsync(Image);
        Assert.Equal(Digest.Sha256(Manifest), m.Digest);
        Assert.Equal(3, fake.Seen.Count);
        Assert.Equal("https://registry.test/v2/app/x/manifests/1", fake.Seen[0].Uri.ToString());
    }

    [Fact]
    public async Task Persistent_rate_limiting_and_server_errors_become_coded_errors()
    {
        using var limited = new RegistryClient(Options(), handler: new Fake((_, _) => new HttpResponseMessage(HttpStatusCode.TooManyRequests)));
        Assert.Equal(ErrorCodes.RateLimited, (await Assert.ThrowsAsync<SealerException>(() => limited.GetManifestAsync(Image))).Code);
        var broken = new Fake((_, _) => new HttpResponseMessage(HttpStatusCode.BadGateway));
        using var failing = new RegistryClient(Options(), handler: broken);
        var ex = await Assert.ThrowsAsync<SealerException>(() => failing.GetManifestAsync(Image));
        Assert.Equal(ErrorCodes.RegistryError, ex.Code);
        Assert.Contains("502", ex.Message);
        Assert.Equal(3, broken.Seen.Count);
        var flaky = new Fake((_, n) => n < 3 ? throw new HttpRequestException(HttpRequestError.ConnectionError, "connection refused") : ManifestResponse());
        using var recovering = new RegistryClient(Options(), handler: flaky);
        Assert.Equal(Digest.Sha256(Manifest), (await recovering.GetManifestAsync(Image)).Digest);
    }

    /// <summary>Docker Hub's answer once its pull limit is used up: no Retry-After, the limit and what is left of it in
    /// a window of 6 h, the registry's error body.</summary>
    private static HttpResponseMessage PullLimitUsedUp(TimeSpan? retryAfter = null)
    {
        var r = new HttpResponseMessage(HttpStatusCode.TooManyRequests)
        {
            Content = new StringContent("""{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit"}]}"""),
        };
        r.Headers.TryAddWithoutValidation("RateLimit-Limit", "100;w=21600");
        r.Headers.TryAddWithoutValidation("RateLimit-Remaining", "0;w=21600");
        if (retryAfter is { } ra) r.Headers.RetryAfter = new RetryConditionHeaderValue(ra);
        return r;
    }

    [Fact]
    public async Task A_used_up_pull_limit_is_not_retried_and_holds_the_host_so_its_other_images_fail_at_once()
    {
        var fake = new Fake((req, _) => req.RequestUri!.Host == "other.test" ? ManifestResponse() : PullLimitUsedUp());
        using var client = new RegistryClient(Options(), handler: fake);
        var first = await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(Image));
        Assert.Equal(ErrorCodes.RateLimited, first.Code);
        Assert.Single(fake.Seen); // no retry: waiting seconds cannot outlast a window of hours
        Assert.Contains("does not reset soon", first.Message);
        Assert.Contains("TOOMANYREQUESTS: You have reached your unauthenticated pull rate limit", first.Message);
        Assert.Contains("0 of 100 pulls left in a window of 6 h, resets in at most 6 h", first.Message);
        Assert.Contains("docker login registry.test", first.Message); // anonymous: logging in raises the limit

        // Another image of the same host: not sent, one error naming the image that met the limit.
        var other = ImageReference.Parse("registry.test/app/y:2");
        var held = await Assert.ThrowsAsync<RegistryClient.HostHeldException>(() => client.GetManifestAsync(other));
        Assert.Equal(ErrorCodes.RateLimited, held.Code);
        Assert.Single(fake.Seen);
        Assert.Equal("registry.test/app/x:1", held.FoundBy);
        Assert.Contains("rate-limited registry.test/app/x:1 after 1 attempt ", held.Message);
        Assert.Contains("Log in to the registry", held.Message);
        // Other hosts are not held.
        Assert.Equal(Digest.Sha256(Manifest), (await client.GetManifestAsync(ImageReference.Parse("other.test/app/x:1"))).Digest);
    }

    [Fact]
    public async Task A_Retry_After_beyond_the_retries_reach_holds_the_host_and_a_short_one_or_a_limit_not_used_up_is_retried()
    {
        // Retry-After: 1 h (beyond MaxRetryDelay): no retry, held.
        var hour = new Fake((_, _) => new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Headers = { RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromHours(1)) } });
        using (var client = new RegistryClient(Options(), handler: hour))
        {
            var ex = await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(Image));
            Assert.Contains("resets in 1 h", ex.Message);
            Assert.Single(hour.Seen);
            await Assert.ThrowsAsync<RegistryClient.HostHeldException>(() => client.GetManifestAsync(ImageReference.Parse("registry.test/app/y:2")));
            Assert.Single(hour.Seen);
        }

        // What one request's retries can wait in all is MaxRetryDelay before each attempt after the first: here 2 x 1 s.
        // A Retry-After of 45 s is beyond it (not retried, held); one of 1 s is within it, waited for and retried.
        var patient = Options();
        patient.MaxRetryDelay = TimeSpan.FromSeconds(1);
        var beyond = new Fake((_, n) => n == 1 ? new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Headers = { RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(45)) } } : ManifestResponse());
        using (var client = new RegistryClient(patient, handler: beyond))
        {
            var ex = await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(Image));
            Assert.Contains("does not reset soon", ex.Message);
            Assert.Contains("resets in 45 s", ex.Message);
            Assert.Single(beyond.Seen);
        }
        var within = new Fake((_, n) => n == 1 ? new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Headers = { RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(1)) } } : ManifestResponse());
        using (var client = new RegistryClient(patient, handler: within))
        {
            Assert.Equal(Digest.Sha256(Manifest), (await client.GetManifestAsync(Image)).Digest);
            Assert.Equal(2, within.Seen.Count);
        }

        // A used-up limit whose Retry-After is short is waited for and retried.
        var shortWait = new Fake((_, n) => n == 1 ? PullLimitUsedUp(TimeSpan.Zero) : ManifestResponse());
        using (var client = new RegistryClient(Options(), handler: shortWait))
        {
            Assert.Equal(Digest.Sha256(Manifest), (await client.GetManifestAsync(Image)).Digest);
            Assert.Equal(2, shortWait.Seen.Count);
        }

        // A limit with pulls left (a burst limiter) is retried through every attempt, and the host is not held after.
        var burst = new Fake((_, _) =>
        {
            var r = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
            r.Headers.TryAddWithoutValidation("RateLimit-Remaining", "40;w=60");
            return r;
        });
        using (var client = new RegistryClient(Options(), handler: burst))
        {
            var ex = await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(Image));
            Assert.Equal(ErrorCodes.RateLimited, ex.Code);
            Assert.Contains("keeps rate-limiting us", ex.Message);
            Assert.Equal(3, burst.Seen.Count);
            var again = await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(ImageReference.Parse("registry.test/app/y:2")));
            Assert.IsNotType<RegistryClient.HostHeldException>(again);
            Assert.Equal(6, burst.Seen.Count);
        }
    }

    [Fact]
    public async Task A_pull_of_many_images_from_a_registry_whose_limit_is_used_up_asks_it_once_per_image_started_and_reports_one_error_for_the_rest()
    {
        var fake = new Fake((_, _) => PullLimitUsedUp());
        var options = Options();
        using var client = new RegistryClient(options, handler: fake);
        using var cache = TestRegistries.NewCache();
        string[] refs = [.. Enumerable.Range(0, 40).Select(i => $"registry.test/app/i{i}:1")];
        var started = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<ImagePullException>(() => new ImagePuller(cache.Layout, client).PullAsync(TestRegistries.Requests(refs),
            new PullOptions { Platforms = [Platform.Parse("linux/amd64")], Registry = options, MaxConcurrentImages = 4 }));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"took {started.Elapsed}");
        Assert.All(ex.Errors, e => Assert.Equal(ErrorCodes.RateLimited, e.Code));
        // The images under way when the first 429 came were each asked once (no retries); the rest never.
        Assert.InRange(fake.Seen.Count, 1, 4);
        Assert.Equal(fake.Seen.Count + 1, ex.Errors.Count);
        var summary = Assert.Single(ex.Errors, e => e.Message.StartsWith($"{refs.Length - fake.Seen.Count} images were not tried at https://registry.test", StringComparison.Ordinal));
        Assert.Contains("rate-limited", summary.Message);
        Assert.Contains("0 of 100 pulls left", summary.Message);
        Assert.Contains("Log in to the registry", summary.Message);
    }

    [Fact]
    public async Task A_registry_unavailable_through_every_attempt_is_held_and_one_failing_with_500_is_not()
    {
        var unavailable = new Fake((req, _) => req.RequestUri!.Host == "other.test" ? ManifestResponse() : new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        using (var client = new RegistryClient(Options(), handler: unavailable))
        {
            var first = await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(Image));
            Assert.Equal(ErrorCodes.RegistryError, first.Code);
            Assert.Equal(3, unavailable.Seen.Count); // retried as before
            var held = await Assert.ThrowsAsync<RegistryClient.HostHeldException>(() => client.GetManifestAsync(ImageReference.Parse("registry.test/app/y:2")));
            Assert.Equal(3, unavailable.Seen.Count); // then not asked again
            Assert.Equal(ErrorCodes.RegistryError, held.Code);
            Assert.Contains("answered unavailable to registry.test/app/x:1 after 3 attempts", held.Message);
            Assert.Contains("HTTP 503 Service Unavailable", held.Message);
            Assert.Contains("is unavailable: check it or configure a mirror", held.Message);
            Assert.Equal(Digest.Sha256(Manifest), (await client.GetManifestAsync(ImageReference.Parse("other.test/app/x:1"))).Digest);
        }

        // A 500 may be one request's fault (one broken manifest): the next image is still asked.
        var broken = new Fake((_, _) => new HttpResponseMessage(HttpStatusCode.InternalServerError));
        using (var client = new RegistryClient(Options(), handler: broken))
        {
            await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(Image));
            var next = await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(ImageReference.Parse("registry.test/app/y:2")));
            Assert.IsNotType<RegistryClient.HostHeldException>(next);
            Assert.Equal(6, broken.Seen.Count);
        }
    }

    [Fact]
    public async Task A_long_lived_client_tries_a_held_host_again_after_its_longest_hold()
    {
        bool fixedUpstream = false;
        var fake = new Fake((_, _) => fixedUpstream ? ManifestResponse() : PullLimitUsedUp());
        var options = Options();
        options.LongestHold = TimeSpan.FromMilliseconds(300); // the pull-through sets minutes
        using var client = new RegistryClient(options, handler: fake);
        await Assert.ThrowsAsync<SealerException>(() => client.GetManifestAsync(Image));
        await Assert.ThrowsAsync<RegistryClient.HostHeldException>(() => client.GetManifestAsync(Image)); // held (6 h said, 300 ms kept)
        Assert.Single(fake.Seen);
        fixedUpstream = true;
        await Task.Delay(400);
        Assert.Equal(Digest.Sha256(Manifest), (await client.GetManifestAsync(Image)).Digest);
        Assert.Equal(2, fake.Seen.Count);
    }

    [Fact]
    public async Task A_rate_limit_that_leaves_fewer_pulls_than_the_images_left_is_a_warning_before_it_runs_out()
    {
        byte[] config = """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"""u8.ToArray();
        byte[] manifest = System.Text.Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Digest.Sha256(config)}}","size":{{config.Length}}},"layers":[]}""");
        async Task<List<string>> PullFive(int remaining, int cached = 0)
        {
            var fake = new Fake((req, _) =>
            {
                if (req.RequestUri!.AbsolutePath.Contains("/blobs/", StringComparison.Ordinal)) return new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(config) };
                var r = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(manifest) };
                r.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
                r.Headers.Add("Docker-Content-Digest", Digest.Sha256(manifest).ToString());
                r.Headers.TryAddWithoutValidation("RateLimit-Limit", "100;w=21600");
                r.Headers.TryAddWithoutValidation("RateLimit-Remaining", $"{remaining};w=21600");
                return r;
            });
            var options = Options();
            var logger = new ListLogger();
            using var client = new RegistryClient(options, handler: fake);
            using var cache = TestRegistries.NewCache();
            string[] refs = [.. Enumerable.Range(0, 5).Select(i => $"registry.test/app/i{i}:1")];
            // The first `cached` images pulled before (manifest in the cache, digest in the lock): they cost no pull.
            ImagesLock? pulledBefore = null;
            if (cached > 0)
            {
                pulledBefore = (await new ImagePuller(cache.Layout, client).PullAsync(TestRegistries.Requests(refs[..cached]),
                    new PullOptions { Platforms = [Platform.Parse("linux/amd64")], Registry = options })).Lock;
            }
            await new ImagePuller(cache.Layout, client, logger).PullAsync(TestRegistries.Requests(refs),
                new PullOptions { Platforms = [Platform.Parse("linux/amd64")], Registry = options, MaxConcurrentImages = 1, Lock = pulledBefore });
            return logger.Lines.Where(l => l.StartsWith(ErrorCodes.RateLimitLow, StringComparison.Ordinal)).ToList();
        }

        // 2 pulls left after the first image, 4 images still to pull: one warning (not one per image), located at the image.
        var warning = Assert.Single(await PullFive(remaining: 2));
        Assert.Contains("https://registry.test allows 2 more pulls (2 of 100 pulls left in a window of 6 h)", warning);
        Assert.Contains("4 images of registry.test are still to pull", warning);
        Assert.Matches(@"app\.kubeproj\(1[0-4]\)", warning); // at the image that found it (whichever of the five went first)
        // Enough left: nothing.
        Assert.Empty(await PullFive(remaining: 50));
        // Three of the five in the cache already: 2 left covers the 2 that need a pull (after the first, 1 to go).
        Assert.Empty(await PullFive(remaining: 2, cached: 3));
    }

    [Fact]
    public async Task A_manifest_that_does_not_match_its_digest_is_refused()
    {
        using var lying = new RegistryClient(Options(), handler: new Fake((_, _) => ManifestResponse("sha256:" + new string('0', 64))));
        Assert.Equal(ErrorCodes.ManifestDigestMismatch, (await Assert.ThrowsAsync<SealerException>(() => lying.GetManifestAsync(Image))).Code);
        using var wrongBody = new RegistryClient(Options(), handler: new Fake((_, _) => ManifestResponse()));
        var ex = await Assert.ThrowsAsync<SealerException>(() => wrongBody.GetManifestAsync(Image, "sha256:" + new string('1', 64)));
        Assert.Equal(ErrorCodes.ManifestDigestMismatch, ex.Code);
    }

    [Fact]
    public async Task A_redirect_to_blob_storage_gets_no_credentials_and_tokens_are_cached()
    {
        byte[] blob = new byte[100_000];
        Random.Shared.NextBytes(blob);
        var d = Digest.Sha256(blob);
        var fake = new Fake((req, n) =>
        {
            var u = req.RequestUri!;
            if (u.Host == "auth.test") return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"token":"tok-1","expires_in":300}""") };
            if (u.Host == "storage.test") return new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(blob) };
            if (req.Headers.Authorization?.ToString() != "Bearer tok-1")
            {
                var r = new HttpResponseMessage(HttpStatusCode.Unauthorized);
                r.Headers.WwwAuthenticate.ParseAdd("Bearer realm=\"https://auth.test/token\",service=\"registry.test\",scope=\"repository:app/x:pull\"");
                return r;
            }
            var redirect = new HttpResponseMessage(HttpStatusCode.TemporaryRedirect);
            redirect.Headers.Location = new Uri("https://storage.test/b/" + d.Encoded + "?sig=abc");
            return redirect;
        });
        var creds = new StaticCredentialProvider(new Dictionary<string, RegistryCredential> { ["registry.test"] = new("u", "p") });
        using var client = new RegistryClient(Options(creds), handler: fake);
        using var cache = TestRegistries.NewCache();
        Assert.True(await client.FetchBlobAsync(Image, new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = d.ToString(), Size = blob.Length }, cache.Layout));
        Assert.True(cache.Layout.HasBlob(d, blob.Length));
        var storage = fake.Seen.Where(s => s.Uri.Host == "storage.test").ToList();
        Assert.Single(storage);
        Assert.Null(storage[0].Auth);
        Assert.StartsWith("Basic ", fake.Seen.Single(s => s.Uri.Host == "auth.test").Auth);
        Assert.Contains(fake.Seen, s => s.Uri.Host == "registry.test" && s.Auth == "Bearer tok-1");

        // A second blob reuses the cached token: no new token request.
        byte[] other = new byte[10];
        blob = other;
        var d2 = Digest.Sha256(other);
        d = d2;
        Assert.True(await client.FetchBlobAsync(Image, new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = d2.ToString(), Size = other.Length }, cache.Layout));
        Assert.Single(fake.Seen, s => s.Uri.Host == "auth.test");
    }

    [Fact]
    public async Task Identity_tokens_use_the_OAuth2_refresh_grant_and_plain_http_realms_are_refused()
    {
        string? form = null;
        var fake = new Fake((req, n) =>
        {
            if (req.RequestUri!.Host == "auth.test")
            {
                form = req.Content!.ReadAsStringAsync().Result;
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"access_token":"tok-2"}""") };
            }
            if (req.Headers.Authorization?.ToString() == "Bearer tok-2") return ManifestResponse();
            var r = new HttpResponseMessage(HttpStatusCode.Unauthorized);
            r.Headers.WwwAuthenticate.ParseAdd("Bearer realm=\"https://auth.test/token\",service=\"registry.test\"");
            return r;
        });
        var creds = new StaticCredentialProvider(new Dictionary<string, RegistryCredential> { ["registry.test"] = new(null, null, "refresh-xyz") });
        using var client = new RegistryClient(Options(creds), handler: fake);
        await client.GetManifestAsync(Image);
        Assert.Equal(HttpMethod.Post, fake.Seen.Single(s => s.Uri.Host == "auth.test").Method);
        Assert.Contains("grant_type=refresh_token", form);
        Assert.Contains("refresh_token=refresh-xyz", form);
        Assert.Contains("scope=repository%3Aapp%2Fx%3Apull", form);

        var plain = new Fake((req, n) =>
        {
            var r = new HttpResponseMessage(HttpStatusCode.Unauthorized);
            r.Headers.WwwAuthenticate.ParseAdd("Bearer realm=\"http://auth.test/token\",service=\"registry.test\"");
            return r;
        });
        using var refusing = new RegistryClient(Options(creds), handler: plain);
        var ex = await Assert.ThrowsAsync<SealerException>(() => refusing.GetManifestAsync(Image));
        Assert.Equal(ErrorCodes.InsecureRegistryNotAllowed, ex.Code);
        Assert.DoesNotContain(plain.Seen, s => s.Uri.Host == "auth.test");
    }

    [Fact]
    public async Task A_stalled_download_is_resumed_from_where_it_stopped()
    {
        byte[] blob = new byte[200_000];
        Random.Shared.NextBytes(blob);
        var d = Digest.Sha256(blob);
        var fake = new Fake((req, n) =>
        {
            if (req.Headers.Range is { } range)
            {
                long from = range.Ranges.First().From!.Value;
                var r = new HttpResponseMessage(HttpStatusCode.PartialContent) { Content = new ByteArrayContent(blob[(int)from..]) };
                r.Content.Headers.ContentRange = new ContentRangeHeaderValue(from, blob.Length - 1, blob.Length);
                return r;
            }
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new StallingStream(blob[..80_000])) };
        });
        using var client = new RegistryClient(Options(), handler: fake);
        using var cache = TestRegistries.NewCache();
        await client.FetchBlobAsync(Image, new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = d.ToString(), Size = blob.Length }, cache.Layout);
        Assert.True(cache.Layout.HasBlob(d, blob.Length));
        Assert.Equal(2, fake.Seen.Count);
        Assert.Equal("bytes=80000-", fake.Seen[1].Range);
    }

    /// <summary>Gives its bytes, then never answers again (until cancelled).</summary>
    private sealed class StallingStream(byte[] data) : Sealer.Core.IO.ReadOnlyStream
    {
        private int _pos;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_pos < data.Length)
            {
                int n = Math.Min(buffer.Length, data.Length - _pos);
                data.AsMemory(_pos, n).CopyTo(buffer);
                _pos += n;
                return n;
            }
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }
}
