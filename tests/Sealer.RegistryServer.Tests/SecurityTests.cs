using System.Net;
using System.Net.Sockets;
using System.Text;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.RegistryServer.Tests;

/// <summary>Hostile input: traversal, malformed digests and names, huge ranges, auth, TLS, and a flood of connections.</summary>
[Collection("registry")]
public sealed class SecurityTests(RegistryFixture f)
{
    [Theory]
    [InlineData("/v2/../../../../etc/passwd/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("/v2/library/..%2f..%2f..%2fetc/manifests/latest")]
    [InlineData("/v2/%2e%2e/%2e%2e/etc/manifests/passwd")]
    [InlineData("/v2/library/nginx/blobs/..%2F..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/v2/library/nginx/blobs/sha256:../../../../etc/passwd")]
    [InlineData("/v2/library/nginx/manifests/../../../../etc/passwd")]
    [InlineData("/v2/./library/nginx/manifests/1.27")]
    [InlineData("/v2/library//nginx/manifests/1.27")]
    [InlineData("/v2/library\\..\\nginx/manifests/1.27")]
    [InlineData("/v2/LIBRARY/nginx/manifests/1.27")]
    public async Task Traversal_and_odd_names_are_rejected_and_never_read_outside_the_layouts(string target)
    {
        var (status, response) = await RegistryFixture.RawAsync(f.Plain.Port, target);
        Assert.True(status is 400 or 404, $"{target} gave {status}");
        Assert.DoesNotContain("root:", response, StringComparison.Ordinal);
        Assert.Contains("\"errors\"", response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("sha256:ZZZZ000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("sha256:0000000000000000000000000000000000000000000000000000000000000000a")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha256:")]
    [InlineData("notadigest")]
    public async Task Malformed_blob_digests_give_DIGEST_INVALID(string digest)
    {
        using var client = f.Client(f.Plain);
        var r = await client.GetAsync($"/v2/library/nginx/blobs/{digest}");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("DIGEST_INVALID", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Malformed_manifest_references_are_clear_errors()
    {
        using var client = f.Client(f.Plain);
        var r = await client.GetAsync("/v2/library/nginx/manifests/sha256:1234");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("DIGEST_INVALID", await r.Content.ReadAsStringAsync());
        r = await client.GetAsync("/v2/library/nginx/manifests/" + new string('a', 200));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("MANIFEST_INVALID", await r.Content.ReadAsStringAsync());
        r = await client.GetAsync("/v2/library/nginx/manifests/1.27?ns=not_a_domain!");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("NAME_INVALID", await r.Content.ReadAsStringAsync());
        var (status, _) = await RegistryFixture.RawAsync(f.Plain.Port, "/v2/library/nginx/blobs/" + new string('x', 12000));
        Assert.True(status is 400 or 414 or 431, $"gave {status}");
    }

    [Fact]
    public async Task Basic_auth_is_required_on_v2_but_not_on_healthz()
    {
        using var client = f.Client(f.Secure);
        var r = await client.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        Assert.StartsWith("Basic realm=", r.Headers.WwwAuthenticate.ToString());
        Assert.Contains("UNAUTHORIZED", await r.Content.ReadAsStringAsync());

        var wrong = new HttpRequestMessage(HttpMethod.Get, "/v2/");
        wrong.Headers.Authorization = RegistryFixture.Basic(RegistryFixture.User, "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(wrong)).StatusCode);
        var garbage = new HttpRequestMessage(HttpMethod.Get, "/v2/");
        garbage.Headers.TryAddWithoutValidation("Authorization", "Basic !!!notbase64");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(garbage)).StatusCode);

        for (int i = 0; i < 2; i++) // the second hits the verified-credentials cache
        {
            var ok = new HttpRequestMessage(HttpMethod.Get, "/v2/library/nginx/manifests/1.27");
            ok.Headers.Authorization = RegistryFixture.Basic(RegistryFixture.User, RegistryFixture.Password);
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ok)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public void Htpasswd_accepts_apache_bcrypt_and_rejects_other_hashes()
    {
        string dir = Path.Combine(f.Root, "htpw");
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, "good");
        if (File.Exists("/usr/bin/htpasswd"))
        {
            var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/htpasswd", ["-Bbc", file, "ci", "pw-ci"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
        }
        else
        {
            File.WriteAllText(file, "ci:" + BCrypt.Net.BCrypt.HashPassword("pw-ci", 5) + "\n");
        }
        var auth = HtpasswdAuthenticator.Load(file);
        Assert.Equal("ci", auth.Authenticate("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ci:pw-ci"))));
        Assert.Null(auth.Authenticate("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ci:nope"))));
        Assert.Null(auth.Authenticate("Bearer abc"));

        string md5 = Path.Combine(dir, "md5");
        File.WriteAllText(md5, "ci:$apr1$abc$def\n");
        var ex = Assert.Throws<Sealer.Core.Diagnostics.SealerException>(() => HtpasswdAuthenticator.Load(md5));
        Assert.Equal("SEA1803", ex.Code);
        Assert.Equal(1, ex.Line);
    }

