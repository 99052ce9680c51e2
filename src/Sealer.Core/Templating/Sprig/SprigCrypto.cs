using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Sealer.Core.Templating.Sprig;

/// <summary>sprig's certificate result: <c>.Cert</c> and <c>.Key</c> PEM strings.</summary>
public sealed class SprigCertificate(string cert, string key) : IGoObject, IGoPlainValue
{
    public string Cert { get; } = cert;
    public string Key { get; } = key;
    public string GoTypeName => "sprig.certificate";
    public GoFunc? GetMethod(string name) => null;
    public bool TryGetField(string name, out object? value)
    {
        value = name switch { "Cert" => Cert, "Key" => Key, _ => null };
        return value is not null;
    }
    public override string ToString() => "{" + Cert + " " + Key + "}";

    /// <summary>JSON/YAML form of Go's struct: <c>{"Cert": ..., "Key": ...}</c>.</summary>
    public object? ToPlainValue() => new Dictionary<string, object?>(StringComparer.Ordinal) { ["Cert"] = Cert, ["Key"] = Key };
}

internal static class SprigCrypto
{
    public static void Register(Dictionary<string, GoFunc> m, Random? rng, object gate, bool reuseKeys = false)
    {
        void Add(GoFunc f) => m[f.Name] = f;
        Add(GoFunc.Create("genPrivateKey", [GoType.String], a => GenPrivateKey((string)a[0]!, reuseKeys)));
        Add(GoFunc.Create("genCA", [GoType.String, GoType.Int], a => GenCA((string)a[0]!, (int)(long)a[1]!, null, reuseKeys)));
        Add(GoFunc.Create("genCAWithKey", [GoType.String, GoType.Int, GoType.String], a => GenCA((string)a[0]!, (int)(long)a[1]!, (string)a[2]!, reuseKeys)));
        Add(GoFunc.Create("genSelfSignedCert", [GoType.String, GoType.List, GoType.List, GoType.Int],
            a => GenCert((string)a[0]!, (List<object?>?)a[1], (List<object?>?)a[2], (int)(long)a[3]!, null, null, reuseKeys)));
        Add(GoFunc.Create("genSelfSignedCertWithKey", [GoType.String, GoType.List, GoType.List, GoType.Int, GoType.String],
            a => GenCert((string)a[0]!, (List<object?>?)a[1], (List<object?>?)a[2], (int)(long)a[3]!, null, (string)a[4]!, reuseKeys)));
        Add(GoFunc.Create("genSignedCert", [GoType.String, GoType.List, GoType.List, GoType.Int, GoType.Any],
            a => GenCert((string)a[0]!, (List<object?>?)a[1], (List<object?>?)a[2], (int)(long)a[3]!, a[4] as SprigCertificate ?? throw new GoFuncException("genSignedCert: ca must be a certificate"), null, reuseKeys)));
        Add(GoFunc.Create("genSignedCertWithKey", [GoType.String, GoType.List, GoType.List, GoType.Int, GoType.Any, GoType.String],
            a => GenCert((string)a[0]!, (List<object?>?)a[1], (List<object?>?)a[2], (int)(long)a[3]!, a[4] as SprigCertificate ?? throw new GoFuncException("genSignedCert: ca must be a certificate"), (string)a[5]!, reuseKeys)));
        Add(GoFunc.Create("buildCustomCert", [GoType.String, GoType.String], a => new SprigCertificate(
            Encoding.UTF8.GetString(Convert.FromBase64String((string)a[0]!)), Encoding.UTF8.GetString(Convert.FromBase64String((string)a[1]!)))));
        Add(GoFunc.Create("htpasswd", [GoType.String, GoType.String], a =>
        {
            var user = (string)a[0]!;
            if (user.Contains(':')) return "invalid username: " + user;
            return user + ":" + BCrypt.Net.BCrypt.HashPassword((string)a[1]!, BCrypt.Net.BCrypt.GenerateSalt(10, 'a'));
        }));
        Add(GoFunc.Create("bcrypt", [GoType.String], a => BCrypt.Net.BCrypt.HashPassword((string)a[0]!, BCrypt.Net.BCrypt.GenerateSalt(10, 'a'))));
        Add(GoFunc.Create("encryptAES", [GoType.String, GoType.String], a => EncryptAes((string)a[0]!, (string)a[1]!, rng, gate)));
        Add(GoFunc.Create("decryptAES", [GoType.String, GoType.String], a => DecryptAes((string)a[0]!, (string)a[1]!)));
        Add(GoFunc.Create("derivePassword", [GoType.Int, GoType.String, GoType.String, GoType.String, GoType.String],
            a => DerivePassword((uint)(long)a[0]!, (string)a[1]!, (string)a[2]!, (string)a[3]!, (string)a[4]!)));
    }

