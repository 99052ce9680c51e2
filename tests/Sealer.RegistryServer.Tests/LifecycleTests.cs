using System.Net;
using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.RegistryServer.Tests;

/// <summary>Graceful shutdown, live reload of index.json, and the access log.</summary>
[Collection("registry")]
public sealed class LifecycleTests(RegistryFixture f)
{
    [Fact]
    public async Task Shutdown_lets_an_in_flight_download_finish_then_refuses_connections()
    {
        var options = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0, ShutdownTimeout = TimeSpan.FromSeconds(20) };
        options.Layouts.Add(f.LayoutA.Root);
        var host = await RegistryHost.StartAsync(options);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };
        var layer = f.Big.Layers[0];
        using var response = await client.GetAsync($"/v2/library/big/blobs/{layer.Digest}", HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[4096];
        await body.ReadExactlyAsync(first);
        var stopping = host.StopAsync();
        await Task.Delay(200);
        var rest = new MemoryStream();
        await body.CopyToAsync(rest);
        await stopping;
        var all = first.Concat(rest.ToArray()).ToArray();
        Assert.Equal(layer.Digest, Digest.Sha256(all).ToString());
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => new HttpClient().GetAsync($"http://127.0.0.1:{host.Port}/v2/"));
        await host.DisposeAsync();
    }

    [Fact]
    public async Task A_new_image_in_a_layout_is_served_without_restart()
    {
        var layout = OciLayout.OpenOrCreate(Path.Combine(f.Root, "live"));
        OciImages.Add(layout, "docker.io/library/first:1", "live-first", layers: 1);
        var options = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0 };
        options.Layouts.Add(layout.Root);
        await using var host = await RegistryHost.StartAsync(options);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v2/library/second/manifests/1")).StatusCode);
        var second = OciImages.Add(layout, "docker.io/library/second:1", "live-second", layers: 1);
        // index.json changes are picked up within about a second.
        File.SetLastWriteTimeUtc(layout.IndexPath, DateTime.UtcNow.AddSeconds(2));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        HttpStatusCode status;
        do
        {
            await Task.Delay(250);
            status = (await client.GetAsync("/v2/library/second/manifests/1")).StatusCode;
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v2/library/second/blobs/{second.Layers[0].Digest}")).StatusCode);
    }

    [Fact]
    public async Task Access_log_has_one_line_per_request_and_no_credentials()
    {
        string log = Path.Combine(f.Root, "access-" + Guid.NewGuid().ToString("N")[..6] + ".log");
        string htpasswd = Path.Combine(f.Root, "log-htpasswd");
        await File.WriteAllTextAsync(htpasswd, $"logger:{BCrypt.Net.BCrypt.HashPassword("log-secret-pw", 4)}\n");
        var options = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0, AccessLog = log, HtpasswdFile = htpasswd };
        options.Layouts.Add(f.LayoutA.Root);
        var host = await RegistryHost.StartAsync(options);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };
        client.DefaultRequestHeaders.Authorization = RegistryFixture.Basic("logger", "log-secret-pw");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/library/nginx/manifests/1.27?ns=quay.io")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v2/library/nope/manifests/1")).StatusCode);
        await host.DisposeAsync();
        var lines = await File.ReadAllLinesAsync(log);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^127\.0\.0\.1 - logger \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] ""GET /v2/library/nginx/manifests/1\.27\?ns=quay\.io HTTP/1\.1"" 200 \d+ \d+\.\d{3}$", lines[0]);
        Assert.Contains("\" 404 ", lines[1]);
        Assert.DoesNotContain("log-secret-pw", string.Join('\n', lines));
    }

    [Theory]
    [InlineData("../../etc")]
    [InlineData("quay.io/../..")]
    [InlineData("a b")]
    [InlineData("-bad.example")]
    public async Task Bad_ns_values_are_NAME_INVALID(string ns)
    {
        using var client = f.Client(f.Plain);
        var r = await client.GetAsync($"/v2/library/nginx/manifests/1.27?ns={Uri.EscapeDataString(ns)}");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("NAME_INVALID", await r.Content.ReadAsStringAsync());
    }
}
