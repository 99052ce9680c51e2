using System.Text.Json;
using Sealer.Core.Artifacts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Auth;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Artifacts.Tests.Upload;

[Collection(RegistryCollection.Name)]
public class PushTests(RegistryFixture fixture)
{
    private TestEnvironment Env => fixture.Env;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Refused by the registry client's authentication (SEA1001) or, after it, by the push itself (SEA1302).</summary>
    private static readonly string[] AuthCodes = [ErrorCodes.AuthenticationRefused, ErrorCodes.PushUnauthorized];

    private static ProcessResult Skopeo(params string[] args) => Processes.Run("skopeo", args);

    [RegistryFact]
    public async Task Push_round_trips_through_docker_registry_verified_by_skopeo()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var img = TestImages.AddToStore(store, "local/cluster:v1", multiArch: true, blobBytes: 100_000);
        string registry = Env.Registry("docker.io").Address;
        var dest = ImageReference.Parse($"{registry}/{Unique("artifacts/cluster")}:v1");

        var result = await new RegistryPusher().PushAsync(store.Layout, img.Descriptor, dest);
        Assert.Equal(img.Digest, result.Digest);
        Assert.Equal(result.BlobsTotal, result.BlobsUploaded);
        Assert.Equal(3, result.Manifests);

        var (rc, raw) = Skopeo("inspect", "--tls-verify=false", "--raw", $"docker://{dest}");
        Assert.True(rc == 0, raw);
        Assert.Equal(img.Descriptor.ParsedDigest, Digest.Sha256(System.Text.Encoding.UTF8.GetBytes(raw.TrimEnd('\n'))));