    // The keys ReuseKeys hands out: made on first use, once per process (PKCS#1 / SEC1 DER); one RSA key for every size.
    private static readonly Lazy<byte[]> SharedRsa2048 = new(() => { using var k = RSA.Create(2048); return k.ExportRSAPrivateKey(); });
    private static readonly Lazy<byte[]> SharedEcdsa = new(() => { using var k = ECDsa.Create(ECCurve.NamedCurves.nistP256); return k.ExportECPrivateKey(); });

    private static string GenPrivateKey(string type, bool reuseKeys)
    {
        switch (type)
        {
            case "":
            case "rsa":
                if (reuseKeys) return Pem("RSA PRIVATE KEY", SharedRsa2048.Value); // 2048 bits, not 4096: nobody uses this key
                using (var rsa = RSA.Create(4096)) return Pem("RSA PRIVATE KEY", rsa.ExportRSAPrivateKey());
            case "ecdsa":
                if (reuseKeys) return Pem("EC PRIVATE KEY", SharedEcdsa.Value);
                using (var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256)) return Pem("EC PRIVATE KEY", ec.ExportECPrivateKey());
            case "ed25519":
            case "dsa":
                throw new GoFuncException($"{type} keys are not supported by this engine; use rsa or ecdsa");
            default:
                return "Unknown type " + type;
        }
    }

    internal static string Pem(string label, byte[] der)
    {
        var b64 = Convert.ToBase64String(der);
        var sb = new StringBuilder();
        sb.Append("-----BEGIN ").Append(label).Append("-----\n");
        for (int i = 0; i < b64.Length; i += 64) sb.Append(b64, i, Math.Min(64, b64.Length - i)).Append('\n');
        sb.Append("-----END ").Append(label).Append("-----\n");
        return sb.ToString();
    }

    private static RSA LoadOrCreateKey(string? pem, bool reuseKeys)
    {
        if (pem is null && reuseKeys)
        {
            var shared = RSA.Create();
            shared.ImportRSAPrivateKey(SharedRsa2048.Value, out _);
            return shared;
        }
        var rsa = RSA.Create(2048);
        if (pem is not null) rsa.ImportFromPem(pem);
        return rsa;
    }

    private static SprigCertificate GenCA(string cn, int daysValid, string? keyPem, bool reuseKeys)
    {
        using var key = LoadOrCreateKey(keyPem, reuseKeys);
        var req = new CertificateRequest(new X500Name(cn).Value, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = DateTimeOffset.UtcNow;
        using var cert = req.CreateSelfSigned(now, now.AddDays(daysValid));
        return new SprigCertificate(Pem("CERTIFICATE", cert.RawData), Pem("RSA PRIVATE KEY", key.ExportRSAPrivateKey()));
    }

    private static SprigCertificate GenCert(string cn, List<object?>? ips, List<object?>? alternateNames, int daysValid, SprigCertificate? ca, string? keyPem, bool reuseKeys)
    {
        using var key = LoadOrCreateKey(keyPem, reuseKeys);
        var req = new CertificateRequest(new X500Name(cn).Value, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        bool anySan = false;
        foreach (var ip in ips ?? [])
        {
            if (ip is not string s || !IPAddress.TryParse(s, out var addr)) throw new GoFuncException($"error parsing ip: {ip}");
            san.AddIpAddress(addr);
            anySan = true;
        }
        foreach (var n in alternateNames ?? [])
        {
            if (n is not string s) throw new GoFuncException($"error processing alternate dns name: {n}");
            san.AddDnsName(s);
            anySan = true;
        }
        if (anySan) req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DigitalSignature, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = DateTimeOffset.UtcNow;
        X509Certificate2 cert;
        if (ca is null)
        {
            cert = req.CreateSelfSigned(now, now.AddDays(daysValid));
        }
        else
        {
            using var caCert = X509Certificate2.CreateFromPem(ca.Cert, ca.Key);
            using var caKey = caCert.GetRSAPrivateKey() ?? throw new GoFuncException("the CA key is not an RSA key");
            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7f;
            var notAfter = now.AddDays(daysValid);
            if (notAfter > caCert.NotAfter) notAfter = caCert.NotAfter;
            cert = req.Create(caCert.SubjectName, X509SignatureGenerator.CreateForRSA(caKey, RSASignaturePadding.Pkcs1), now, notAfter, serial);
        }
        using (cert)
        {
            return new SprigCertificate(Pem("CERTIFICATE", cert.RawData), Pem("RSA PRIVATE KEY", key.ExportRSAPrivateKey()));
        }
    }

    private sealed class X500Name(string cn)
    {
        public X500DistinguishedName Value { get; } = BuildName(cn);

        private static X500DistinguishedName BuildName(string cn)
        {
            var b = new X500DistinguishedNameBuilder();
            b.AddCommonName(cn);
            return b.Build();
        }
    }

    private static byte[] AesKey(string password)
    {
        var key = new byte[32];
        var p = Encoding.UTF8.GetBytes(password);
        Array.Copy(p, key, Math.Min(p.Length, 32));
        return key;
    }

    private static string EncryptAes(string password, string plaintext, Random? rng, object gate)
    {
        if (plaintext.Length == 0) return "";
        using var aes = Aes.Create();
        aes.Key = AesKey(password);
        var iv = SprigFunctions.RandBytes(rng, gate, 16);
        var ct = aes.EncryptCbc(Encoding.UTF8.GetBytes(plaintext), iv, PaddingMode.PKCS7);
        return Convert.ToBase64String([.. iv, .. ct]);
    }

    private static string DecryptAes(string password, string crypt64)
    {
        if (crypt64.Length == 0) return "";
        var data = Convert.FromBase64String(crypt64);
        if (data.Length < 16) throw new GoFuncException("ciphertext too short");
        using var aes = Aes.Create();
        aes.Key = AesKey(password);
        return Encoding.UTF8.GetString(aes.DecryptCbc(data.AsSpan(16), data.AsSpan(0, 16), PaddingMode.PKCS7));
    }

    private static readonly Dictionary<string, string[]> PasswordTemplates = new(StringComparer.Ordinal)
    {
        ["maximum"] = ["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        ["long"] = ["CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno", "CvccnoCvcvCvcv", "CvccCvcvnoCvcv", "CvccCvcvCvcvno", "CvcvnoCvccCvcv", "CvcvCvccnoCvcv", "CvcvCvccCvcvno", "CvcvnoCvcvCvcc", "CvcvCvcvnoCvcc", "CvcvCvcvCvccno", "CvccnoCvccCvcv", "CvccCvccnoCvcv", "CvccCvccCvcvno", "CvcvnoCvccCvcc", "CvcvCvccnoCvcc", "CvcvCvccCvccno", "CvccnoCvcvCvcc", "CvccCvcvnoCvcc", "CvccCvcvCvccno"],
        ["medium"] = ["CvcnoCvc", "CvcCvcno"],
        ["short"] = ["Cvcn"],
        ["basic"] = ["aaanaaan", "aannaaan", "aaannaaa"],
        ["pin"] = ["nnnn"],
    };

    private static readonly Dictionary<char, string> TemplateCharacters = new()
    {
        ['V'] = "AEIOU", ['C'] = "BCDFGHJKLMNPQRSTVWXYZ", ['v'] = "aeiou", ['c'] = "bcdfghjklmnpqrstvwxyz",
        ['A'] = "AEIOUBCDFGHJKLMNPQRSTVWXYZ", ['a'] = "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        ['n'] = "0123456789", ['o'] = "@&%?,=[]_:-+*$#!'^~;()/.", ['x'] = "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    };

    // Master Password algorithm (sprig derivePassword).
    private static string DerivePassword(uint counter, string passwordType, string password, string user, string site)
    {
        if (!PasswordTemplates.TryGetValue(passwordType, out var templates)) return "cannot find password template " + passwordType;
        const string ns = "com.lyndir.masterpassword";
        var salt = new List<byte>(Encoding.UTF8.GetBytes(ns));
        var userBytes = Encoding.UTF8.GetBytes(user);
        salt.AddRange(BigEndian((uint)userBytes.Length));
        salt.AddRange(userBytes);
        var masterKey = Rfc7914.Scrypt(Encoding.UTF8.GetBytes(password), salt.ToArray(), 32768, 8, 2, 64);
        var siteBytes = Encoding.UTF8.GetBytes(site);
        var seedInput = new List<byte>(Encoding.UTF8.GetBytes(ns));
        seedInput.AddRange(BigEndian((uint)siteBytes.Length));
        seedInput.AddRange(siteBytes);
        seedInput.AddRange(BigEndian(counter));
        var seed = HMACSHA256.HashData(masterKey, seedInput.ToArray());
        var template = templates[seed[0] % templates.Length];
        var sb = new StringBuilder();
        for (int i = 0; i < template.Length; i++)
        {
            var chars = TemplateCharacters[template[i]];
            sb.Append(chars[seed[i + 1] % chars.Length]);
        }
        return sb.ToString();
    }

    private static byte[] BigEndian(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
}

/// <summary>scrypt (RFC 7914), for derivePassword.</summary>
internal static class Rfc7914
{
    public static byte[] Scrypt(byte[] password, byte[] salt, int n, int r, int p, int dkLen)
    {
        var b = Rfc2898DeriveBytes.Pbkdf2(password, salt, 1, HashAlgorithmName.SHA256, p * 128 * r);
        var x = new uint[32 * r];
        var v = new uint[32 * r * n];
        var y = new uint[32 * r];
        for (int i = 0; i < p; i++)
        {
            int off = i * 128 * r;
            for (int k = 0; k < 32 * r; k++) x[k] = BitConverter.ToUInt32(b, off + k * 4);
            for (int k = 0; k < n; k++)
            {
                Array.Copy(x, 0, v, k * 32 * r, 32 * r);
                BlockMix(x, y, r);
            }
            for (int k = 0; k < n; k++)
            {
                int j = (int)(x[(2 * r - 1) * 16] & (uint)(n - 1));
                for (int q = 0; q < 32 * r; q++) x[q] ^= v[j * 32 * r + q];
                BlockMix(x, y, r);
            }
            for (int k = 0; k < 32 * r; k++) BitConverter.TryWriteBytes(b.AsSpan(off + k * 4), x[k]);
        }
        return Rfc2898DeriveBytes.Pbkdf2(password, b, 1, HashAlgorithmName.SHA256, dkLen);
    }

    private static void BlockMix(uint[] b, uint[] y, int r)
    {
        Span<uint> x = stackalloc uint[16];
        Span<uint> tmp = stackalloc uint[16];
        b.AsSpan((2 * r - 1) * 16, 16).CopyTo(x);
        for (int i = 0; i < 2 * r; i++)
        {
            for (int k = 0; k < 16; k++) x[k] ^= b[i * 16 + k];
            Salsa8(x, tmp);
            x.CopyTo(y.AsSpan(i * 16, 16));
        }
        for (int i = 0; i < r; i++) Array.Copy(y, (2 * i) * 16, b, i * 16, 16);
        for (int i = 0; i < r; i++) Array.Copy(y, (2 * i + 1) * 16, b, (i + r) * 16, 16);
    }

    private static uint R(uint a, int b) => (a << b) | (a >> (32 - b));

    private static void Salsa8(Span<uint> b, Span<uint> x)
    {
        b.CopyTo(x);
        for (int i = 0; i < 8; i += 2)
        {
            x[4] ^= R(x[0] + x[12], 7); x[8] ^= R(x[4] + x[0], 9); x[12] ^= R(x[8] + x[4], 13); x[0] ^= R(x[12] + x[8], 18);
            x[9] ^= R(x[5] + x[1], 7); x[13] ^= R(x[9] + x[5], 9); x[1] ^= R(x[13] + x[9], 13); x[5] ^= R(x[1] + x[13], 18);
            x[14] ^= R(x[10] + x[6], 7); x[2] ^= R(x[14] + x[10], 9); x[6] ^= R(x[2] + x[14], 13); x[10] ^= R(x[6] + x[2], 18);
            x[3] ^= R(x[15] + x[11], 7); x[7] ^= R(x[3] + x[15], 9); x[11] ^= R(x[7] + x[3], 13); x[15] ^= R(x[11] + x[7], 18);
            x[1] ^= R(x[0] + x[3], 7); x[2] ^= R(x[1] + x[0], 9); x[3] ^= R(x[2] + x[1], 13); x[0] ^= R(x[3] + x[2], 18);
            x[6] ^= R(x[5] + x[4], 7); x[7] ^= R(x[6] + x[5], 9); x[4] ^= R(x[7] + x[6], 13); x[5] ^= R(x[4] + x[7], 18);
            x[11] ^= R(x[10] + x[9], 7); x[8] ^= R(x[11] + x[10], 9); x[9] ^= R(x[8] + x[11], 13); x[10] ^= R(x[9] + x[8], 18);
            x[12] ^= R(x[15] + x[14], 7); x[13] ^= R(x[12] + x[15], 9); x[14] ^= R(x[13] + x[12], 13); x[15] ^= R(x[14] + x[13], 18);
        }
        for (int i = 0; i < 16; i++) b[i] += x[i];
    }
}
