using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;

namespace Sealer.TestSupport;

/// <summary>
/// A site's own registry (its Harbor) for one test: a fresh Debian <c>docker-registry</c> (CNCF distribution 2.8, which
/// Harbor is built on) on a free loopback port, empty storage under <paramref name="dir"/>, htpasswd basic auth with
/// its own user. Stopped on dispose. <see cref="Inspect"/> and <see cref="Copy"/> read it with skopeo.
/// </summary>
public sealed class SiteRegistry : IDisposable
{
    private readonly Process _process;

    private SiteRegistry(Process process, string host, int port, string dir)
    {
        _process = process;
        Address = $"{host}:{port}";
        Root = dir;
    }

    /// <summary><c>127.0.0.1:PORT</c> (or the address it was started on).</summary>
    public string Address { get; }

    public string Root { get; }

    public string User => "site";

    public string Password => "site-registry-pass";

    public string Storage => Path.Combine(Root, "storage");

    /// <summary>
    /// Starts one; without <paramref name="auth"/> it takes anonymous pushes (a stand-in for another source). On
    /// <paramref name="host"/> (another address of this machine: the test hosts' bridge, for a registry the hosts reach),
    /// with <paramref name="tls"/> (PEM certificate and key files) over HTTPS.
    /// </summary>
    public static SiteRegistry Start(string dir, bool auth = true, string host = "127.0.0.1", (string Certificate, string Key)? tls = null)
    {
        if (!File.Exists("/usr/bin/docker-registry")) throw new InvalidOperationException("docker-registry is not installed: run build/install-test-deps.sh");
        Directory.CreateDirectory(dir);
        int port = LoopbackPort.Free();
        var (code, output) = Processes.Run("htpasswd", "-Bbc", Path.Combine(dir, "htpasswd"), "site", "site-registry-pass");
        if (code != 0) throw new InvalidOperationException("htpasswd: " + output);
        string config = Path.Combine(dir, "config.yml");
        File.WriteAllText(config, $$"""
            version: 0.1
            log: { level: error, accesslog: { disabled: true } }
            storage: { filesystem: { rootdirectory: {{Path.Combine(dir, "storage")}} } }
            {{(auth ? $"auth: {{ htpasswd: {{ realm: site, path: {Path.Combine(dir, "htpasswd")} }} }}" : "")}}
            http: { addr: {{host}}:{{port}}{{(tls is { } t ? $", tls: {{ certificate: {t.Certificate}, key: {t.Key} }}" : "")}} }

            """);
        var process = Process.Start(new ProcessStartInfo("/usr/bin/docker-registry", ["serve", config]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var registry = new SiteRegistry(process, host, port, dir);
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator });
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                if (http.GetAsync($"{(tls is null ? "http" : "https")}://{host}:{port}/v2/").GetAwaiter().GetResult().StatusCode == (auth ? HttpStatusCode.Unauthorized : HttpStatusCode.OK)) return registry;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { }
            if (DateTime.UtcNow > deadline) { registry.Dispose(); throw new TimeoutException($"docker-registry did not start on {registry.Address}"); }
            Thread.Sleep(100);
        }
    }

    /// <summary><c>skopeo inspect --raw</c> of <c>REPOSITORY:TAG</c> (or <c>@DIGEST</c>): the manifest bytes and their digest, or null when absent.</summary>
    public (byte[] Bytes, string Digest)? Inspect(string repositoryAndTag)
    {
        var psi = new ProcessStartInfo("skopeo", ["inspect", "--raw", "--tls-verify=false", "--creds", $"{User}:{Password}", $"docker://{Address}/{repositoryAndTag}"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        psi.Environment["REGISTRY_AUTH_FILE"] = "/nonexistent-auth.json";
        using var p = Process.Start(psi)!;
        using var ms = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(ms);
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            if (err.Contains("manifest unknown", StringComparison.OrdinalIgnoreCase) || err.Contains("not found", StringComparison.OrdinalIgnoreCase)) return null;
            throw new InvalidOperationException($"skopeo inspect {repositoryAndTag}: {err}");
        }
        byte[] bytes = ms.ToArray();
        return (bytes, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    /// <summary><c>skopeo copy</c> of one image (its default platform) into an OCI layout: every blob fetched and digest-checked.</summary>
    public ProcessResult Copy(string repositoryAndTag, string layoutDir)
        => Processes.Run("skopeo", ["copy", "-q", "--src-tls-verify=false", "--src-creds", $"{User}:{Password}", $"docker://{Address}/{repositoryAndTag}", $"oci:{layoutDir}:x"],
            workDir: null, env: [new("REGISTRY_AUTH_FILE", "/nonexistent-auth.json")]);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit(10000);
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
