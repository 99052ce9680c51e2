using System.Diagnostics;
using System.Text.Json;

namespace Sealer.RegistryServer.Tests;

/// <summary>skopeo (a Docker-style client: no ns, path mapping) inspects and copies from our registry, and pushes into it.</summary>
[Collection("registry")]
public sealed class SkopeoTests(RegistryFixture f)
{
    private static async Task<string> SkopeoAsync(params string[] args)
    {
        Assert.True(File.Exists("/usr/bin/skopeo"), "skopeo is not installed: run build/install-test-deps.sh");
        var psi = new ProcessStartInfo("/usr/bin/skopeo", args) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["REGISTRY_AUTH_FILE"] = "/nonexistent-auth.json";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token);
        Assert.True(p.ExitCode == 0, $"skopeo {string.Join(' ', args)}: {await stderr}");
        return await stdout;
    }

    [Fact]
    public async Task Inspect_by_path_mapped_and_default_domain_names()
    {
        string addr = $"127.0.0.1:{f.Plain.Port}";
        var quay = JsonDocument.Parse(await SkopeoAsync("inspect", "--tls-verify=false", $"docker://{addr}/quay.io/library/nginx:1.27")).RootElement;
        Assert.Equal(f.QuayNginx.Top.Digest, quay.GetProperty("Digest").GetString());
        var raw = await SkopeoAsync("inspect", "--raw", "--tls-verify=false", $"docker://{addr}/library/nginx:1.27");
        Assert.Equal(f.DockerNginx.Top.Digest, Sealer.Core.Oci.Digest.Sha256(System.Text.Encoding.UTF8.GetBytes(raw)).ToString());
        var tags = JsonDocument.Parse(await SkopeoAsync("list-tags", "--tls-verify=false", $"docker://{addr}/library/busybox")).RootElement;
        Assert.Equal(RegistryFixture.BusyboxTagList.Length, tags.GetProperty("Tags").GetArrayLength());
    }

    [Fact]
    public async Task Copy_all_platforms_out_of_the_registry_keeps_digests()
    {
        string dest = Path.Combine(f.Root, "skopeo-out");
        await SkopeoAsync("copy", "--all", "--src-tls-verify=false", $"docker://127.0.0.1:{f.Plain.Port}/docker.io/library/nginx:1.27", $"oci:{dest}:nginx");
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(dest, "index.json")));
        Assert.Equal(f.DockerNginx.Top.Digest, index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString());
    }

    [Fact]
    public async Task Inspect_over_TLS_with_credentials()
    {
        string certDir = Path.Combine(f.Root, "skopeo-certs");
        Directory.CreateDirectory(certDir);
        File.Copy(f.Certs.CaCertificate, Path.Combine(certDir, "ca.crt"), overwrite: true);
        var etcd = JsonDocument.Parse(await SkopeoAsync("inspect", "--cert-dir", certDir, "--creds", $"{RegistryFixture.User}:{RegistryFixture.Password}",
            $"docker://localhost:{f.Secure.Port}/quay.io/coreos/etcd:v3.5")).RootElement;
        Assert.Equal(f.Etcd.Top.Digest, etcd.GetProperty("Digest").GetString());
    }

    [Fact]
    public async Task Push_into_the_writable_layout_then_pull_back()
    {
        string push = $"127.0.0.1:{f.Push.Port}";
        // From one of the served layouts (by its full ref name) into a new repository of the push registry.
        await SkopeoAsync("copy", "--all", "--dest-tls-verify=false", $"oci:{f.LayoutA.Root}:quay.io/library/nginx:1.27", $"docker://{push}/ci/app:7");
        await SkopeoAsync("copy", "--all", "--dest-tls-verify=false", $"oci:{f.LayoutA.Root}:docker.io/library/nginx:1.27", $"docker://{push}/ghcr.io/ci/multi:1");
        var layout = Sealer.Core.Layout.OciLayout.Open(f.WritableRoot);
        Assert.Equal(f.QuayNginx.Top.Digest, layout.FindRef("docker.io/ci/app:7")!.Digest);
        Assert.Equal(f.DockerNginx.Top.Digest, layout.FindRef("ghcr.io/ci/multi:1")!.Digest);
        var back = JsonDocument.Parse(await SkopeoAsync("inspect", "--tls-verify=false", $"docker://{push}/ghcr.io/ci/multi:1")).RootElement;
        Assert.Equal(f.DockerNginx.Top.Digest, back.GetProperty("Digest").GetString());
        // The served (read) layouts were not written to.
        Assert.Null(f.LayoutA.FindRef("docker.io/ci/app:7"));
    }
}