    [Fact]
    public async Task Tls_uses_the_generated_certificate_with_SANs()
    {
        using var client = f.Client(f.Secure);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        using var ip = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert!.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension>().Single().EnumerateIPAddresses().Contains(IPAddress.Loopback) })
        { BaseAddress = new Uri($"https://127.0.0.1:{f.Secure.Port}") };
        Assert.Equal(HttpStatusCode.OK, (await ip.GetAsync("/healthz")).StatusCode);
        // Plain HTTP to the TLS port does not get an answer from the registry.
        using var plain = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{f.Secure.Port}") };
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync("/healthz"));
    }

    [Fact]
    public async Task Tls_negotiates_HTTP2_and_serves_manifests_and_blobs_over_it()
    {
        using var client = f.Client(f.Secure);
        client.DefaultRequestVersion = HttpVersion.Version20;
        client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        client.DefaultRequestHeaders.Authorization = RegistryFixture.Basic(RegistryFixture.User, RegistryFixture.Password);
        var manifest = await client.GetAsync("/v2/library/nginx/manifests/1.27");
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(HttpVersion.Version20, manifest.Version);
        var layer = f.Big.Layers[0];
        var blob = await client.GetAsync($"/v2/library/big/blobs/{layer.Digest}");
        Assert.Equal(HttpVersion.Version20, blob.Version);
        Assert.Equal(layer.Digest, Digest.Sha256(await blob.Content.ReadAsByteArrayAsync()).ToString());
        // The same client over HTTP/1.1 on the same port (ALPN offers both).
        var http1 = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/healthz") { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact });
        Assert.Equal(HttpVersion.Version11, http1.Version);
        Assert.Equal(HttpStatusCode.OK, http1.StatusCode);
    }

    [Fact]
    public async Task Plain_HTTP_is_HTTP1_only_and_refuses_HTTP2_prior_knowledge()
    {
        using var h2c = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{f.Plain.Port}"), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        await Assert.ThrowsAsync<HttpRequestException>(() => h2c.GetAsync("/healthz"));
        using var http1 = f.Client(f.Plain);
        var ok = await http1.GetAsync("/healthz");
        Assert.Equal(HttpVersion.Version11, ok.Version);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task A_thousand_concurrent_connections_do_not_crash_it()
    {
        const int connections = 1100;
        string request = $"GET /v2/library/nginx/manifests/1.27?ns=quay.io HTTP/1.1\r\nHost: x\r\nAccept: {MediaTypes.OciManifest}\r\nConnection: close\r\n\r\n";
        var sockets = new List<TcpClient>();
        try
        {
            // Open them all first, then send on all at once.
            var connects = Enumerable.Range(0, connections).Select(async _ =>
            {
                var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, f.Plain.Port);
                return c;
            });
            sockets.AddRange(await Task.WhenAll(connects));
            var results = await Task.WhenAll(sockets.Select(async c =>
            {
                var s = c.GetStream();
                await s.WriteAsync(Encoding.ASCII.GetBytes(request));
                using var reader = new StreamReader(s, Encoding.ASCII);
                return await reader.ReadToEndAsync();
            })).WaitAsync(TimeSpan.FromSeconds(120));
            Assert.All(results, r => Assert.StartsWith("HTTP/1.1 200 OK", r));
            Assert.All(results, r => Assert.Contains(f.QuayNginx.Top.Digest, r));
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
        }
        using var client = f.Client(f.Plain);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Corrupt_blobs_and_unknown_manifest_types_are_never_served()
    {
        // A layout of our own, so the shared one stays intact.
        var layout = OciLayout.OpenOrCreate(Path.Combine(f.Root, "corrupt"));
        var img = OciImages.Add(layout, "docker.io/library/corrupt:1", "corrupt", layers: 1);
        string layerPath = layout.BlobPath(img.Layers[0].ParsedDigest);
        var bytes = File.ReadAllBytes(layerPath);
        bytes[^1] ^= 0xff;
        File.WriteAllBytes(layerPath, bytes);
        // An artifact whose manifest declares a media type we do not know.
        var odd = layout.WriteBlob("{\"schemaVersion\":2,\"mediaType\":\"application/x-unknown+json\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"size\":1},\"layers\":[]}"u8, "application/x-unknown+json");
        layout.SetRef("docker.io/library/odd:1", odd);

        var options = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0 };
        options.Layouts.Add(layout.Root);
        await using var host = await RegistryHost.StartAsync(options);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };
        var r = await client.GetAsync($"/v2/library/corrupt/blobs/{img.Layers[0].Digest}");
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.Contains("corrupt", await r.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v2/library/corrupt/blobs/{img.Configs[0].Digest}")).StatusCode);
        Assert.DoesNotContain("docker.io/library/odd", host.Store.RepositoryNames);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v2/library/odd/manifests/1")).StatusCode);
    }

    [Fact]
    public async Task Bad_startup_input_gives_coded_errors()
    {
        var missing = new RegistryServerOptions { Port = 0 };
        missing.Layouts.Add(Path.Combine(f.Root, "does-not-exist"));
        var ex = await Assert.ThrowsAsync<Sealer.Core.Diagnostics.SealerException>(() => RegistryHost.StartAsync(missing));
        Assert.Equal("SEA1800", ex.Code);

        var tls = new RegistryServerOptions { Port = 0, TlsCertificateFile = f.Certs.ServerCertificate };
        tls.Layouts.Add(f.LayoutA.Root);
        Assert.Equal("SEA1802", (await Assert.ThrowsAsync<Sealer.Core.Diagnostics.SealerException>(() => RegistryHost.StartAsync(tls))).Code);

        var busy = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = f.Plain.Port };
        busy.Layouts.Add(f.LayoutA.Root);
        Assert.Equal("SEA1801", (await Assert.ThrowsAsync<Sealer.Core.Diagnostics.SealerException>(() => RegistryHost.StartAsync(busy))).Code);

        var push = new RegistryServerOptions { Port = 0, AllowPush = true };
        push.Layouts.Add(f.LayoutA.Root);
        Assert.Equal("SEA1800", (await Assert.ThrowsAsync<Sealer.Core.Diagnostics.SealerException>(() => RegistryHost.StartAsync(push))).Code);
    }
}
