using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;

namespace Sealer.Core.RegistryServer;

/// <summary>The files <see cref="CertificateGenerator.Generate"/> wrote.</summary>
public sealed record GeneratedCertificates(string CaCertificate, string CaKey, string ServerCertificate, string ServerKey);

/// <summary>
/// Makes a private CA and a server certificate for the built-in registry, with a subjectAltName for every host name and IP
/// the registry is reached by (containerd and Go check SANs, never the CN). ECDSA P-256, SHA-256. The CA is reused when
/// <c>ca.crt</c>/<c>ca.key</c> already exist in the directory, so adding a host re-issues only the server certificate and
/// nodes that already trust the CA keep working. Keys are written with mode 0600.
/// </summary>
public static class CertificateGenerator
{
    public const string CaCertificateFile = "ca.crt";
    public const string CaKeyFile = "ca.key";
    public const string ServerCertificateFile = "server.crt";
    public const string ServerKeyFile = "server.key";

    public static GeneratedCertificates Generate(string directory, IReadOnlyList<string> hosts, TimeSpan? validity = null, string commonName = "sealer-registry")
    {
        if (hosts.Count == 0) throw new SealerException(ErrorCodes.RegistryCertGenerationFailed, "Give at least one host name or IP address the registry is reached by (--host).");
        var san = new SubjectAlternativeNameBuilder();
        foreach (var raw in hosts)
        {
            string host = raw.Trim();
            if (IPAddress.TryParse(host.Trim('[', ']'), out var ip)) san.AddIpAddress(ip);
            else if (IsDnsName(host)) san.AddDnsName(host);
            else throw new SealerException(ErrorCodes.RegistryCertGenerationFailed, $"'{raw}' is neither a DNS name nor an IP address; give hosts without a port or scheme.");
        }
        var lifetime = validity ?? TimeSpan.FromDays(3650);
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);
        Directory.CreateDirectory(directory);
        var files = new GeneratedCertificates(Path.Combine(directory, CaCertificateFile), Path.Combine(directory, CaKeyFile),
            Path.Combine(directory, ServerCertificateFile), Path.Combine(directory, ServerKeyFile));
        try
        {
            X509Certificate2 ca;
            if (File.Exists(files.CaCertificate) && File.Exists(files.CaKey))
            {
                ca = X509Certificate2.CreateFromPemFile(files.CaCertificate, files.CaKey);
            }
            else
            {
                using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var caReq = new CertificateRequest($"CN={commonName} CA, O=Sealer", caKey, HashAlgorithmName.SHA256);
                caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
                caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
                caReq.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caReq.PublicKey, false));
                ca = caReq.CreateSelfSigned(now, now.AddDays(Math.Max(lifetime.TotalDays, 1) + 365));
                WriteKey(files.CaKey, caKey.ExportPkcs8PrivateKeyPem());
                AtomicFile.WriteAllText(files.CaCertificate, ca.ExportCertificatePem() + "\n");
            }
            using (ca)
            {
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var req = new CertificateRequest($"CN={commonName}, O=Sealer", key, HashAlgorithmName.SHA256);
                req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
                req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
                req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
                req.CertificateExtensions.Add(san.Build(critical: false));
                req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
                req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
                var notAfter = now.Add(lifetime);
                if (notAfter > ca.NotAfter) notAfter = ca.NotAfter;
                byte[] serial = RandomNumberGenerator.GetBytes(16);
                serial[0] &= 0x7f;
                using var cert = req.Create(ca, now, notAfter, serial);
                WriteKey(files.ServerKey, key.ExportPkcs8PrivateKeyPem());
                // Server certificate followed by the CA: clients that only know the CA can build the chain.
                AtomicFile.WriteAllText(files.ServerCertificate, cert.ExportCertificatePem() + "\n" + ca.ExportCertificatePem() + "\n");
            }
        }
        catch (CryptographicException ex)
        {
            throw new SealerException(ErrorCodes.RegistryCertGenerationFailed, $"Cannot generate certificates in '{directory}': {ex.Message}. Delete a damaged ca.crt/ca.key to start a new CA.", inner: ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new SealerException(ErrorCodes.RegistryCertGenerationFailed, $"Cannot write certificates to '{directory}': {ex.Message}.", inner: ex);
        }
        return files;
    }

    private static void WriteKey(string path, string pem)
    {
        AtomicFile.WriteAllText(path, pem + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static bool IsDnsName(string host)
    {
        if (host.Length is 0 or > 253) return false;
        foreach (var label in host.Split('.'))
        {
            if (label.Length is 0 or > 63) return false;
            if (label == "*" ) continue;
            if (!char.IsAsciiLetterOrDigit(label[0]) || !char.IsAsciiLetterOrDigit(label[^1])) return false;
            if (label.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-'))) return false;
        }
        return true;
    }
}
