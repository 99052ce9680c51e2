using System.Net;
using System.Net.Sockets;
using System.Text;
using Sealer.Core.Oci;

namespace Sealer.RegistryServer.Tests.Hostile;

/// <summary>
/// Hostile input (docs/hostile-input.md): random requests against the built-in registry — names with traversal,
/// encodings and odd characters, good and malformed digests, tags, <c>ns=</c> values, every method, Range headers
/// (inverted, open, huge, several, garbage), odd Accept values, huge headers, and clients that send a request slowly.
/// Nothing outside its layouts is ever served (canary files beside and inside a served rootfs), no 5xx, a blob served
/// whole always matches its digest, memory stays bounded, and it still answers normally afterwards.
/// </summary>
[Collection("registry")]
public sealed class RegistryFuzzTests(RegistryFixture f)
{
    private const string Canary = "CANARY-OUTSIDE-LAYOUT-7f3a";

    [Fact]
    public async Task Random_hostile_requests_get_clean_answers_and_nothing_outside_the_layouts()
    {
        File.WriteAllText(Path.Combine(f.Root, "canary.txt"), Canary);
        Directory.CreateDirectory(Path.Combine(f.Root, "rootfs", "etc"));
        File.WriteAllText(Path.Combine(f.Root, "rootfs", "etc", "canary.txt"), Canary);
        string[] digests = [f.DockerNginx.Top.Digest, f.QuayNginx.Top.Digest, f.Pause.Top.Digest, f.Big.Top.Digest, "sha256:" + new string('0', 64)];
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var report = Fuzz.Run("registry-requests", Requests(digests, 1500 * Fuzz.Scale), async (req, ct) =>
        {
            var (status, headers, body) = await SendAsync(f.Plain.Port, req, ct);
            string text = Encoding.Latin1.GetString(body);
            Assert.DoesNotContain(Canary, text, StringComparison.Ordinal);
            Assert.DoesNotContain("root:x:0:0", text, StringComparison.Ordinal);
            Assert.True(status is 0 or (>= 200 and < 500), $"{req.Method} {req.Target} gave {status}");
            if (status == 200 && req.Method == "GET" && req.Range is null && req.Target.Contains("/blobs/sha256:", StringComparison.Ordinal) && !req.Target.Contains("/uploads", StringComparison.Ordinal))
            {
                string digest = req.Target[(req.Target.IndexOf("/blobs/", StringComparison.Ordinal) + 7)..].Split('?')[0];
                Assert.Equal(digest, Digest.Sha256(body).ToString());
            }
            if (status is 0 or >= 300) throw new Fuzz.Refusal(status == 0 ? "closed" : "HTTP " + status);
        }, r => Encoding.UTF8.GetBytes($"{r.Method} {r.Target}\n{r.Headers}"), TimeSpan.FromSeconds(10));
        report.AssertClean(1500);
        GC.Collect();
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(after - before < 64L << 20, $"managed memory grew by {(after - before) >> 20} MiB over {report.Inputs} requests");
        using var client = f.Client(f.Plain);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/")).StatusCode);
    }