        // Pull it back as a whole with skopeo, load it, and get the same digests.
        (rc, var output) = Skopeo("copy", "--all", "--preserve-digests", "--quiet", "--src-tls-verify=false", $"docker://{dest}", $"oci:{tmp.Sub("pulled")}:{dest}");
        Assert.True(rc == 0, output);
        var other = ClusterImageStore.Open(tmp.Sub("other"));
        var loaded = Assert.Single(await OciArchive.LoadAsync(other, tmp.Sub("pulled")));
        Assert.Equal(img.Digest, loaded.Digest);
        Assert.Equal(["linux/amd64", "linux/arm64"], loaded.Platforms);
    }

    [RegistryFact]
    public async Task Second_push_skips_existing_blobs_and_other_repo_mounts_them()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var img = TestImages.AddToStore(store, "local/cluster:v1", blobBytes: 50_000, seed: 3);
        string registry = Env.Registry("docker.io").Address;
        string repoA = Unique("artifacts/a"), repoB = Unique("artifacts/b");
        await new RegistryPusher().PushAsync(store.Layout, img.Descriptor, ImageReference.Parse($"{registry}/{repoA}:v1"));

        long mark = Env.LogMark("docker.io");
        var again = new RegistryPusher();
        var second = await again.PushAsync(store.Layout, img.Descriptor, ImageReference.Parse($"{registry}/{repoA}:v2"));
        Assert.Equal(second.BlobsTotal, second.BlobsSkipped);
        Assert.Equal(0, second.BytesUploaded);
        Assert.False(again.RequestCounts.ContainsKey("PATCH"));
        Assert.False(again.RequestCounts.ContainsKey("POST"));
        var requests = Env.RequestsSince("docker.io", mark);
        Assert.DoesNotContain(requests, l => l.Contains("/blobs/uploads", StringComparison.Ordinal));
        Assert.Equal(second.BlobsTotal, requests.Count(l => l.Contains("\"HEAD /v2/" + repoA + "/blobs/", StringComparison.Ordinal)));

        var options = new PushOptions();
        options.MountFrom.Add(repoA);
        var mounted = await new RegistryPusher(options).PushAsync(store.Layout, img.Descriptor, ImageReference.Parse($"{registry}/{repoB}:v1"));
        Assert.Equal(mounted.BlobsTotal, mounted.BlobsMounted);
        Assert.Equal(0, mounted.BytesUploaded);
        var (rc, raw) = Skopeo("inspect", "--tls-verify=false", "--raw", $"docker://{registry}/{repoB}:v1");
        Assert.True(rc == 0, raw);
    }

    [RegistryFact]
    public async Task Basic_auth_registry_refuses_bad_credentials_and_accepts_good_ones()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var img = TestImages.AddToStore(store, "local/cluster:v1", seed: 4);
        var reg = Env.Registry("private");
        var dest = ImageReference.Parse($"{reg.Address}/{Unique("artifacts/private")}:v1");

        var none = await Assert.ThrowsAsync<SealerException>(() => new RegistryPusher(new PushOptions { Credentials = AnonymousCredentialProvider.Instance }).PushAsync(store.Layout, img.Descriptor, dest));
        Assert.Contains(none.Code, AuthCodes);
        var bad = await Assert.ThrowsAsync<SealerException>(() => new RegistryPusher(new PushOptions { Credentials = RegistryTransport.StaticCredentials(reg.Address, reg.Username!, "wrong") }).PushAsync(store.Layout, img.Descriptor, dest));
        Assert.Contains(bad.Code, AuthCodes);
        Assert.DoesNotContain("wrong", bad.Message);

        var ok = await new RegistryPusher(new PushOptions { Credentials = RegistryTransport.StaticCredentials(reg.Address, reg.Username!, reg.Password!) }).PushAsync(store.Layout, img.Descriptor, dest);
        Assert.Equal(img.Digest, ok.Digest);
        var (rc, raw) = Skopeo("inspect", "--tls-verify=false", "--raw", "--creds", $"{reg.Username}:{reg.Password}", $"docker://{dest}");
        Assert.True(rc == 0, raw);
    }

    [RegistryFact]
    public async Task Token_auth_registry_push_with_credentials()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var img = TestImages.AddToStore(store, "local/cluster:v1", multiArch: true, seed: 5);
        var reg = Env.Registry("token");
        var dest = ImageReference.Parse($"{reg.Address}/{Unique("artifacts/token")}:v1");

        var anonymous = await Assert.ThrowsAsync<SealerException>(() => new RegistryPusher(new PushOptions { Credentials = AnonymousCredentialProvider.Instance }).PushAsync(store.Layout, img.Descriptor, dest));
        Assert.Contains(anonymous.Code, AuthCodes);

        var result = await new RegistryPusher(new PushOptions { Credentials = RegistryTransport.StaticCredentials(reg.Address, reg.Username!, reg.Password!) }).PushAsync(store.Layout, img.Descriptor, dest);
        Assert.Equal(result.BlobsTotal, result.BlobsUploaded);
        var (rc, raw) = Skopeo("inspect", "--tls-verify=false", "--raw", "--creds", $"{reg.Username}:{reg.Password}", $"docker://{dest}");
        Assert.True(rc == 0, raw);
        Assert.Equal(img.Descriptor.ParsedDigest, Digest.Sha256(System.Text.Encoding.UTF8.GetBytes(raw.TrimEnd('\n'))));

        // Cross-repository mount with a token covering both repositories.
        var mountOptions = new PushOptions { Credentials = RegistryTransport.StaticCredentials(reg.Address, reg.Username!, reg.Password!) };
        mountOptions.MountFrom.Add(dest.Repository);
        var mounted = await new RegistryPusher(mountOptions).PushAsync(store.Layout, img.Descriptor, ImageReference.Parse($"{reg.Address}/{Unique("artifacts/token-copy")}:v1"));
        Assert.Equal(mounted.BlobsTotal, mounted.BlobsMounted);
    }

    [RegistryFact]
    public async Task Upload_cut_between_chunks_resumes_from_the_registry_range()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var img = TestImages.AddToStore(store, "local/cluster:v1", seed: 6, blobBytes: 6 * 1024 * 1024);
        await using var proxy = new CuttingProxy(Env.Registry("docker.io").Address) { CutUploadAfterBytes = 3 * 1024 * 1024, CutAtRequestBoundary = true };
        var dest = ImageReference.Parse($"{proxy.Address}/{Unique("artifacts/resume")}:v1");
        var options = new PushOptions { ChunkSize = 1024 * 1024, MonolithicThreshold = 0, Concurrency = 1 };
        var pusher = new RegistryPusher(options);

        var result = await pusher.PushAsync(store.Layout, img.Descriptor, dest);
        Assert.Equal(1, proxy.CutsMade);
        Assert.Equal(img.Digest, result.Digest);
        Assert.Equal(1, pusher.Resumes);
        Assert.Equal(0, pusher.Restarts);
        Assert.True(pusher.RequestCounts.GetValueOrDefault("GET") >= 1, "asked the registry for the upload's Range");
        // Resumed, not restarted: one POST per blob, and PATCHes = chunks + the one that was cut.
        var blobs = ImageGraph.Load(store.Layout, img.Descriptor).Blobs;
        int chunks = blobs.Sum(b => (int)Math.Ceiling(b.Size / (double)options.ChunkSize));
        Assert.Equal(blobs.Count, pusher.RequestCounts["POST"]);
        Assert.Equal(chunks + 1, pusher.RequestCounts["PATCH"]);
        var (rc, output) = Skopeo("copy", "--quiet", "--preserve-digests", "--src-tls-verify=false", $"docker://{Env.Registry("docker.io").Address}/{dest.Repository}:v1", $"oci:{tmp.Sub("pulled")}:x");
        Assert.True(rc == 0, output); // skopeo verifies every blob digest while copying
    }

    [RegistryFact]
    public async Task Upload_cut_mid_chunk_still_completes_with_correct_digests()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var img = TestImages.AddToStore(store, "local/cluster:v1", seed: 8, blobBytes: 6 * 1024 * 1024);
        await using var proxy = new CuttingProxy(Env.Registry("docker.io").Address) { CutUploadAfterBytes = 3 * 1024 * 1024 + 12345 };
        var dest = ImageReference.Parse($"{proxy.Address}/{Unique("artifacts/cut")}:v1");
        var pusher = new RegistryPusher(new PushOptions { ChunkSize = 1024 * 1024, MonolithicThreshold = 0, Concurrency = 2 });

        var result = await pusher.PushAsync(store.Layout, img.Descriptor, dest);
        Assert.Equal(1, proxy.CutsMade);
        // The cut is recovered by the pusher (resume from the registry's offset, or a restart) when it hit a PATCH body;
        // when it hit another request (HEAD, POST, the final PUT, on the other concurrent upload) or a pooled connection
        // before any response byte, the transport's retry (or SocketsHttpHandler's) sends that same request line again.
        int retriedRequests = proxy.Requests.Select(h => h.Split("\r\n")[0]).Where(l => !l.Contains(" /v2/ ", StringComparison.Ordinal))
            .GroupBy(l => l, StringComparer.Ordinal).Count(g => g.Count() > 1);
        Assert.True(pusher.Resumes + pusher.Restarts + retriedRequests >= 1,
            $"the cut went unnoticed: resumes {pusher.Resumes}, restarts {pusher.Restarts}, requests:\n{string.Join("\n", proxy.Requests.Select(h => h.Split("\r\n")[0]))}");
        var (rc, output) = Skopeo("copy", "--quiet", "--preserve-digests", "--src-tls-verify=false", $"docker://{Env.Registry("docker.io").Address}/{dest.Repository}:v1", $"oci:{tmp.Sub("pulled")}:x");
        Assert.True(rc == 0, output);
        Assert.Equal(img.Digest, result.Digest);
    }

    /// <summary>Forwards to the real registry but refuses PATCH, as some registries and proxies do (docker-registry cannot).</summary>
    private sealed class NoPatchHandler() : DelegatingHandler(new SocketsHttpHandler { AllowAutoRedirect = false })
    {
        public int Refused;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Patch)
            {
                Interlocked.Increment(ref Refused);
                return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.MethodNotAllowed) { Content = new StringContent("{\"errors\":[{\"code\":\"UNSUPPORTED\"}]}") });
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    [RegistryFact]
    public async Task Registry_refusing_chunked_uploads_gets_whole_blobs()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var img = TestImages.AddToStore(store, "local/cluster:v1", seed: 9, blobBytes: 3 * 1024 * 1024);
        var handler = new NoPatchHandler();
        using var client = new Sealer.Core.Distribution.RegistryClient(new Sealer.Core.Distribution.RegistryOptions(), null, handler);
        var dest = ImageReference.Parse($"{Env.Registry("docker.io").Address}/{Unique("artifacts/nopatch")}:v1");
        var result = await new RegistryPusher(new PushOptions { Client = client, MonolithicThreshold = 1024 * 1024, ChunkSize = 1024 * 1024, Concurrency = 1 }).PushAsync(store.Layout, img.Descriptor, dest);
        Assert.Equal(1, handler.Refused);
        Assert.Equal(result.BlobsTotal, result.BlobsUploaded);
        var (rc, output) = Skopeo("copy", "--quiet", "--preserve-digests", "--src-tls-verify=false", $"docker://{dest}", $"oci:{tmp.Sub("pulled")}:x");
        Assert.True(rc == 0, output);
    }

    /// <summary>Forwards to the real registry but answers the start of an upload under <paramref name="project"/> as Harbor
    /// does for a project that does not exist (distribution creates repositories on push, so it cannot).</summary>
    private sealed class NoProjectHandler(string project) : DelegatingHandler(new SocketsHttpHandler { AllowAutoRedirect = false })
    {
        public int Refused;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string path = request.RequestUri!.AbsolutePath;
            if (request.Method == HttpMethod.Post && path.StartsWith($"/v2/{project}/", StringComparison.Ordinal) && path.Contains("/blobs/uploads/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref Refused);
                return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.NotFound)
                {
                    Content = new StringContent($"{{\"errors\":[{{\"code\":\"NOT_FOUND\",\"message\":\"project {project} not found\"}}]}}"),
                });
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    [RegistryFact]
    public async Task A_push_into_a_project_the_registry_lacks_says_to_create_it_and_one_that_exists_goes_through()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var img = TestImages.AddToStore(store, "local/cluster:v1", seed: 13, blobBytes: 64 * 1024);
        var handler = new NoProjectHandler("noproject");
        using var client = new Sealer.Core.Distribution.RegistryClient(new Sealer.Core.Distribution.RegistryOptions(), null, handler);
        string registry = Env.Registry("docker.io").Address;
        var missing = ImageReference.Parse($"{registry}/noproject/{Unique("cluster")}:v1");
        var ex = await Assert.ThrowsAsync<SealerException>(() => new RegistryPusher(new PushOptions { Client = client }).PushAsync(store.Layout, img.Descriptor, missing));
        Assert.Equal(ErrorCodes.PushRepositoryMissing, ex.Code);
        Assert.Contains($"has no repository '{missing.Repository}' to push into", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'noproject' is the project: create it", ex.Message, StringComparison.Ordinal);
        Assert.Contains("project noproject not found", ex.Message, StringComparison.Ordinal); // the registry's own words kept
        Assert.True(handler.Refused > 0);

        var exists = ImageReference.Parse($"{registry}/{Unique("artifacts/project")}:v1");
        var result = await new RegistryPusher(new PushOptions { Client = client }).PushAsync(store.Layout, img.Descriptor, exists);
        Assert.Equal(img.Digest, result.Digest);
        var (rc, output) = Skopeo("inspect", "--raw", "--tls-verify=false", $"docker://{exists}");
        Assert.True(rc == 0, output);
    }

    [RegistryFact]
    public async Task Referrers_fall_back_to_the_tag_schema_on_registries_without_the_api()
    {
        using var tmp = new TempDir();
        var store = ClusterImageStore.Open(tmp.Sub("store"));
        var img = TestImages.AddToStore(store, "local/cluster:v1", seed: 7);
        var sig = ReferrerStore.Attach(store, img.Name, "application/vnd.example.signature.v1+json", "{\"sig\":\"abc\"}"u8.ToArray());
        Assert.Single(ClusterImageInspector.Inspect(store, img.Name).Referrers!);

        string registry = Env.Registry("docker.io").Address;
        var dest = ImageReference.Parse($"{registry}/{Unique("artifacts/signed")}:v1");
        var result = await new RegistryPusher().PushAsync(store.Layout, img.Descriptor, dest);
        Assert.Equal(1, result.Referrers);
        string tag = "sha256-" + img.Descriptor.ParsedDigest.Encoded;
        var (rc, raw) = Skopeo("inspect", "--tls-verify=false", "--raw", $"docker://{dest.Name}:{tag}");
        Assert.True(rc == 0, raw);
        var index = OciJsonContext.FromBytes(System.Text.Encoding.UTF8.GetBytes(raw), OciJsonContext.Default.ImageIndex, "referrers");
        Assert.Equal(sig.Digest, Assert.Single(index.Manifests).Digest);

        // Pull brings the signature back; save/load carries it too.
        var other = ClusterImageStore.Open(tmp.Sub("other"));
        await ClusterImagePuller.PullAsync(other, dest.ToString());
        Assert.Equal(sig.Digest, Assert.Single(ClusterImageInspector.Inspect(other, dest.ToString()).Referrers!).Digest);
        await OciArchive.SaveAsync(other, [dest.ToString()], tmp.Sub("signed.tar"));
        var third = ClusterImageStore.Open(tmp.Sub("third"));
        await OciArchive.LoadAsync(third, tmp.Sub("signed.tar"));
        Assert.Equal(sig.Digest, Assert.Single(ClusterImageInspector.Inspect(third, dest.ToString()).Referrers!).Digest);
        // Prune keeps it while the image is named.
        GarbageCollector.Collect(third.Layout, TimeSpan.Zero);
        Assert.True(third.Layout.HasBlob(Digest.Parse(sig.Digest)));
    }
}
