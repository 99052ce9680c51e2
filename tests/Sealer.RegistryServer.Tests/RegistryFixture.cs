using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.RegistryServer;

namespace Sealer.RegistryServer.Tests;

/// <summary>
/// Shared by every test in the "registry" collection: fixture layouts written with Sealer.Core, and three in-process
/// registries on random loopback ports: plain read-only, TLS + htpasswd, and push-enabled.
/// </summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    public const string User = "puller";
    public const string Password = "s3cret-pull";

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sealer-regtest-" + Guid.NewGuid().ToString("N")[..8]);
    public OciLayout LayoutA { get; private set; } = null!;
    public OciLayout LayoutB { get; private set; } = null!;
    public BuiltImage DockerNginx { get; private set; } = null!;
    public BuiltImage QuayNginx { get; private set; } = null!;
    public BuiltImage Pause { get; private set; } = null!;
    public BuiltImage Alpine { get; private set; } = null!;
    public BuiltImage Busybox { get; private set; } = null!;
    public BuiltImage Big { get; private set; } = null!;
    public BuiltImage Etcd { get; private set; } = null!;
    public Descriptor Sbom { get; private set; } = null!;
    public RegistryHost Plain { get; private set; } = null!;
    public RegistryHost Secure { get; private set; } = null!;
    public RegistryHost Push { get; private set; } = null!;
    public GeneratedCertificates Certs { get; private set; } = null!;
    public string WritableRoot => Path.Combine(Root, "writable");
    public static readonly string[] BusyboxTagList = Enumerable.Range(0, 12).Select(i => $"1.{i}").ToArray();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        LayoutA = OciLayout.OpenOrCreate(Path.Combine(Root, "a"));
        // A cluster image rootfs holds the layout under registry/: serve it by the rootfs path.
        LayoutB = OciLayout.OpenOrCreate(Path.Combine(Root, "rootfs", "registry"));
        DockerNginx = OciImages.Add(LayoutA, "docker.io/library/nginx:1.27", "dockerhub-nginx", multiArch: true);
        QuayNginx = OciImages.Add(LayoutA, "quay.io/library/nginx:1.27", "quay-nginx");
        Pause = OciImages.Add(LayoutA, "registry.k8s.io/pause:3.9", "k8s-pause", docker: true, layers: 1);
        var alpine = OciImages.Add(LayoutA, "unused", "alpine-pinned", addToIndex: false);
        Alpine = alpine with { RefName = $"docker.io/library/alpine@{alpine.Top.Digest}" };
        LayoutA.SetRef(Alpine.RefName, Alpine.Top);
        Busybox = OciImages.Add(LayoutA, "docker.io/library/busybox:" + BusyboxTagList[0], "busybox", layers: 1);
        foreach (var t in BusyboxTagList.Skip(1)) LayoutA.SetRef("docker.io/library/busybox:" + t, Busybox.Top);
        Big = OciImages.Add(LayoutA, "docker.io/library/big:1", "big", layers: 1, layerBytes: 3 * 1024 * 1024);
        Etcd = OciImages.Add(LayoutB, "quay.io/coreos/etcd:v3.5", "etcd");
        // An SBOM artifact referring to quay's nginx, in index.json without a name (as copied along with its subject).
        var emptyConfig = LayoutA.WriteBlob("{}"u8, MediaTypes.OciEmpty);
        var sbomLayer = LayoutA.WriteBlob("{\"spdxVersion\":\"SPDX-2.3\"}"u8, "application/spdx+json");
        var sbom = new ImageManifest
        {
            MediaType = MediaTypes.OciManifest,
            ArtifactType = "application/vnd.example.sbom.v1",
            Config = emptyConfig,
            Layers = [sbomLayer],
            Subject = QuayNginx.Top,
            Annotations = new Dictionary<string, string> { ["org.example.format"] = "spdx" },
        };
        Sbom = LayoutA.WriteBlob(OciJsonContext.ToBytes(sbom, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest);
        LayoutA.UpdateIndex(list => [.. list, Sbom]);
        // A bare tag (as skopeo copy oci:dir:tag writes) names no repository and is skipped.
        LayoutA.SetRef("latest", Pause.Top);

        Certs = CertificateGenerator.Generate(Path.Combine(Root, "certs"), ["localhost", "127.0.0.1", "::1"]);
        string htpasswd = Path.Combine(Root, "htpasswd");
        await File.WriteAllTextAsync(htpasswd, $"# users\n{User}:{BCrypt.Net.BCrypt.HashPassword(Password, 4)}\n");

        Plain = await RegistryHost.StartAsync(Options(o => { }));
        Secure = await RegistryHost.StartAsync(Options(o =>
        {
            o.TlsCertificateFile = Certs.ServerCertificate;
            o.TlsKeyFile = Certs.ServerKey;
            o.HtpasswdFile = htpasswd;
        }));
        Push = await RegistryHost.StartAsync(Options(o =>
        {
            o.Layouts.Clear();
            o.Layouts.Add(LayoutA.Root);
            o.AllowPush = true;
            o.WritableLayout = WritableRoot;
        }));
    }

    private RegistryServerOptions Options(Action<RegistryServerOptions> configure)
    {
        var o = new RegistryServerOptions { ListenAddress = IPAddress.Loopback, Port = 0 };
        o.Layouts.Add(LayoutA.Root);
        o.Layouts.Add(Path.Combine(Root, "rootfs"));
        configure(o);
        return o;
    }

    public HttpClient Client(RegistryHost host)
    {
        if (!host.IsTls) return new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };
        var handler = new HttpClientHandler
        {
            // Trust exactly our generated CA.
            ServerCertificateCustomValidationCallback = (_, cert, chain, errors) =>
            {
                if (cert is null || chain is null) return false;
                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Certs.CaCertificate));
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return chain.Build(cert) && (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) == 0;
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{host.Port}") };
    }

    public static AuthenticationHeaderValue Basic(string user, string password)
        => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    /// <summary>Sends a raw HTTP/1.1 request line (no client-side normalization) and returns the status line and body.</summary>
    public static async Task<(int Status, string Response)> RawAsync(int port, string requestTarget, string method = "GET", string extraHeaders = "")
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        byte[] req = Encoding.ASCII.GetBytes($"{method} {requestTarget} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extraHeaders}\r\n");
        await stream.WriteAsync(req);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string all = await reader.ReadToEndAsync();
        var status = int.Parse(all.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, all);
    }

    public async Task DisposeAsync()
    {
        foreach (var h in new[] { Plain, Secure, Push }) if (h is not null) await h.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition("registry")]
public sealed class RegistryCollection : ICollectionFixture<RegistryFixture>, ICollectionFixture<ContainerdFixture>
{
}
