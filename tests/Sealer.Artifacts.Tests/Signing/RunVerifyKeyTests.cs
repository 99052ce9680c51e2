using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Sealer.Core.Layout;
using Sealer.Core.Signing;

namespace Sealer.Artifacts.Tests.Signing;

/// <summary>
/// <c>sealer run --verify-key</c> and <c>spec.imageVerifyKey</c>: an unsigned or wrongly signed image is refused before any
/// host is contacted. The one "host" is a TCP listener on loopback standing in for sshd: it counts connections.
/// </summary>
public class RunVerifyKeyTests
{
    private sealed class CountingListener : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private int _connections;

        public CountingListener()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Connections => Volatile.Read(ref _connections);

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync();
                    Interlocked.Increment(ref _connections);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        }

        public void Dispose() => _listener.Stop();
    }

    private static (string Layout, string Clusterfile) Setup(TempDir tmp, int sshPort, string? imageVerifyKey = null)
    {
        var layout = OciLayout.OpenOrCreate(tmp.Sub("image"));
        var root = TestImages.BuildMultiArch(layout, seed: 8);
        layout.SetRef("example.com/verified/cluster:v1", root);
        string clusterfile = tmp.Sub("Clusterfile");
        File.WriteAllText(clusterfile, $"""
            apiVersion: sealer.io/v2
            kind: Cluster
            metadata:
              name: verified
            spec:
              image: {tmp.Sub("image")}
            {(imageVerifyKey is null ? "" : $"  imageVerifyKey: {imageVerifyKey}\n")}  ssh:
                passwd: not-used
                port: "{sshPort}"
              hosts:
                - ips: [127.0.0.1]
                  roles: [master]
            """);
        return (tmp.Sub("image"), clusterfile);
    }

    private static ProcessResult Sealer(TempDir tmp, params string[] args)
        => Processes.Run("dotnet", [SealerCli.Dll, .. args], workDir: tmp.Path,
            env: new Dictionary<string, string?> { ["HOME"] = tmp.Sub("home"), ["SEALER_CACHE_DIR"] = tmp.Sub("cache"), ["COSIGN_PASSWORD"] = null }, timeoutMs: 120_000);

    [Fact]
    public void Run_with_a_verify_key_refuses_an_unsigned_image_before_contacting_any_host_and_goes_on_once_it_is_signed()
    {
        using var tmp = new TempDir();
        using var host = new CountingListener();
        var (layout, clusterfile) = Setup(tmp, host.Port);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(tmp.Sub("cosign.pub"), SigningKeys.ExportPublicKeyPem(key));
        File.WriteAllText(tmp.Sub("cosign.key"), PemEncoding.WriteString("PRIVATE KEY", key.ExportPkcs8PrivateKey()));

        var (code, output) = Sealer(tmp, "run", "-f", clusterfile, "--verify-key", tmp.Sub("cosign.pub"));
        Assert.Equal(1, code);
        Assert.Contains("error SEA5603", output);
        Assert.Equal(0, host.Connections);

        // signed by another key: still refused, still no host contacted
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(tmp.Sub("other.key"), PemEncoding.WriteString("PRIVATE KEY", other.ExportPkcs8PrivateKey()));
        (code, output) = Sealer(tmp, "sign", "--key", tmp.Sub("other.key"), layout);
        Assert.True(code == 0, output);
        (code, output) = Sealer(tmp, "run", "-f", clusterfile, "--verify-key", tmp.Sub("cosign.pub"));
        Assert.Equal(1, code);
        Assert.Contains("error SEA5605", output);
        Assert.Equal(0, host.Connections);

        // signed with the right key: the run goes on to the hosts (and fails there: the stand-in is no sshd)
        (code, output) = Sealer(tmp, "sign", "--key", tmp.Sub("cosign.key"), layout);
        Assert.True(code == 0, output);
        (code, output) = Sealer(tmp, "run", "-f", clusterfile, "--verify-key", tmp.Sub("cosign.pub"));
        Assert.NotEqual(0, code);
        Assert.DoesNotContain("SEA56", output);
        Assert.True(host.Connections > 0, output);
    }

    [Fact]
    public void The_Clusterfile_imageVerifyKey_refuses_an_unsigned_image_before_contacting_any_host()
    {
        using var tmp = new TempDir();
        using var host = new CountingListener();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(tmp.Sub("vendor.pub"), SigningKeys.ExportPublicKeyPem(key));
        var (_, clusterfile) = Setup(tmp, host.Port, imageVerifyKey: "vendor.pub"); // relative to the Clusterfile

        var (code, output) = Sealer(tmp, "run", "-f", clusterfile);
        Assert.Equal(1, code);
        Assert.Contains("error SEA5603", output);
        Assert.Equal(0, host.Connections);
    }
}
