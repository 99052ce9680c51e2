// The floor of `sealer`'s size and start-up (build/bench/aot-floor.sh): every API below is one sealer uses, called once
// behind a run-time condition so the compiler keeps it. `aot-floor --version` is the start-up measured (as `sealer --version`).
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace AotFloor;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 1 && args[0] == "--version")
        {
            Console.WriteLine("aot-floor " + typeof(Program).Assembly.GetName().Version);
            return 0;
        }
        if (args.Length < 12) return 2;
        await Task.Yield();
#if FLOOR_CLIENT
        await Client(args);
#endif
#if FLOOR_SERVER
        await Server.Run(args);
#endif
#if FLOOR_LIBS
        await Libs.Run(args);
#endif
        return 0;
    }

#if FLOOR_CLIENT
    private static async Task Client(string[] args)
    {
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, e) => e == SslPolicyErrors.None || args[9] == "insecure" },
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, args[1]);
        request.Headers.Range = new RangeHeaderValue(0, 1023);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", args[10]);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        foreach (var challenge in response.Headers.WwwAuthenticate) Console.WriteLine(challenge.Scheme + challenge.Parameter);
        await using (var body = await response.Content.ReadAsStreamAsync())
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            int n;
            while ((n = await body.ReadAsync(buffer)) > 0) sha.AppendData(buffer, 0, n);
            Console.WriteLine(Convert.ToHexStringLower(sha.GetHashAndReset()));
        }
        using var put = await http.PutAsync(args[1], new StreamContent(File.OpenRead(args[2])));
        Console.WriteLine((int)put.StatusCode + " " + put.Headers.Location);

        string json = await File.ReadAllTextAsync(args[2]);
        using (var doc = JsonDocument.Parse(json)) Console.WriteLine(doc.RootElement.GetProperty("mediaType").GetString());
        var manifest = JsonSerializer.Deserialize(json, FloorJson.Default.Manifest)!;
        Console.WriteLine(JsonSerializer.Serialize(manifest, FloorJson.Default.Manifest));
        var node = JsonNode.Parse(json)!;
        node["annotations"] = new JsonObject { ["a"] = "b" };
        Console.WriteLine(node.ToJsonString());
        using (var writer = new Utf8JsonWriter(Console.OpenStandardOutput())) { writer.WriteStartObject(); writer.WriteString("k", args[3]); writer.WriteEndObject(); }

        var regex = new Regex(args[3], RegexOptions.CultureInvariant);
        Console.WriteLine(regex.Replace(args[4], "$1"));

        await using (var gz = new GZipStream(File.OpenRead(args[5]), CompressionMode.Decompress))
        using (var tar = new TarReader(gz))
        {
            while (tar.GetNextEntry() is { } entry) Console.WriteLine(entry.Name + entry.Length);
        }
        await using (var output = new GZipStream(File.Create(args[6]), CompressionLevel.Fastest))
        using (var tarWriter = new TarWriter(output, TarEntryFormat.Pax))
        {
            tarWriter.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "x") { DataStream = new MemoryStream([1, 2, 3]) });
            tarWriter.WriteEntry(args[2], "manifest.json");
        }

        using (var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var csr = new CertificateRequest("CN=" + args[7], ecdsa, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(args[7]);
            san.AddIpAddress(IPAddress.Parse(args[8]));
            csr.CertificateExtensions.Add(san.Build());
            csr.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            using var cert = csr.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(365));
            Console.WriteLine(cert.ExportCertificatePem() + ecdsa.ExportECPrivateKeyPem());
            using var loaded = X509Certificate2.CreateFromPemFile(args[2], args[6]);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(cert);
            Console.WriteLine(chain.Build(loaded));
        }
        using (var rsa = RSA.Create(2048)) Console.WriteLine(rsa.ExportRSAPrivateKeyPem());
        Console.WriteLine(Convert.ToHexStringLower(SHA512.HashData(File.ReadAllBytes(args[2]))) + Convert.ToHexStringLower(HMACSHA256.HashData([1], [2])));

        var start = new ProcessStartInfo(args[7]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(args[8]);
        using (var process = Process.Start(start)!)
        {
            Console.WriteLine(await process.StandardOutput.ReadToEndAsync());
            await process.WaitForExitAsync();
        }

        using (var client = new TcpClient())
        {
            await client.ConnectAsync(args[8], 22);
            await using var stream = client.GetStream();
            await stream.WriteAsync(new byte[] { 1 });
        }
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            socket.Listen();
            Console.WriteLine(socket.LocalEndPoint);
        }

        var channel = Channel.CreateBounded<(string, long)>(4);
        var dict = new ConcurrentDictionary<string, long>();
        await channel.Writer.WriteAsync((args[1], 1));
        channel.Writer.Complete();
        await foreach (var item in channel.Reader.ReadAllAsync()) dict[item.Item1] = item.Item2;
        var frozen = dict.ToFrozenDictionary(StringComparer.Ordinal);
        await Parallel.ForEachAsync(frozen, async (kv, ct) => await Task.Delay(1, ct));
        Console.WriteLine(frozen.Count + string.Join(",", dict.OrderBy(k => k.Key).Select(k => k.Value).Where(v => v > 0)));
        await using var file = new FileStream(args[6], FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        Console.WriteLine(RandomAccess.GetLength(file.SafeFileHandle));
    }
#endif
}

#if FLOOR_CLIENT
internal sealed record Descriptor(string MediaType, string Digest, long Size, Dictionary<string, string>? Annotations);

internal sealed record Manifest(int SchemaVersion, string? MediaType, Descriptor Config, List<Descriptor> Layers);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Manifest))]
internal sealed partial class FloorJson : JsonSerializerContext;
#endif