    [Fact]
    public async Task Huge_headers_and_slow_clients_do_not_stop_it_answering_others()
    {
        // 200 KiB of header: refused (431/400) or the connection closed, never a crash.
        var (status, _, _) = await SendAsync(f.Plain.Port, new Request("GET", "/v2/", "X-Fill: " + new string('a', 200 * 1024) + "\r\n", null), default);
        Assert.True(status is 0 or 400 or 431, $"gave {status}");
        // 200 clients that send half a request line and stall; a normal client is still served promptly.
        var slow = new List<TcpClient>();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, f.Plain.Port);
                await c.GetStream().WriteAsync("GET /v2/library/ngi"u8.ToArray());
                slow.Add(c);
            }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var client = f.Client(f.Plain);
            var r = await client.GetAsync($"/v2/library/nginx/manifests/1.27?ns=quay.io");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"a normal request took {clock.Elapsed} beside 200 stalled clients");
        }
        finally
        {
            foreach (var c in slow) c.Dispose();
        }
    }

    private sealed record Request(string Method, string Target, string Headers, string? Range);

    private static IEnumerable<Request> Requests(string[] digests, int count)
    {
        var random = new Random(Fuzz.Seed);
        string Pick(params string[] xs) => xs[random.Next(xs.Length)];
        string[] names =
        [
            "library/nginx", "nginx", "coreos/etcd", "pause", "library/busybox", "library/big", "..", "%2e%2e", "..%2f..%2fetc", "a//b", "A/B",
            "library/../../etc", "library\\nginx", ".", "-x", "x-", "a" + new string('b', 300), "ü/ñ", "%00", "library%2fnginx", "rootfs/etc", "etc",
            "canary.txt", "a;b", "x/y/z/w/v/u", "",
        ];
        string[] refs =
        [
            "1.27", "latest", "3.9", "v3.5", "1.0", "sha256:abc", "sha256:" + new string('Z', 64), "md5:00", "", "../../canary.txt", "..%2f..%2fcanary.txt",
            "%2e%2e%2f%2e%2e%2fetc%2fcanary.txt", "-", "a" + new string('b', 200), "1.27%00", "sha256:" + new string('0', 64) + "/../../x",
        ];
        for (int i = 0; i < count; i++)
        {
            string name = Pick(names);
            if (random.Next(4) == 0) name += "/" + Pick(names);
            string kind = Pick("manifests", "blobs", "blobs", "tags/list", "referrers", "blobs/uploads", "manifests", "x");
            string reference = kind is "blobs" or "referrers" ? (random.Next(3) == 0 ? Pick(refs) : Pick(digests)) : random.Next(2) == 0 ? Pick(refs) : Pick(digests);
            string target = random.Next(20) == 0 ? Pick("/", "/v2", "/v2/", "/v2/_catalog", "/healthz", "/../canary.txt", "//v2/", "/v2/%2e%2e/%2e%2e/canary.txt", "*", "http://x/v2/")
                : $"/v2/{name}/{kind}" + (kind is "tags/list" || (kind == "blobs/uploads" && random.Next(2) == 0) ? "" : "/" + reference);
            var query = new List<string>();
            if (random.Next(3) == 0) query.Add("ns=" + Pick("docker.io", "quay.io", "registry.k8s.io", "not_a_domain!", "..", "%2e%2e", "", "a" + new string('b', 300), "localhost:5000", "[::1]"));
            if (random.Next(6) == 0) query.Add("n=" + Pick("-1", "0", "1", "99999999999", "x") + "&last=" + Pick("", "1.0", "..", "zzz"));
            if (random.Next(8) == 0) query.Add(Pick("digest=", "mount=", "from=", "artifactType=") + Pick(digests));
            if (query.Count > 0) target += "?" + string.Join('&', query);
            string method = random.Next(4) == 0 ? Pick("HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO") : "GET";
            string? range = random.Next(4) == 0
                ? Pick("bytes=0-", "bytes=-5", "bytes=5-1", "bytes=0-99999999999999", "bytes=a-b", "bytes=0-1,3-4", "bytes=99999999-", "bytes=", "items=0-1", "bytes=-0", "bytes=0-0")
                : null;
            var headers = new StringBuilder();
            if (range is not null) headers.Append("Range: ").Append(range).Append("\r\n");
            if (random.Next(3) == 0) headers.Append("Accept: ").Append(Pick(MediaTypes.OciManifest, MediaTypes.OciIndex, "*/*", "", "text/html", "application/vnd.docker.distribution.manifest.v2+json;q=0.5, */*;q=0.1", new string('x', 4000))).Append("\r\n");
            if (random.Next(10) == 0) headers.Append("Authorization: ").Append(Pick("Basic !!!", "Bearer x", "Basic " + Convert.ToBase64String("a:b"u8.ToArray()), "")).Append("\r\n");
            if (method is "PUT" or "POST" or "PATCH") headers.Append("Content-Length: ").Append(Pick("0", "5", "-1", "99999999999")).Append("\r\n");
            yield return new Request(method, target, headers.ToString(), range);
        }
    }

    /// <summary>One raw HTTP/1.1 request (no client-side normalisation), Connection: close; status 0 when the server closed without a response.</summary>
    private static async Task<(int Status, string Headers, byte[] Body)> SendAsync(int port, Request r, CancellationToken ct)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, ct);
        var stream = tcp.GetStream();
        byte[] req = Encoding.UTF8.GetBytes($"{r.Method} {r.Target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{r.Headers}\r\n");
        try
        {
            await stream.WriteAsync(req, ct);
            if (r.Method is "PUT" or "POST" or "PATCH") await stream.WriteAsync("hello"u8.ToArray(), ct);
        }
        catch (IOException) { } // the server may answer and close before the whole request is written
        var all = new MemoryStream();
        try { await stream.CopyToAsync(all, ct); } catch (IOException) { }
        byte[] bytes = all.ToArray();
        int end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        if (bytes.Length == 0 || end < 0) return (0, "", []);
        string head = Encoding.Latin1.GetString(bytes, 0, end);
        int status = int.Parse(head.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        byte[] body = bytes[(end + 4)..];
        return (status, head, head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) ? Dechunk(body) : body);
    }

    private static byte[] Dechunk(byte[] data)
    {
        var output = new MemoryStream();
        int pos = 0;
        while (pos < data.Length)
        {
            int eol = data.AsSpan(pos).IndexOf("\r\n"u8);
            if (eol < 0) break;
            int size = Convert.ToInt32(Encoding.ASCII.GetString(data, pos, eol).Split(';')[0], 16);
            pos += eol + 2;
            if (size == 0) break;
            output.Write(data, pos, Math.Min(size, data.Length - pos));
            pos += size + 2;
        }
        return output.ToArray();
    }
}
