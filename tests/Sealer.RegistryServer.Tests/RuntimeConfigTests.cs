using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Sealer.Cli;
using Sealer.Cli.Commands;
using Sealer.Core.Diagnostics;
using Sealer.Core.RegistryServer;

namespace Sealer.RegistryServer.Tests;

/// <summary>Runtime configuration (containerd hosts.toml, Docker daemon.json), certificates, and the CLI's registry commands.</summary>
[Collection("registry")]
public sealed class RuntimeConfigTests(RegistryFixture f)
{
    [Fact]
    public void Hosts_toml_for_every_domain_plus_default_with_ca_and_failover_order()
    {
        var domains = RegistryRuntimeConfig.DomainsOf([f.LayoutA, Sealer.RegistryServer.RegistryHost.OpenLayout(Path.Combine(f.Root, "rootfs"))]);
        Assert.Equal(["docker.io", "quay.io", "registry.k8s.io"], domains);
        var config = RegistryRuntimeConfig.Generate(domains, [RegistryEndpoint.Parse("10.200.0.11:5000"), RegistryEndpoint.Parse("https://10.200.0.12:5000")],
            new RuntimeConfigOptions { CaPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", DirectNames = ["sea.hub:5000"] });
        var files = config.Files.ToDictionary(x => x.Path, x => x.Content);
        string docker = files["/etc/containerd/certs.d/docker.io/hosts.toml"];
        Assert.Contains("server = \"https://registry-1.docker.io\"", docker);
        int first = docker.IndexOf("[host.\"https://10.200.0.11:5000\"]", StringComparison.Ordinal);
        int second = docker.IndexOf("[host.\"https://10.200.0.12:5000\"]", StringComparison.Ordinal);
        Assert.True(first > 0 && second > first, "hosts are listed in the given order (containerd fails over in order)");
        Assert.Contains("capabilities = [\"pull\", \"resolve\"]", docker);
        Assert.Contains("ca = \"/etc/sealer/registry/ca.crt\"", docker);
        Assert.Contains("server = \"https://quay.io\"", files["/etc/containerd/certs.d/quay.io/hosts.toml"]);
        Assert.Contains("server = \"https://registry.k8s.io\"", files["/etc/containerd/certs.d/registry.k8s.io/hosts.toml"]);
        Assert.DoesNotContain("server =", files["/etc/containerd/certs.d/_default/hosts.toml"]);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", files["/etc/sealer/registry/ca.crt"]);
        Assert.True(files.ContainsKey("/etc/docker/certs.d/10.200.0.11:5000/ca.crt"));
        Assert.Equal(files["/etc/sealer/registry/ca.crt"], files["/etc/docker/certs.d/sea.hub:5000/ca.crt"]); // the name Docker pulls a Sealer base's images by
        Assert.False(files.ContainsKey("/etc/containerd/certs.d/sea.hub:5000/ca.crt")); // containerd goes through _default's mirrors, with their ca
        using var daemon = JsonDocument.Parse(files["/etc/docker/daemon.json"]);
        Assert.Equal(["https://10.200.0.11:5000", "https://10.200.0.12:5000"], daemon.RootElement.GetProperty("registry-mirrors").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.False(daemon.RootElement.TryGetProperty("insecure-registries", out _));
        // Docker with the containerd image store reads the same hosts.toml files from its own certs.d: every domain mirrored
        foreach (var dir in new[] { "docker.io", "quay.io", "registry.k8s.io", "_default" })
        {
            Assert.Equal(files[$"/etc/containerd/certs.d/{dir}/hosts.toml"], files[$"/etc/docker/certs.d/{dir}/hosts.toml"]);
        }
        Assert.Contains(config.Notes, n => n.Contains("/etc/docker/certs.d/quay.io/hosts.toml mirrors quay.io when Docker uses the containerd image store", StringComparison.Ordinal));
        Assert.Contains(config.Notes, n => n.Contains("cannot mirror quay.io", StringComparison.Ordinal) && n.Contains("10.200.0.11:5000/quay.io/", StringComparison.Ordinal));
        Assert.DoesNotContain(config.Notes, n => n.Contains("cannot mirror docker.io", StringComparison.Ordinal));
    }

    [Fact]
    public void Plain_http_and_skip_verify_variants()
    {
        var http = RegistryRuntimeConfig.Generate(["docker.io"], [RegistryEndpoint.Parse("http://127.0.0.1:5000")]);
        var toml = http.Files.Single(x => x.Path == "/etc/containerd/certs.d/docker.io/hosts.toml").Content;
        Assert.Contains("[host.\"http://127.0.0.1:5000\"]", toml);
        Assert.DoesNotContain("ca =", toml);
        Assert.DoesNotContain("skip_verify", toml);
        Assert.Contains("insecure-registries", http.Files.Single(x => x.Path == "/etc/docker/daemon.json").Content);

        var skip = RegistryRuntimeConfig.Generate(["quay.io"], [RegistryEndpoint.Parse("reg.local:5000")], new RuntimeConfigOptions { SkipVerify = true, Docker = false });
        Assert.Contains("skip_verify = true", skip.Files.Single(x => x.Path.EndsWith("quay.io/hosts.toml", StringComparison.Ordinal)).Content);
        Assert.DoesNotContain(skip.Files, x => x.Path.StartsWith("/etc/docker", StringComparison.Ordinal));

        Assert.Equal("SEA1809", Assert.Throws<SealerException>(() => RegistryEndpoint.Parse("https://host:5000/path")).Code);
        Assert.Equal("SEA1809", Assert.Throws<SealerException>(() => RegistryRuntimeConfig.Generate(["../etc"], [RegistryEndpoint.Parse("h:1")])).Code);
        Assert.Equal("SEA1809", Assert.Throws<SealerException>(() => RegistryRuntimeConfig.Generate(["docker.io"], [])).Code);
    }

    [Fact]
    public void Certificates_have_SANs_chain_to_the_CA_and_the_CA_is_reused()
    {
        string dir = Path.Combine(f.Root, "certs-test");
        var first = CertificateGenerator.Generate(dir, ["registry.local", "10.200.0.11", "localhost"]);
        using var ca = X509CertificateLoader.LoadCertificateFromFile(first.CaCertificate);
        using var server = X509CertificateLoader.LoadCertificateFromFile(first.ServerCertificate);
        var san = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["registry.local", "localhost"], san.EnumerateDnsNames().ToArray());
        Assert.Equal("10.200.0.11", san.EnumerateIPAddresses().Single().ToString());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(server), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(first.ServerKey));

        var second = CertificateGenerator.Generate(dir, ["registry.local", "10.200.0.12"]);
        using var ca2 = X509CertificateLoader.LoadCertificateFromFile(second.CaCertificate);
        Assert.Equal(ca.Thumbprint, ca2.Thumbprint);
        Assert.Equal("SEA1807", Assert.Throws<SealerException>(() => CertificateGenerator.Generate(dir, ["bad host/x"])).Code);
    }

    [Fact]
    public async Task Cli_config_writes_files_under_a_root()
    {
        string root = Path.Combine(f.Root, "cli-config");
        int rc = await Sealer.Cli.SealerCli.InvokeAsync(["registry", "config", "--layout", f.LayoutA.Root, "--domain", "ghcr.io", "--endpoint", "10.200.0.11:5000", "--ca", f.Certs.CaCertificate, "--output-root", root]);
        Assert.Equal(0, rc);
        foreach (var d in new[] { "docker.io", "quay.io", "registry.k8s.io", "ghcr.io", "_default" })
        {
            Assert.True(File.Exists(Path.Combine(root, "etc/containerd/certs.d", d, "hosts.toml")), d);
        }
        Assert.Equal(File.ReadAllText(f.Certs.CaCertificate).TrimEnd(), File.ReadAllText(Path.Combine(root, "etc/sealer/registry/ca.crt")).TrimEnd());
        using var error = new StringWriter();
        Assert.Equal(1, await Sealer.Cli.SealerCli.InvokeAsync(["registry", "config", "--layout", f.LayoutA.Root], default, error));
        Assert.Contains($"error {ErrorCodes.BadCommandLine}: 'registry config' needs --endpoint", error.ToString());
    }

    [Fact]
    public void Cli_serve_options_and_systemd_unit()
    {
        string[] args = ["--layout", "/opt/sealer/rootfs", "--port", "5000", "--tls-cert", "/etc/sealer/registry/server.crt", "--tls-key", "/etc/sealer/registry/server.key", "--htpasswd", "/etc/sealer/registry/htpasswd"];
        var o = RegistryCommands.ParseServe(args);
        Assert.Equal(5000, o.Port);
        Assert.Equal(["/opt/sealer/rootfs"], o.Layouts);
        string unit = RegistryCommands.SystemdUnit("/usr/local/bin/sealer", "sealer-registry", args, o);
        Assert.Contains("ExecStart=/usr/local/bin/sealer registry serve --layout /opt/sealer/rootfs --port 5000 --tls-cert /etc/sealer/registry/server.crt", unit);
        Assert.Contains("--access-log -", unit);
        Assert.Contains("KillSignal=SIGTERM", unit);
        Assert.Contains("Restart=always", unit);
        Assert.Contains("WantedBy=multi-user.target", unit);

        Assert.Equal(ErrorCodes.BadCommandLine, Assert.Throws<SealerException>(() => RegistryCommands.ParseServe(["--layout", "x", "--prot", "1"])).Code);
        Assert.Equal(ErrorCodes.BadCommandLine, Assert.Throws<SealerException>(() => RegistryCommands.ParseServe(["--layout", "x", "--port", "70000"])).Code);
        Assert.Equal("SEA1800", Assert.Throws<SealerException>(() => RegistryCommands.ParseServe([])).Code);
        Assert.Equal("SEA1801", Assert.Throws<SealerException>(() => RegistryCommands.ParseServe(["--layout", "x", "--address", "nohost"])).Code);
        var spaced = RegistryCommands.SystemdUnit("/opt/my tools/sealer", "r", ["--layout", "/srv/a b", "--default-domain", "docker.io"], RegistryCommands.ParseServe(["--layout", "/srv/a b"]));
        Assert.Contains("ExecStart=\"/opt/my tools/sealer\" registry serve --layout \"/srv/a b\"", spaced);
    }

    [Fact]
    public async Task Cli_unit_passes_the_serve_options_to_ExecStart_and_keeps_its_own()
    {
        string file = Path.Combine(f.Root, "cli-unit", "sealer-registry.service");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        int rc = await Sealer.Cli.SealerCli.InvokeAsync(["registry", "unit", "--binary", "/opt/sealer", "--layout", "/srv/a", "--port=5001", "--name", "reg",
            "--no-verify", "--layout", "/srv/b", "--output", file]);
        Assert.Equal(0, rc);
        string unit = File.ReadAllText(file);
        Assert.Contains("ExecStart=/opt/sealer registry serve --layout /srv/a --layout /srv/b --port 5001 --no-verify", unit);
        Assert.DoesNotContain("--name", unit);
        Assert.DoesNotContain("--output", unit);

        using var error = new StringWriter();
        Assert.Equal(1, await Sealer.Cli.SealerCli.InvokeAsync(["registry", "unit", "--layout", "/srv/a", "--prot", "1"], default, error));
        Assert.Contains("error SEA5001: 'registry unit': unknown option '--prot'", error.ToString());
    }
}
