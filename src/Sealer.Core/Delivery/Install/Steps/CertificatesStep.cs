using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Layout;
using Sealer.Core.RegistryServer;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// A private CA (kept locally and on master0, so another machine continues with the same CA) and a server certificate
/// naming the registry domain, every registry host's address and the Clusterfile's subjectAltName entries. Registry hosts
/// whose certificate changed (e.g. a master was added) get their registry restarted. Runs on every run; not recorded.
/// </summary>
internal sealed class CertificatesStep : InstallStep
{
    public override string Name => "certificates";

    public override StepScope Scope => StepScope.Cluster;

    public override StepRerun Rerun => StepRerun.EveryRun;

    public override string Does => "the registry's private CA (kept locally and on master0) and server certificate on every registry host; a changed certificate restarts that registry";

    public override string Reads => "registry.localRegistry (domain, subjectAltName), the registry hosts, the CA kept locally or on master0";

    public override string When => "the local registry serves TLS (not insecure: true)";

    public override bool AppliesTo(InstallContext ctx) => ctx.Tls && ctx.RegistryHosts.Count > 0;

    public override async Task RunAsync(InstallContext ctx, StepRunner runner, CancellationToken cancellationToken)
    {
        var master0 = ctx.Master0!;
        var registryNodes = ctx.RegistryHosts;
        var local = ctx.Cluster.Registry.Local;
        string certDir = ctx.LocalCertDir;
        Directory.CreateDirectory(certDir);
        string caCrt = Path.Combine(certDir, CertificateGenerator.CaCertificateFile), caKey = Path.Combine(certDir, CertificateGenerator.CaKeyFile);
        if (!File.Exists(caCrt) || !File.Exists(caKey))
        {
            var r = await master0.Ssh.RunAsync($"d={Q(ctx.RemoteCertDir)}; if [ -f \"$d/ca.crt\" ] && [ -f \"$d/ca.key\" ]; then cat \"$d/ca.crt\"; echo '--- sealer ---'; cat \"$d/ca.key\"; fi",
                new CommandOptions { Description = $"{RegistryStep.StepName}: read the registry CA" }, cancellationToken).ConfigureAwait(false);
            var parts = r.Stdout.Split("--- sealer ---\n");
            if (parts.Length == 2)
            {
                AtomicFile.WriteAllText(caCrt, parts[0]);
                AtomicFile.WriteAllText(caKey, parts[1]);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(caKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        var sans = new List<string> { local.Domain, "localhost", "127.0.0.1" };
        sans.AddRange(registryNodes.Select(r => r.Ip));
        sans.AddRange(local.SubjectAltNameDns);
        sans.AddRange(local.SubjectAltNameIps);
        sans = sans.Distinct(StringComparer.Ordinal).ToList();
        string sansFile = Path.Combine(certDir, "sans.txt");
        bool changed = !File.Exists(sansFile) || File.ReadAllText(sansFile) != string.Join('\n', sans)
            || !File.Exists(Path.Combine(certDir, CertificateGenerator.ServerCertificateFile));
        if (changed)
        {
            CertificateGenerator.Generate(certDir, sans);
            AtomicFile.WriteAllText(sansFile, string.Join('\n', sans));
        }
        ctx.CaPem = File.ReadAllText(caCrt);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["ca.crt"] = File.ReadAllBytes(caCrt),
            ["server.crt"] = File.ReadAllBytes(Path.Combine(certDir, CertificateGenerator.ServerCertificateFile)),
            ["server.key"] = File.ReadAllBytes(Path.Combine(certDir, CertificateGenerator.ServerKeyFile)),
        };
        string serverHex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(files["server.crt"]));
        await Task.WhenAll(registryNodes.Select(async n =>
        {
            var have = await n.Ssh.RunAsync($"sha256sum {Q(ctx.RemoteCertDir + "/server.crt")} 2>/dev/null | cut -c1-64; true", new CommandOptions { Description = $"{RegistryStep.StepName}: check the certificate" }, cancellationToken).ConfigureAwait(false);
            bool isMaster0 = n == master0;
            if (have.Stdout.Trim() == serverHex && !isMaster0) return;
            var upload = new Dictionary<string, byte[]>(files, StringComparer.Ordinal);
            if (isMaster0) upload["ca.key"] = File.ReadAllBytes(caKey); // the CA stays with the cluster
            await n.Ssh.WriteFilesAsync(ctx.ClusterDir, upload.Select(f => new RemoteFile($"certs/{f.Key}", f.Value, UnixFileMode.UserRead | UnixFileMode.UserWrite)),
                new CommandOptions { Description = $"{RegistryStep.StepName}: install the registry certificate" }, privateDirectories: true, cancellationToken).ConfigureAwait(false);
            if (have.Stdout.Trim().Length > 0 && have.Stdout.Trim() != serverHex)
            {
                // a new certificate: restart that registry
                await n.Ssh.RunAsync($"f={Q(ctx.ClusterDir + "/registry.pid")}; if [ -f \"$f\" ]; then p=$(cat \"$f\"); kill \"$p\" 2>/dev/null || echo 'the registry had stopped'; " +
                    "for i in $(seq 1 100); do kill -0 \"$p\" 2>/dev/null || break; sleep 0.1; done; fi; rm -f \"$f\"; systemctl restart sealer-registry 2>/dev/null || true",
                    new CommandOptions { Description = $"{RegistryStep.StepName}: restart for the new certificate" }, cancellationToken).ConfigureAwait(false);
                ctx.State.UnmarkHost(n.Ip, RegistryStep.StepName);
            }
        })).ConfigureAwait(false);
    }
}
