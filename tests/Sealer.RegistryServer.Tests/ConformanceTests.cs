using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Sealer.Core.Oci;

namespace Sealer.RegistryServer.Tests;

/// <summary>
/// The pull section of the OCI distribution spec (spec.md: "Pulling manifests", "Pulling blobs", "Content discovery",
/// "Error codes"), plus Docker v2 schema 2 and the multi-domain rules, against the in-process read-only registry.
/// </summary>
[Collection("registry")]
public sealed class ConformanceTests(RegistryFixture f)
{
    private HttpClient Client => f.Client(f.Plain);

    private static async Task<(string Code, JsonElement Error)> ErrorOf(HttpResponseMessage r)
    {
        Assert.StartsWith("application/json", r.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        var e = doc.RootElement.GetProperty("errors")[0].Clone();
        Assert.True(e.TryGetProperty("message", out _));
        Assert.True(e.TryGetProperty("detail", out _));
        return (e.GetProperty("code").GetString()!, e);
    }

    private static HttpRequestMessage Req(HttpMethod method, string url, params string[] accept)
    {
        var r = new HttpRequestMessage(method, url);
        foreach (var a in accept) r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(a));
        return r;
    }

    [Fact]
    public async Task Base_endpoint_answers_200_with_api_version()
    {
        var r = await Client.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("registry/2.0", r.Headers.GetValues("Docker-Distribution-API-Version").Single());
        Assert.Equal("{}", await r.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Manifest_by_tag_GET_and_HEAD_carry_type_digest_and_length()
    {
        var get = await Client.SendAsync(Req(HttpMethod.Get, "/v2/library/nginx/manifests/1.27?ns=quay.io", MediaTypes.AllManifests));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        byte[] body = await get.Content.ReadAsByteArrayAsync();
        Assert.Equal(MediaTypes.OciManifest, get.Content.Headers.ContentType!.MediaType);
        Assert.Equal(f.QuayNginx.Top.Digest, get.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(body)), f.QuayNginx.Top.Digest);
        Assert.Equal(body.Length, get.Content.Headers.ContentLength);

        var head = await Client.SendAsync(Req(HttpMethod.Head, "/v2/library/nginx/manifests/1.27?ns=quay.io", MediaTypes.AllManifests));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(body.Length, head.Content.Headers.ContentLength);
        Assert.Equal(f.QuayNginx.Top.Digest, head.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Manifest_by_digest_returns_the_exact_bytes()
    {
        foreach (var m in f.DockerNginx.Manifests.Append(f.DockerNginx.Top))
        {
            var r = await Client.SendAsync(Req(HttpMethod.Get, $"/v2/library/nginx/manifests/{m.Digest}?ns=docker.io", MediaTypes.AllManifests));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(m.Digest, Digest.Sha256(await r.Content.ReadAsByteArrayAsync()).ToString());
            Assert.Equal(m.MediaType, r.Content.Headers.ContentType!.MediaType);
        }
    }

    [Fact]
    public async Task Index_is_negotiated_by_Accept()
    {
        // Accepts indexes: the index itself.
        var idx = await Client.SendAsync(Req(HttpMethod.Get, "/v2/library/nginx/manifests/1.27", MediaTypes.OciIndex, MediaTypes.OciManifest));
        Assert.Equal(MediaTypes.OciIndex, idx.Content.Headers.ContentType!.MediaType);
        Assert.Equal(f.DockerNginx.Top.Digest, idx.Headers.GetValues("Docker-Content-Digest").Single());
        // Manifests only, by tag: the linux/amd64 manifest (as distribution does for clients without index support).
        var amd = await Client.SendAsync(Req(HttpMethod.Get, "/v2/library/nginx/manifests/1.27", MediaTypes.OciManifest));
        Assert.Equal(HttpStatusCode.OK, amd.StatusCode);
        Assert.Equal(f.DockerNginx.Manifests[0].Digest, amd.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(MediaTypes.OciManifest, amd.Content.Headers.ContentType!.MediaType);
        // Manifests only, by digest: the exact content was asked for; it is refused with a clear error, never swapped.
        var byDigest = await Client.SendAsync(Req(HttpMethod.Get, $"/v2/library/nginx/manifests/{f.DockerNginx.Top.Digest}", MediaTypes.OciManifest));
        Assert.Equal(HttpStatusCode.NotFound, byDigest.StatusCode);
        var (code, e) = await ErrorOf(byDigest);
        Assert.Equal("MANIFEST_UNKNOWN", code);
        Assert.Contains("Accept", e.GetProperty("message").GetString());
        // No Accept, or */*: served as stored.
        var any = await Client.GetAsync("/v2/library/nginx/manifests/1.27");
        Assert.Equal(MediaTypes.OciIndex, any.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Docker_schema2_media_types_are_served_as_stored()
    {
        var r = await Client.SendAsync(Req(HttpMethod.Get, "/v2/pause/manifests/3.9?ns=registry.k8s.io", MediaTypes.DockerManifest, MediaTypes.DockerManifestList));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(MediaTypes.DockerManifest, r.Content.Headers.ContentType!.MediaType);
        Assert.Equal(f.Pause.Top.Digest, r.Headers.GetValues("Docker-Content-Digest").Single());
        var cfg = await Client.GetAsync($"/v2/registry.k8s.io/pause/blobs/{f.Pause.Configs[0].Digest}");
        Assert.Equal(HttpStatusCode.OK, cfg.StatusCode);
    }

    [Fact]
    public async Task Blob_GET_and_HEAD()
    {
        var layer = f.QuayNginx.Layers[0];
        var get = await Client.GetAsync($"/v2/library/nginx/blobs/{layer.Digest}?ns=quay.io");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        byte[] body = await get.Content.ReadAsByteArrayAsync();
        Assert.Equal(layer.Digest, Digest.Sha256(body).ToString());
        Assert.Equal(layer.Digest, get.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal("application/octet-stream", get.Content.Headers.ContentType!.MediaType);
        Assert.Equal("bytes", get.Headers.AcceptRanges.Single());
        var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/quay.io/library/nginx/blobs/{layer.Digest}"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(layer.Size, head.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Blob_ranges_give_206_and_416()
    {
        var layer = f.Big.Layers[0];
        byte[] whole = await Client.GetByteArrayAsync($"/v2/library/big/blobs/{layer.Digest}");
        Assert.Equal(layer.Size, whole.Length);

        async Task<HttpResponseMessage> Range(string range)
        {
            var req = new HttpRequestMessage(HttpMethod.Get, $"/v2/library/big/blobs/{layer.Digest}");
            req.Headers.TryAddWithoutValidation("Range", range);
            return await Client.SendAsync(req);
        }

        var r = await Range("bytes=1000-1999");
        Assert.Equal(HttpStatusCode.PartialContent, r.StatusCode);
        Assert.Equal($"bytes 1000-1999/{layer.Size}", r.Content.Headers.ContentRange!.ToString());
        Assert.Equal(whole.AsSpan(1000, 1000).ToArray(), await r.Content.ReadAsByteArrayAsync());
        // The whole blob and a range across several of the handler's 256 KiB send steps arrive byte-exact.
        Assert.Equal(layer.Digest, Digest.Sha256(whole).ToString());
        r = await Range("bytes=262000-1048999");
        Assert.Equal(HttpStatusCode.PartialContent, r.StatusCode);
        Assert.Equal(whole.AsSpan(262000, 1048999 - 262000 + 1).ToArray(), await r.Content.ReadAsByteArrayAsync());

        r = await Range("bytes=-100");
        Assert.Equal(HttpStatusCode.PartialContent, r.StatusCode);
        Assert.Equal(whole.AsSpan(whole.Length - 100).ToArray(), await r.Content.ReadAsByteArrayAsync());

        r = await Range($"bytes={layer.Size - 10}-");
        Assert.Equal(10, (await r.Content.ReadAsByteArrayAsync()).Length);

        r = await Range($"bytes=0-{layer.Size * 4}"); // end past the blob: clamped
        Assert.Equal(HttpStatusCode.PartialContent, r.StatusCode);
        Assert.Equal(layer.Size, (await r.Content.ReadAsByteArrayAsync()).Length);

        foreach (var bad in new[] { $"bytes={layer.Size}-", "bytes=5-2", "bytes=0-99999999999999999999999999", "bytes=99999999999999999999-", "bytes=abc", "bytes=-0" })
        {
            r = await Range(bad);
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, r.StatusCode);
            Assert.Equal($"bytes */{layer.Size}", r.Content.Headers.ContentRange!.ToString());
            Assert.Contains("invalid range", await r.Content.ReadAsStringAsync());
        }
        // Several ranges: allowed to ignore; the whole blob comes back.
        r = await Range("bytes=0-1,5-6");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(layer.Size, r.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Unknown_things_give_404_with_spec_codes()
    {
        var r = await Client.GetAsync("/v2/library/nginx/manifests/9.9.9");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal("MANIFEST_UNKNOWN", (await ErrorOf(r)).Code);

        r = await Client.GetAsync("/v2/library/nosuch/manifests/1.0");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal("NAME_UNKNOWN", (await ErrorOf(r)).Code);

        r = await Client.GetAsync("/v2/library/nginx/blobs/sha256:" + new string('0', 64));
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal("BLOB_UNKNOWN", (await ErrorOf(r)).Code);

        r = await Client.GetAsync("/v2/library/nosuch/tags/list");
        Assert.Equal("NAME_UNKNOWN", (await ErrorOf(r)).Code);

        var head = await Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v2/library/nginx/manifests/9.9.9"));
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Fact]
    public async Task Tags_list_paginates_with_n_last_and_Link()
    {
        var all = JsonDocument.Parse(await Client.GetStringAsync("/v2/library/busybox/tags/list")).RootElement;
        Assert.Equal("library/busybox", all.GetProperty("name").GetString());
        var expected = RegistryFixture.BusyboxTagList.Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, all.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());

        var collected = new List<string>();
        string? url = "/v2/library/busybox/tags/list?n=5";
        int pages = 0;
        while (url is not null)
        {
            var r = await Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var tags = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList();
            Assert.True(tags.Count <= 5);
            collected.AddRange(tags);
            pages++;
            url = r.Headers.TryGetValues("Link", out var link) ? link.Single().Split(';')[0].Trim('<', '>') : null;
        }
        Assert.Equal(expected, collected);
        Assert.Equal(3, pages);

        var after = JsonDocument.Parse(await Client.GetStringAsync($"/v2/library/busybox/tags/list?last={expected[9]}")).RootElement;
        Assert.Equal(expected[10..], after.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());

        var bad = await Client.GetAsync("/v2/library/busybox/tags/list?n=-1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("UNSUPPORTED", (await ErrorOf(bad)).Code);

        // n=0: an empty list and no Link header (spec).
        var zero = await Client.GetAsync("/v2/library/busybox/tags/list?n=0");
        Assert.Equal(0, JsonDocument.Parse(await zero.Content.ReadAsStringAsync()).RootElement.GetProperty("tags").GetArrayLength());
        Assert.False(zero.Headers.Contains("Link"));
    }

    [Fact]
    public async Task Catalog_lists_full_names_and_ns_filters_by_domain()
    {
        var repos = JsonDocument.Parse(await Client.GetStringAsync("/v2/_catalog")).RootElement.GetProperty("repositories").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(["docker.io/library/alpine", "docker.io/library/big", "docker.io/library/busybox", "docker.io/library/nginx", "quay.io/coreos/etcd", "quay.io/library/nginx", "registry.k8s.io/pause"], repos);
        var quay = JsonDocument.Parse(await Client.GetStringAsync("/v2/_catalog?ns=quay.io")).RootElement.GetProperty("repositories").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(["coreos/etcd", "library/nginx"], quay);
        var page = await Client.GetAsync("/v2/_catalog?n=2");
        Assert.Equal(2, JsonDocument.Parse(await page.Content.ReadAsStringAsync()).RootElement.GetProperty("repositories").GetArrayLength());
        Assert.Contains("last=docker.io%2Flibrary%2Fbig", page.Headers.GetValues("Link").Single());
    }

    [Fact]
    public void Every_4xx_error_code_is_one_of_the_specs()
    {
        string[] spec = ["BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID", "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID",
            "MANIFEST_UNKNOWN", "NAME_INVALID", "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED", "TOOMANYREQUESTS"];
        foreach (var d in ErrorDescriptors.All.Append(RegistryHandler.PaginationNumberInvalid).Where(d => d.HttpStatusCode is >= 400 and < 500))
        {
            Assert.Contains(d.Value, spec);
        }
    }

    [Fact]
    public async Task Referrers_API_lists_artifacts_whose_subject_is_the_digest()
    {
        var r = await Client.GetAsync($"/v2/library/nginx/referrers/{f.QuayNginx.Top.Digest}?ns=quay.io");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(MediaTypes.OciIndex, r.Content.Headers.ContentType!.MediaType);
        Assert.Equal("quay.io", r.Headers.GetValues("OCI-Namespace").Single());
        var manifests = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("manifests");
        Assert.Equal(1, manifests.GetArrayLength());
        Assert.Equal(f.Sbom.Digest, manifests[0].GetProperty("digest").GetString());
        Assert.Equal("application/vnd.example.sbom.v1", manifests[0].GetProperty("artifactType").GetString());
        Assert.Equal("spdx", manifests[0].GetProperty("annotations").GetProperty("org.example.format").GetString());
        // The referrer itself can be pulled from that repository (and not from docker.io's nginx).
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync($"/v2/quay.io/library/nginx/manifests/{f.Sbom.Digest}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/v2/docker.io/library/nginx/manifests/{f.Sbom.Digest}")).StatusCode);

        var filtered = await Client.GetAsync($"/v2/quay.io/library/nginx/referrers/{f.QuayNginx.Top.Digest}?artifactType=application/x-other");
        Assert.Equal("artifactType", filtered.Headers.GetValues("OCI-Filters-Applied").Single());
        Assert.Equal(0, JsonDocument.Parse(await filtered.Content.ReadAsStringAsync()).RootElement.GetProperty("manifests").GetArrayLength());
        // No referrers: an empty index, never 404. A bad digest: 400.
        var none = await Client.GetAsync($"/v2/docker.io/library/nginx/referrers/{f.DockerNginx.Top.Digest}");
        Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Client.GetAsync("/v2/docker.io/library/nginx/referrers/sha256:12")).StatusCode);
    }

    [Fact]
    public async Task Same_repository_on_two_domains_stays_apart()
    {
        async Task<string> DigestOf(string url)
            => (await Client.SendAsync(Req(HttpMethod.Head, url, MediaTypes.AllManifests))).Headers.GetValues("Docker-Content-Digest").Single();

        Assert.NotEqual(f.DockerNginx.Top.Digest, f.QuayNginx.Top.Digest);
        Assert.Equal(f.DockerNginx.Top.Digest, await DigestOf("/v2/library/nginx/manifests/1.27?ns=docker.io"));
        Assert.Equal(f.QuayNginx.Top.Digest, await DigestOf("/v2/library/nginx/manifests/1.27?ns=quay.io"));
        // Path mapping for clients that send no ns (Docker, skopeo), and the default domain.
        Assert.Equal(f.QuayNginx.Top.Digest, await DigestOf("/v2/quay.io/library/nginx/manifests/1.27"));
        Assert.Equal(f.DockerNginx.Top.Digest, await DigestOf("/v2/docker.io/library/nginx/manifests/1.27"));
        Assert.Equal(f.DockerNginx.Top.Digest, await DigestOf("/v2/nginx/manifests/1.27"));
        Assert.Equal(f.DockerNginx.Top.Digest, await DigestOf("/v2/library/nginx/manifests/1.27?ns=index.docker.io"));
        // A repository serves only its own content: quay's layer is not docker.io's.
        var r = await Client.GetAsync($"/v2/library/nginx/blobs/{f.QuayNginx.Layers[0].Digest}?ns=docker.io");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    [Fact]
    public async Task Digest_pinned_and_second_layout_images_are_served()
    {
        var pinned = await Client.SendAsync(Req(HttpMethod.Get, $"/v2/library/alpine/manifests/{f.Alpine.Top.Digest}?ns=docker.io", MediaTypes.AllManifests));
        Assert.Equal(HttpStatusCode.OK, pinned.StatusCode);
        var tags = JsonDocument.Parse(await Client.GetStringAsync("/v2/library/alpine/tags/list")).RootElement.GetProperty("tags");
        Assert.Equal(0, tags.GetArrayLength());
        var etcd = await Client.SendAsync(Req(HttpMethod.Get, "/v2/coreos/etcd/manifests/v3.5?ns=quay.io", MediaTypes.AllManifests));
        Assert.Equal(f.Etcd.Top.Digest, etcd.Headers.GetValues("Docker-Content-Digest").Single());
    }

    [Fact]
    public async Task Read_only_registry_refuses_writes()
    {
        var put = await Client.PutAsync("/v2/library/nginx/manifests/evil", new ByteArrayContent("{}"u8.ToArray()));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        Assert.Equal("UNSUPPORTED", (await ErrorOf(put)).Code);
        var post = await Client.PostAsync("/v2/library/nginx/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        var del = await Client.DeleteAsync($"/v2/library/nginx/manifests/{f.DockerNginx.Top.Digest}");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, del.StatusCode);
        // The layout is untouched.
        Assert.Equal(f.DockerNginx.Top.Digest, f.LayoutA.FindRef("docker.io/library/nginx:1.27")!.Digest);
    }
}
